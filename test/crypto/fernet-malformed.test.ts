import {Buffer} from 'node:buffer';
import {createCipheriv, createHmac} from 'node:crypto';
import {describe, it, expect} from 'vitest';
import {codeOf, fernet, key, padded, time} from './fernet-kit.js';

/** A correctly signed token around raw (already padded) blocks, to reach the checks after the MAC. */
function signedToken(blocks: Buffer, options: {version?: number; timestamp?: number} = {}): string {
	const header = Buffer.alloc(25);
	header[0] = options.version ?? 0x80;
	header.writeBigUInt64BE(BigInt(options.timestamp ?? time), 1);
	const iv = header.subarray(9);
	const cipher = createCipheriv('aes-128-cbc', key.subarray(16), iv).setAutoPadding(false);
	const body = Buffer.concat([header, cipher.update(blocks), cipher.final()]);
	return padded(Buffer.concat([body, createHmac('sha256', key.subarray(0, 16)).update(body).digest()]));
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const good = fernet.encrypt('hello', {timeSeconds: time, iv: new Uint8Array(16).fill(0x42)});
const goodBytes = Buffer.from(good, 'base64url');
const longBytes = Buffer.from(fernet.encrypt('x'.repeat(40)), 'base64url');
const lastDataChar = good.replace(/=+$/, '').length - 1;
const nonCanonical = good.slice(0, lastDataChar) + alphabet[alphabet.indexOf(good[lastDataChar]!) ^ 1] + good.slice(lastDataChar + 1);

function withByte(offset: number, value: number): string {
	const copy = Buffer.from(goodBytes);
	copy[offset] = value;
	return padded(copy);
}

describe('Fernet malformed tokens', () => {
	const malformed: Array<[string, unknown, RegExp]> = [
		['empty string', '', /shorter than the minimum 73/],
		['only padding', '====', /misplaced padding/],
		['one byte', 'gA==', /shorter than the minimum/],
		['not base64 at all', 'this is not a token!', /invalid character at index 4/],
		['standard base64 characters', '+/' + good.slice(2), /invalid character at index 0/],
		['missing padding', good.replace(/=+$/, ''), /multiple of 4/],
		['extra padding', good + '==', /misplaced padding/],
		['padding in the middle', good.slice(0, 8) + '==' + good.slice(10), /misplaced padding at index 8/],
		['a line feed inside', good.slice(0, 20) + '\n' + good.slice(20), /invalid character at index 20/],
		['trailing space', good + ' ', /invalid character/],
		['non-ASCII characters', good.slice(0, -4) + 'é==', /invalid character/],
		['non-canonical trailing bits', nonCanonical, /non-canonical/],
		['wrong version byte', withByte(0, 0x81), /unknown version 0x81/],
		['version 0', withByte(0, 0), /unknown version 0x00/],
		['altered timestamp', withByte(8, goodBytes[8]! ^ 1), /HMAC/],
		['altered IV', withByte(9, goodBytes[9]! ^ 1), /HMAC/],
		['altered ciphertext', withByte(30, goodBytes[30]! ^ 0x80), /HMAC/],
		['altered MAC', withByte(goodBytes.length - 1, goodBytes[goodBytes.length - 1]! ^ 1), /HMAC/],
		['truncated by one block', padded(longBytes.subarray(0, longBytes.length - 16)), /HMAC/],
		['no ciphertext, 57 bytes', padded(goodBytes.subarray(0, 57)), /shorter than the minimum/],
		['72 bytes', padded(goodBytes.subarray(0, 72)), /shorter than the minimum/],
		['one byte appended', padded(Buffer.concat([goodBytes, Buffer.from([0])])), /multiple of 16/],
		['signed, empty ciphertext', signedToken(Buffer.alloc(0)), /shorter than the minimum/],
		['signed, padding byte 0', signedToken(Buffer.alloc(16, 0)), /padding/],
		['signed, padding byte 17', signedToken(Buffer.alloc(16, 17)), /padding/],
		['signed, inconsistent padding', signedToken(Buffer.from('hello world!\x04\x04\x03\x04')), /padding/],
		['signed, wrong version', signedToken(Buffer.alloc(16, 16), {version: 0x81}), /version 0x81/],
		['huge run of A (3 MB of zeros)', 'A'.repeat(4_000_000), /version 0x00/],
		['huge token-shaped string', 'gAAAAA' + 'B'.repeat(4_000_070), /HMAC/],
		['huge string, one bad character at the end', 'A'.repeat(3_999_999) + '*', /invalid character at index 3999999/],
		['undefined', undefined, /expected a string, got undefined/],
		['null', null, /expected a string, got null/],
		['a number', 42, /expected a string, got number/],
		['a Buffer', goodBytes, /expected a string, got object/],
	];

	// Time limits wide enough for any 64-bit timestamp: the time check runs on the garbage but never fires.
	const everyTime = {ttlSeconds: 2 ** 64, nowSeconds: time, maxClockSkewSeconds: 2 ** 64};

	it.each(malformed)('%s → invalid_token', (_name, token, reason) => {
		expect(codeOf(() => fernet.decrypt(token as string))).toBe('invalid_token');
		expect(codeOf(() => fernet.decrypt(token as string, everyTime))).toBe('invalid_token');
		expect(() => fernet.decrypt(token as string)).toThrow(reason);
	});

	it('builds the non-canonical case from the same bytes as the good token', () => {
		expect(nonCanonical).not.toBe(good);
		expect(Buffer.from(nonCanonical, 'base64url')).toEqual(goodBytes);
	});

	it('checks the ciphertext length even when the MAC would match', () => {
		const header = Buffer.alloc(25);
		header[0] = 0x80;
		const body = Buffer.concat([header, Buffer.alloc(17)]);
		const token = padded(Buffer.concat([body, createHmac('sha256', key.subarray(0, 16)).update(body).digest()]));
		expect(codeOf(() => fernet.decrypt(token))).toBe('invalid_token');
	});

	it('still decrypts the unaltered token', () => {
		expect(fernet.decrypt(good).toString()).toBe('hello');
	});
});
