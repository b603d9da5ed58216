import {Buffer} from 'node:buffer';
import {randomBytes} from 'node:crypto';
import {describe, it, expect} from 'vitest';
import {Fernet, FernetError, generateFernetKey} from '../../source/crypto/fernet.js';
import {codeOf, fernet, key, padded, time} from './fernet-kit.js';

const good = fernet.encrypt('hello', {timeSeconds: time});

describe('Fernet keys', () => {
	it.each([0, 16, 31, 33, 64])('rejects a %i-byte key with a TypeError', length => {
		expect(() => new Fernet(new Uint8Array(length))).toThrow(TypeError);
		expect(() => new Fernet(new Uint8Array(length))).toThrow(`a Fernet key is 32 bytes, got ${length} bytes`);
	});

	it('rejects a key that is not bytes', () => {
		expect(() => new Fernet('x'.repeat(32) as unknown as Uint8Array)).toThrow(TypeError);
	});

	it('reads the padded base64url key of the spec vectors', () => {
		const fromText = Fernet.fromBase64Key(padded(key));
		expect(fromText.decrypt(good).toString()).toBe('hello');
	});

	it.each([
		['unpadded', padded(key).replace(/=$/, '')],
		['standard alphabet', Buffer.from(Array.from({length: 32}, () => 0xfb)).toString('base64')],
		['31 bytes', padded(key.subarray(0, 31))],
		['33 bytes', padded(Buffer.concat([key, Buffer.from([1])]))],
		['empty', ''],
	])('fromBase64Key rejects a %s key without echoing it', (_name, text) => {
		expect(() => Fernet.fromBase64Key(text)).toThrow(TypeError);
		try {
			Fernet.fromBase64Key(text);
		} catch (error) {
			if (text.length > 4) {
				expect((error as Error).message).not.toContain(text.slice(0, 8));
			}
		}
	});

	it('generates 44-character padded keys of 32 random bytes', () => {
		const keys = new Set(Array.from({length: 50}, () => generateFernetKey()));
		expect(keys.size).toBe(50);
		for (const text of keys) {
			expect(text).toMatch(/^[A-Za-z0-9_-]{43}=$/);
			expect(Buffer.from(text, 'base64url')).toHaveLength(32);
			const fresh = Fernet.fromBase64Key(text);
			expect(fresh.decrypt(fresh.encrypt('x')).toString()).toBe('x');
		}
	});

	it('rejects a token made with another key', () => {
		const other = new Fernet(randomBytes(32));
		expect(codeOf(() => other.decrypt(good))).toBe('invalid_token');
		expect(codeOf(() => fernet.decrypt(other.encrypt('hello')))).toBe('invalid_token');
	});

	it('rejects a token whose signing half matches but encryption half does not', () => {
		const swapped = Buffer.from(key);
		swapped.fill(0xee, 16);
		const token = new Fernet(swapped).encrypt('x'.repeat(40));
		let result: string;
		try {
			result = fernet.decrypt(token).toString('latin1');
		} catch (error) {
			result = (error as FernetError).code;
		}
		expect(result).not.toBe('x'.repeat(40));
	});

	it('does not show its key when inspected', async () => {
		const {inspect} = await import('node:util');
		expect(inspect(fernet, {showHidden: true, depth: 5})).not.toContain(key.subarray(0, 16).toString('hex').slice(0, 8));
		expect(JSON.stringify(fernet)).toBe('{}');
	});
});

