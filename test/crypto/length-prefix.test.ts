import {Buffer} from 'node:buffer';
import {describe, expect, it} from 'vitest';
import {lp, maxPartBytes, u64be} from '../../source/crypto/length-prefix.js';

describe('lp', () => {
	it('prefixes each part with its length in two bytes big-endian', () => {
		expect(lp('ab').toString('hex')).toBe('00026162');
		expect(lp(Buffer.from([1, 2, 3]), '', 'é').toString('hex')).toBe('0003010203' + '0000' + '0002c3a9');
		expect(lp()).toEqual(Buffer.alloc(0));
	});

	it('takes typed arrays as their own bytes, not their backing buffer', () => {
		const backing = new Uint8Array([9, 9, 1, 2, 9]);
		expect(lp(backing.subarray(2, 4)).toString('hex')).toBe('00020102');
	});

	it('counts UTF-8 bytes, not characters', () => {
		expect(lp('🙂').subarray(0, 2).readUInt16BE(0)).toBe(4);
	});

	it('keeps concatenations unambiguous', () => {
		expect(lp('ab', 'c')).not.toEqual(lp('a', 'bc'));
	});

	it('takes 65,535 bytes and refuses one more with a RangeError', () => {
		const largest = lp(Buffer.alloc(maxPartBytes, 7));
		expect(largest.length).toBe(maxPartBytes + 2);
		expect(largest.subarray(0, 2).toString('hex')).toBe('ffff');
		expect(() => lp('x', Buffer.alloc(maxPartBytes + 1))).toThrow(RangeError);
		expect(() => lp('x'.repeat(maxPartBytes + 1))).toThrow(RangeError);
	});

	it('refuses parts that are neither strings nor bytes', () => {
		expect(() => lp(42 as unknown as string)).toThrow(TypeError);
	});
});

describe('u64be', () => {
	it('writes a safe integer as 8 bytes big-endian', () => {
		expect(u64be(0).toString('hex')).toBe('0000000000000000');
		expect(u64be(257).toString('hex')).toBe('0000000000000101');
		expect(u64be(2 ** 32).toString('hex')).toBe('0000000100000000');
		expect(u64be(1_767_225_600_123).toString('hex')).toBe(1_767_225_600_123n.toString(16).padStart(16, '0'));
		expect(u64be(Number.MAX_SAFE_INTEGER).toString('hex')).toBe('001fffffffffffff');
	});

	it('refuses negatives, fractions and 2^53 with a RangeError', () => {
		for (const value of [-1, 0.5, 2 ** 53, Number.NaN, Infinity]) expect(() => u64be(value)).toThrow(RangeError);
	});
});
