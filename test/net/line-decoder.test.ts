import {describe, expect, it} from 'vitest';
import {ProtocolError} from '../../source/net/error-codes.js';
import {LineDecoder} from '../../source/net/line-decoder.js';

function codeOf(action: () => unknown): string | undefined {
	try {
		action();
	} catch (error) {
		return (error as ProtocolError).code;
	}
	return undefined;
}

describe('LineDecoder', () => {
	it('splits frames at line feeds, across chunks, keeping the rest for later', () => {
		const decoder = new LineDecoder(100);
		expect(decoder.push(Buffer.from('one\ntw'))).toEqual(['one']);
		expect(decoder.bufferedBytes).toBe(2);
		expect(decoder.push(Buffer.from('o'))).toEqual([]);
		expect(decoder.push(Buffer.from('\nthree\n\nfour'))).toEqual(['two', 'three', '']);
		expect(decoder.bufferedBytes).toBe(4);
	});

	it('decodes a multi-byte character split between chunks', () => {
		const decoder = new LineDecoder(100);
		const bytes = Buffer.from('é✓\n');
		expect(decoder.push(bytes.subarray(0, 1))).toEqual([]);
		expect(decoder.push(bytes.subarray(1))).toEqual(['é✓']);
	});

	it('accepts a frame of exactly maxFrameBytes', () => {
		const decoder = new LineDecoder(8);
		expect(decoder.push(Buffer.from('12345678\n'))).toEqual(['12345678']);
	});

	it('throws frame_too_large as soon as a frame passes the limit, without waiting for the newline', () => {
		const decoder = new LineDecoder(8);
		expect(decoder.push(Buffer.from('1234'))).toEqual([]);
		expect(codeOf(() => decoder.push(Buffer.from('56789')))).toBe('frame_too_large');
		expect(decoder.bufferedBytes).toBe(0);
	});

	it('throws frame_too_large for a long complete line in one chunk', () => {
		expect(codeOf(() => new LineDecoder(4).push(Buffer.from('12345\n')))).toBe('frame_too_large');
	});

	it('holds at most maxFrameBytes while bytes trickle in one at a time', () => {
		const decoder = new LineDecoder(16);
		for (let i = 0; i < 16; i++) decoder.push(Buffer.from('x'));
		expect(decoder.bufferedBytes).toBe(16);
		expect(codeOf(() => decoder.push(Buffer.from('x')))).toBe('frame_too_large');
	});

	it('holds a trickled frame in one buffer: at most twice its bytes or 1 KiB, not an object per read (issue 11, finding 2)', () => {
		const decoder = new LineDecoder(262_144);
		let sent = 0;
		for (let i = 0; i < 100_000; i++) {
			decoder.push(Buffer.from([0x61 + (i % 26)]));
			sent += 1;
			expect(decoder.heldBytes).toBeLessThanOrEqual(Math.max(1024, 2 * sent));
		}
		const [frame] = decoder.push(Buffer.from('\n'));
		expect(frame).toHaveLength(100_000);
		expect(frame!.slice(0, 3)).toBe('abc');
		expect(decoder.heldBytes).toBe(0);
	});

	it('applies a new limit to the frames that follow', () => {
		const decoder = new LineDecoder(8);
		expect(codeOf(() => decoder.push(Buffer.from('123456789\n')))).toBe('frame_too_large');
		decoder.setLimit(16);
		expect(decoder.push(Buffer.from('123456789\n'))).toEqual(['123456789']);
	});
});
