import {Buffer} from 'node:buffer';
import {describe, expect, it} from 'vitest';
import {lp, maxPartBytes} from '../../source/crypto/length-prefix.js';

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
