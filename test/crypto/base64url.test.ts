import {Buffer} from 'node:buffer';
import {randomBytes} from 'node:crypto';
import fc from 'fast-check';
import {describe, it, expect} from 'vitest';
import {fromBase64Url, fromBase64UrlPadded, toBase64Url, toBase64UrlPadded} from '../../source/crypto/base64url.js';

describe('toBase64Url', () => {
	it.each([
		['', ''],
		['f', 'Zg'],
		['fo', 'Zm8'],
		['foo', 'Zm9v'],
		['foob', 'Zm9vYg'],
		['fooba', 'Zm9vYmE'],
		['foobar', 'Zm9vYmFy'],
	])('encodes the RFC 4648 vector %j as %j', (text, expected) => {
		expect(toBase64Url(Buffer.from(text))).toBe(expected);
		expect(fromBase64Url(expected).toString()).toBe(text);
	});

	it('uses - and _ and never pads', () => {
		expect(toBase64Url(Uint8Array.from([0xfb, 0xff, 0xbf]))).toBe('-_-_');
		expect(toBase64Url(Uint8Array.from([0xff]))).toBe('_w');
	});

	it('encodes only the viewed bytes of a Uint8Array', () => {
		const backing = Uint8Array.from([1, 2, 3, 4, 5]);
		expect(toBase64Url(backing.subarray(1, 4))).toBe(Buffer.from([2, 3, 4]).toString('base64url'));
	});

	it('round-trips random bytes of every length up to 100', () => {
		for (let length = 0; length <= 100; length++) {
			const bytes = randomBytes(length);
			expect(fromBase64Url(toBase64Url(bytes), length)).toEqual(bytes);
			expect(fromBase64UrlPadded(toBase64UrlPadded(bytes), length)).toEqual(bytes);
			expect(toBase64UrlPadded(bytes)).toBe(bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_'));
		}
	});
});

describe('fromBase64Url is strict', () => {
	it.each([
		['padding', 'Zg==', /padding/],
		['one padding character', 'Zm8=', /padding/],
		['standard alphabet +', 'Zm+v', /invalid character at index 2/],
		['standard alphabet /', 'Zm/v', /invalid character at index 2/],
		['a space', 'Zm9v Yg', /invalid character at index 4/],
		['a line feed', 'Zm9v\n', /invalid character at index 4/],
		['non-ASCII', 'Zm9vé', /invalid character at index 4/],
		['a NUL', 'Zm9v\u0000', /invalid character/],
		['an impossible length', 'Zm9vY', /cannot encode whole bytes/],
		['one character', 'A', /cannot encode whole bytes/],
		['trailing bits set after one byte', 'Zh', /non-canonical/],
		['trailing bits set after two bytes', 'Zm9', /non-canonical/],
		['all trailing bits set', '__', /non-canonical/],
	])('rejects %s with a TypeError', (_name, text, reason) => {
		expect(() => fromBase64Url(text)).toThrow(TypeError);
		expect(() => fromBase64Url(text)).toThrow(reason);
	});

	it('rejects any decoded length other than the expected one', () => {
		const key = toBase64Url(new Uint8Array(32));
		expect(fromBase64Url(key, 32)).toHaveLength(32);
		expect(() => fromBase64Url(key, 31)).toThrow(new TypeError('base64url: expected 31 bytes, got 32'));
		expect(() => fromBase64Url(key + 'A', 32)).toThrow('expected 32 bytes, got 33');
		expect(() => fromBase64Url('', 32)).toThrow('expected 32 bytes, got 0');
		expect(() => fromBase64Url(toBase64Url(new Uint8Array(64)), 32)).toThrow('got 64');
	});

	it('accepts the empty string as zero bytes', () => {
		expect(fromBase64Url('')).toHaveLength(0);
	});

	it('decodes every alphabet character to its value', () => {
		const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
		const bytes = fromBase64Url(alphabet);
		expect(toBase64Url(bytes)).toBe(alphabet);
		// Sextets 0, 1, 2, ... 63 packed big-endian: 000000 000001 000010 000011 → 00 10 83, and so on.
		expect(bytes.toString('hex')).toBe(
			'00108310518720928b30d38f41149351559761969b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3dfbf',
		);
	});

	it('accepts canonical last characters and rejects every non-canonical one', () => {
		const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
		for (const [index, character] of [...alphabet].entries()) {
			const twoBytes = () => fromBase64Url(`AA${character}`);
			const oneByte = () => fromBase64Url(`A${character}`);
			if (index % 4 === 0) {
				expect(twoBytes()).toHaveLength(2);
			} else {
				expect(twoBytes).toThrow(/non-canonical/);
			}
			if (index % 16 === 0) {
				expect(oneByte()).toHaveLength(1);
			} else {
				expect(oneByte).toThrow(/non-canonical/);
			}
		}
	});

	it('rejects a value that is not a string', () => {
		expect(() => fromBase64Url(undefined as unknown as string)).toThrow(TypeError);
		expect(() => fromBase64Url(Buffer.from('Zg') as unknown as string)).toThrow(TypeError);
	});
});

describe('fromBase64UrlPadded is strict', () => {
	it.each([
		['missing padding', 'Zg', /multiple of 4/],
		['half the padding', 'Zg=', /multiple of 4/],
		['three padding characters', 'Z===', /misplaced padding/],
		['only padding', '====', /misplaced padding/],
		['padding in the middle', 'Zg==Zm9v', /misplaced padding at index 2/],
		['padding after a full quantum', 'Zm9v====', /misplaced padding/],
		['standard alphabet', 'Zm+v', /invalid character at index 2/],
		['a space after the padding', 'Zg== ', /invalid character at index 4/],
		['trailing bits set', 'Zh==', /non-canonical/],
		['trailing bits set, one pad', 'Zm9=', /non-canonical/],
	])('rejects %s with a TypeError', (_name, text, reason) => {
		expect(() => fromBase64UrlPadded(text)).toThrow(TypeError);
		expect(() => fromBase64UrlPadded(text)).toThrow(reason);
	});

	it('decodes padded text and checks the length', () => {
		expect(fromBase64UrlPadded('Zm9vYg==').toString()).toBe('foob');
		expect(fromBase64UrlPadded('Zm9vYmE=').toString()).toBe('fooba');
		expect(fromBase64UrlPadded('Zm9vYmFy', 6).toString()).toBe('foobar');
		expect(() => fromBase64UrlPadded('Zm9vYmE=', 6)).toThrow('expected 6 bytes, got 5');
	});
});

describe('fromBase64UrlPadded on any text', () => {
	// The reference: the canonical padded base64url of the bytes it decodes to, and nothing else.
	const canonical = (text: string) => {
		if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
		const bytes = Buffer.from(text, 'base64url');
		return toBase64UrlPadded(bytes) === text ? bytes : undefined;
	};
	const alphabet = fc.constantFrom(...'AQZaqz09-_+/= !é\n'.split(''), 'A', 'g', 'w');

	it('accepts exactly the canonical encodings, and decodes them to the same bytes', () => {
		fc.assert(
			fc.property(fc.array(alphabet, {maxLength: 24}).map(chars => chars.join('')), text => {
				const expected = canonical(text);
				if (expected === undefined) expect(() => fromBase64UrlPadded(text)).toThrow(TypeError);
				else expect(fromBase64UrlPadded(text)).toEqual(expected);
			}),
			{numRuns: 20_000},
		);
	});

	it('accepts every encoding of random bytes, and refuses each one with a character changed to one outside the alphabet', () => {
		fc.assert(
			fc.property(fc.uint8Array({minLength: 1, maxLength: 300}), fc.nat(), fc.constantFrom('+', '/', '!', ' ', 'é'), (bytes, at, bad) => {
				const text = toBase64UrlPadded(bytes);
				expect(fromBase64UrlPadded(text)).toEqual(Buffer.from(bytes));
				const index = at % text.replace(/=+$/, '').length;
				expect(() => fromBase64UrlPadded(text.slice(0, index) + bad + text.slice(index + 1))).toThrow(TypeError);
			}),
			{numRuns: 5000},
		);
	});
});
