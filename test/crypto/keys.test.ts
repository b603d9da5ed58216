import {Buffer} from 'node:buffer';
import {describe, it, expect} from 'vitest';
import {fingerprint, formatKey, generateKey, parseFingerprint} from '../../source/crypto/keys.js';

// SHA-256 of the bytes 0x00..0x1f, computed with Python's hashlib.
const bytes0to31 = '630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd';

describe('generateKey', () => {
	it('makes 32 lower-case hex characters', () => {
		expect(generateKey()).toMatch(/^[0-9a-f]{32}$/);
	});

	it('never repeats and uses every hex digit', () => {
		const keys = Array.from({length: 200}, () => generateKey());
		expect(new Set(keys).size).toBe(200);
		const digits = new Set(keys.join(''));
		expect(digits.size).toBe(16);
	});

	it('looks uniformly random', () => {
		const counts = new Map<string, number>();
		for (const digit of Array.from({length: 1000}, () => generateKey()).join('')) {
			counts.set(digit, (counts.get(digit) ?? 0) + 1);
		}
		// 32,000 digits, 2,000 expected each; seven standard deviations is about ±300.
		for (const count of counts.values()) {
			expect(count).toBeGreaterThan(1700);
			expect(count).toBeLessThan(2300);
		}
	});
});

describe('formatKey', () => {
	it.each([
		['abcd1234ef', 'abcd 1234 ef'],
		['abcd1234', 'abcd 1234'],
		['abc', 'abc'],
		['', ''],
		['abcd 1234 ef', 'abcd 1234 ef'],
		['  ab cd12\t34\nef  ', 'abcd 1234 ef'],
		['0123456789abcdef0123456789abcdef', '0123 4567 89ab cdef 0123 4567 89ab cdef'],
	])('formats %j as %j', (input, expected) => {
		expect(formatKey(input)).toBe(expected);
	});

	it('is idempotent', () => {
		const key = generateKey();
		expect(formatKey(formatKey(key))).toBe(formatKey(key));
		expect(formatKey(key).replace(/ /g, '')).toBe(key);
	});
});

describe('fingerprint', () => {
	it.each([
		['the empty key', Buffer.alloc(0), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
		['"abc" (FIPS 180-2)', Buffer.from('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
		['the bytes 0..31', Uint8Array.from({length: 32}, (_, index) => index), bytes0to31],
	])('hashes %s', (_name, key, expected) => {
		expect(fingerprint(key)).toBe(expected);
	});

	it('hashes only the viewed bytes of a Uint8Array', () => {
		const backing = Uint8Array.from({length: 40}, (_, index) => index - 4);
		expect(fingerprint(backing.subarray(4, 36))).toBe(bytes0to31);
	});

	it('is shown in groups of four', () => {
		expect(formatKey(bytes0to31)).toBe(
			'630d cd29 66c4 3366 9112 5448 bbb2 5b4f f412 a49c 732d b2c8 abc1 b858 1bd7 10dd',
		);
	});
});

describe('parseFingerprint', () => {
	it.each([
		['the canonical form', bytes0to31],
		['upper case', bytes0to31.toUpperCase()],
		['groups of four', formatKey(bytes0to31)],
		['surrounding and repeated whitespace', `  ${formatKey(bytes0to31).replace(/ /g, '  \t')}\n`],
		['colon-separated bytes', bytes0to31.match(/../g)!.join(':')],
		['upper-case colon-separated bytes', bytes0to31.toUpperCase().match(/../g)!.join(':')],
	])('accepts %s', (_name, text) => {
		expect(parseFingerprint(text)).toBe(bytes0to31);
	});

	it.each([
		['empty', ''],
		['63 digits', bytes0to31.slice(1)],
		['65 digits', bytes0to31 + '0'],
		['a non-hex letter', 'g' + bytes0to31.slice(1)],
		['a dash separator', bytes0to31.match(/.{4}/g)!.join('-')],
		['a SHA256: prefix', `SHA256:${bytes0to31}`],
		['base64', Buffer.from(bytes0to31, 'hex').toString('base64')],
		['not a string', 42],
	])('rejects %s', (_name, text) => {
		expect(parseFingerprint(text as string)).toBeUndefined();
	});

	it('round-trips what fingerprint and formatKey show', () => {
		const shown = formatKey(fingerprint(Buffer.from('some relay key')));
		expect(parseFingerprint(shown)).toBe(fingerprint(Buffer.from('some relay key')));
	});
});
