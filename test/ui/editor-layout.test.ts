import fc from 'fast-check';
import {describe, expect, test} from 'vitest';
import {editorRows} from '../../source/components/line-editor/editor-layout.js';

/** Rows as text, the cursor shown as [x]. */
const rows = (value: string, cursor: number, first: number, width: number, max = 10) =>
	editorRows(value, cursor, first, width, max).rows.map(row => `${row.before}${row.cursor === undefined ? '' : `[${row.cursor}]`}${row.after}`);

describe('editorRows', () => {
	test('the cursor is the cell it stands on, or a space at the end', () => {
		expect(rows('hello', 1, 20, 20)).toEqual(['h[e]llo']);
		expect(rows('hello', 5, 20, 20)).toEqual(['hello[ ]']);
	});

	test('long text breaks into rows of the width; the first is narrower (the prompt)', () => {
		expect(rows('abcdefghij', 10, 4, 6)).toEqual(['abcd', 'efghij', '[ ]']);
	});

	test('newlines break rows; the cursor at a line end sits there', () => {
		expect(rows('one\ntwo', 3, 20, 20)).toEqual(['one[ ]', 'two']);
		expect(rows('one\n\ntwo', 4, 20, 20)).toEqual(['one', '[ ]', 'two']);
	});

	test('at most maxRows rows, always with the cursor row', () => {
		const text = Array.from({length: 10}, (_, index) => `line${index}`).join('\n');
		expect(rows(text, 0, 20, 20, 3)).toEqual(['[l]ine0', 'line1', 'line2']);
		expect(rows(text, text.length, 20, 20, 3)).toEqual(['line7', 'line8', 'line9[ ]']);
	});

	test('wide characters never straddle a row end', () => {
		expect(rows('世界世界', 4, 3, 3)).toEqual(['世', '界', '世', '界[ ]']);
	});

	test('for any text and cursor: one cursor, shown, and no row wider than its width', () => {
		fc.assert(
			fc.property(fc.string({unit: fc.constantFrom('a', ' ', '\n', '世', '🙂')}), fc.nat(), fc.integer({min: 2, max: 10}), fc.integer({min: 2, max: 10}), fc.integer({min: 1, max: 5}), (text, at, first, width, max) => {
				const cursor = Math.min(at, text.length);
				if (/[\uD800-\uDBFF]$/.test(text.slice(0, cursor))) return;
				const {rows: laidOut} = editorRows(text, cursor, first, width, max);
				expect(laidOut.filter(row => row.cursor !== undefined)).toHaveLength(1);
				expect(laidOut.length).toBeLessThanOrEqual(max);
			}),
		);
	});
});
