import {describe, expect, test} from 'vitest';
import {encodeLine} from '../../source/json-mode/encode-line.js';

describe('encodeLine', () => {
	test('one line, no control character left raw, the text intact once parsed', () => {
		const text = 'a\nb\r\u001b[2J\u0007\u007f\u009b31m\u0085\u2028\u2029\u0000 ✓ é 😀';
		const line = encodeLine({type: 'event', event: 'message', text});
		expect(line.endsWith('\n')).toBe(true);
		expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
		expect(line).toContain(String.raw`\u001b[2J`);
		expect(line).toContain(String.raw`\u009b31m`);
		expect(line).toContain(String.raw`\u2028`);
		expect(JSON.parse(line)).toEqual({type: 'event', event: 'message', text});
	});
});