describe('Fernet timestamps', () => {
	const token = fernet.encrypt('tick', {timeSeconds: 1000});

	it('accepts a token exactly ttl seconds old and expires it one second later', () => {
		expect(fernet.decrypt(token, {ttlSeconds: 60, nowSeconds: 1060}).toString()).toBe('tick');
		expect(codeOf(() => fernet.decrypt(token, {ttlSeconds: 60, nowSeconds: 1061}))).toBe('expired');
	});

	it('allows 60 s of clock skew by default and no more', () => {
		expect(fernet.decrypt(token, {ttlSeconds: 60, nowSeconds: 940}).toString()).toBe('tick');
		expect(codeOf(() => fernet.decrypt(token, {ttlSeconds: 60, nowSeconds: 939}))).toBe('future_token');
	});

	it('takes a custom clock skew', () => {
		expect(codeOf(() => fernet.decrypt(token, {ttlSeconds: 60, nowSeconds: 999, maxClockSkewSeconds: 0}))).toBe('future_token');
		expect(fernet.decrypt(token, {ttlSeconds: 60, nowSeconds: 0, maxClockSkewSeconds: 1000}).toString()).toBe('tick');
	});

	it('checks no time at all without a ttl', () => {
		expect(fernet.decrypt(token).toString()).toBe('tick');
		expect(fernet.decrypt(token, {nowSeconds: 10_000_000_000}).toString()).toBe('tick');
		expect(fernet.decrypt(token, {nowSeconds: 0, maxClockSkewSeconds: 0}).toString()).toBe('tick');
		const queuedForAWeek = fernet.encrypt('late', {timeSeconds: Math.floor(Date.now() / 1000) - 7 * 86_400});
		expect(fernet.decrypt(queuedForAWeek).toString()).toBe('late');
	});

	it('uses the real clock when a ttl is given without now', () => {
		const fresh = fernet.encrypt('now');
		expect(fernet.decrypt(fresh, {ttlSeconds: 5}).toString()).toBe('now');
		expect(codeOf(() => fernet.decrypt(token, {ttlSeconds: 5}))).toBe('expired');
	});

	it('checks the timestamp before the MAC, as the spec orders it', () => {
		const bytes = Buffer.from(token, 'base64url');
		bytes[bytes.length - 1]! ^= 1;
		expect(codeOf(() => fernet.decrypt(padded(bytes), {ttlSeconds: 60, nowSeconds: 5000}))).toBe('expired');
		expect(codeOf(() => fernet.decrypt(padded(bytes), {ttlSeconds: 60, nowSeconds: 1000}))).toBe('invalid_token');
	});

	it('writes 64-bit big-endian timestamps', () => {
		const far = 2 ** 40 + 5;
		const bytes = Buffer.from(fernet.encrypt('x', {timeSeconds: far}), 'base64url');
		expect(bytes.readBigUInt64BE(1)).toBe(BigInt(far));
		expect(fernet.decrypt(padded(bytes), {ttlSeconds: 0, nowSeconds: far}).toString()).toBe('x');
		expect(Buffer.from(fernet.encrypt('x', {timeSeconds: 0}), 'base64url').readBigUInt64BE(1)).toBe(0n);
	});

	it('stamps the current time by default', () => {
		const before = Math.floor(Date.now() / 1000);
		const stamp = Number(Buffer.from(fernet.encrypt('x'), 'base64url').readBigUInt64BE(1));
		expect(stamp).toBeGreaterThanOrEqual(before);
		expect(stamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
	});

	it.each([-1, 1.5, Number.NaN, 2 ** 53])('rejects timeSeconds %s', timeSeconds => {
		expect(() => fernet.encrypt('x', {timeSeconds})).toThrow(TypeError);
	});

	it('rejects nonsense time options with a TypeError', () => {
		expect(() => fernet.decrypt(token, {ttlSeconds: -1})).toThrow(TypeError);
		expect(() => fernet.decrypt(token, {ttlSeconds: Number.NaN})).toThrow(TypeError);
		expect(() => fernet.decrypt(token, {ttlSeconds: 1, nowSeconds: Number.NaN})).toThrow(TypeError);
		expect(() => fernet.decrypt(token, {ttlSeconds: 1, maxClockSkewSeconds: -5})).toThrow(TypeError);
	});
});

describe('Fernet round trips', () => {
	it('keeps every byte value', () => {
		const all = Buffer.from(Array.from({length: 256}, (_, index) => index));
		expect(fernet.decrypt(fernet.encrypt(all))).toEqual(all);
	});

	it('round-trips every length from 0 to 64 bytes with the right token size', () => {
		for (let length = 0; length <= 64; length++) {
			const plaintext = randomBytes(length);
			const token = fernet.encrypt(plaintext);
			expect(Buffer.from(token, 'base64url')).toHaveLength(25 + (Math.floor(length / 16) + 1) * 16 + 32);
			expect(token.length % 4).toBe(0);
			expect(fernet.decrypt(token)).toEqual(plaintext);
		}
	});

	it('round-trips an empty plaintext', () => {
		expect(fernet.decrypt(fernet.encrypt(new Uint8Array(0)))).toHaveLength(0);
		expect(fernet.decrypt(fernet.encrypt(''))).toHaveLength(0);
	});

	it('round-trips a megabyte', () => {
		const big = randomBytes(1 << 20);
		expect(fernet.decrypt(fernet.encrypt(big)).equals(big)).toBe(true);
	});

	it('encrypts only the viewed bytes of a Uint8Array view', () => {
		const backing = new Uint8Array([9, 9, 1, 2, 3, 9, 9]);
		expect([...fernet.decrypt(fernet.encrypt(backing.subarray(2, 5)))]).toEqual([1, 2, 3]);
	});

	it('encrypts strings as UTF-8', () => {
		const text = 'héllo 🙂 \u0000 end';
		const plaintext = fernet.decrypt(fernet.encrypt(text));
		expect(plaintext).toEqual(Buffer.from(text, 'utf8'));
		expect(plaintext.toString('utf8')).toBe(text);
	});

	it('uses a fresh IV per token, across refills of the IV pool', () => {
		const ivs = Array.from({length: 1000}, () => Buffer.from(fernet.encrypt('same', {timeSeconds: time}), 'base64url').subarray(9, 25).toString('hex'));
		expect(new Set(ivs).size).toBe(1000);
	});

	it('is deterministic given the IV and time', () => {
		const iv = new Uint8Array(16).fill(3);
		expect(fernet.encrypt('same', {iv, timeSeconds: time})).toBe(fernet.encrypt('same', {iv, timeSeconds: time}));
	});

	it.each([0, 8, 15, 17, 32])('rejects an IV of %i bytes', length => {
		expect(() => fernet.encrypt('x', {iv: new Uint8Array(length)})).toThrow(TypeError);
	});

	it('rejects a plaintext that is neither bytes nor a string', () => {
		expect(() => fernet.encrypt(42 as unknown as string)).toThrow(TypeError);
	});

	it('returns a Buffer', () => {
		expect(Buffer.isBuffer(fernet.decrypt(good))).toBe(true);
	});
});

describe('FernetError', () => {
	it('is an Error with a name and a stable code', () => {
		const error = new FernetError('expired', 'too old');
		expect(error).toBeInstanceOf(Error);
		expect(error.name).toBe('FernetError');
		expect(error.code).toBe('expired');
		expect(error.message).toBe('too old');
	});
});
