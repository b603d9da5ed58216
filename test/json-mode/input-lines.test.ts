import {describe, expect, test} from 'vitest';
import {InputLines} from '../../source/json-mode/input-lines.js';

const bytes = (text: string) => Buffer.from(text);

describe('InputLines: bounded lines from stdin', () => {
	test('splits at line feeds, across chunks, and drops a carriage return before one', () => {
		const lines = new InputLines(100);
		expect(lines.push(bytes('{"a":1}\n{"b"'))).toEqual([{type: 'line', text: '{"a":1}'}]);
		expect(lines.push(bytes(':2}\r\n\n'))).toEqual([
			{type: 'line', text: '{"b":2}'},
			{type: 'line', text: ''},
		]);
		expect(lines.push(bytes('last'))).toEqual([]);
		expect(lines.end()).toEqual([{type: 'line', text: 'last'}]);
	});

	test('a line over the bound is reported once, as soon as it passes it, and skipped to its end', () => {
		const lines = new InputLines(8);
		expect(lines.push(bytes('12345'))).toEqual([]);
		expect(lines.push(bytes('6789'))).toEqual([{type: 'too_long'}]);
		expect(lines.push(bytes('x'.repeat(10_000)))).toEqual([]);
		expect(lines.push(bytes('yy\nok\n'))).toEqual([{type: 'line', text: 'ok'}]);
		expect(lines.push(bytes('12345678\n'))).toEqual([{type: 'line', text: '12345678'}]);
	});

	test('a 1 MiB line in one chunk, then a good one', () => {
		const lines = new InputLines();
		expect(lines.push(Buffer.concat([Buffer.alloc(1024 * 1024, 0x41), bytes('\n{"type":"who"}\n')]))).toEqual([
			{type: 'too_long'},
			{type: 'line', text: '{"type":"who"}'},
		]);
	});

	test('the end of input inside a line too long gives nothing more', () => {
		const lines = new InputLines(4);
		expect(lines.push(bytes('123456'))).toEqual([{type: 'too_long'}]);
		expect(lines.end()).toEqual([]);
	});

	test('broken UTF-8 becomes replacement characters, never an exception', () => {
		const lines = new InputLines();
		expect(lines.push(Buffer.from([0xff, 0xfe, 0xc3, 0x0a]))).toEqual([{type: 'line', text: '\ufffd\ufffd\ufffd'}]);
	});
});
