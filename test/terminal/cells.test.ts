import fc from 'fast-check';
import {describe, expect, test} from 'vitest';
import {graphemes, toCells, wrapCells} from '../../source/terminal/cells.js';

const wrap = (text: string, first: number, rest = first) => wrapCells(toCells(text, 0), first, rest).map(row => row.map(cell => cell.text).join(''));
const width = (row: string) => toCells(row, 0).reduce((sum, cell) => sum + cell.width, 0);

describe('wrapCells', () => {
	test.each<[string, string, number, number, string[]]>([
		['breaks after a space', 'the quick brown fox', 10, 10, ['the quick', 'brown fox']],
		['a first row of its own width', 'aaa bbb ccc', 5, 10, ['aaa', 'bbb ccc']],
		['cuts a word longer than a row', 'abcdefghij', 4, 4, ['abcd', 'efgh', 'ij']],
		['spaces at a break are dropped, never a row of their own', 'abc  def', 3, 3, ['abc', 'def']],
		['many spaces at a break', 'ab     cd', 4, 4, ['ab', 'cd']],
		['leading spaces of the text itself stay', '  indented', 20, 20, ['  indented']],
		['wide characters count two cells', '世界世界世界', 5, 5, ['世界', '世界', '世界']],
		['an emoji is one grapheme, two cells', 'a👍🏽b', 2, 2, ['a', '👍🏽', 'b']],
		['empty text is one empty row', '', 10, 10, ['']],
	])('%s', (_name, text, first, rest, expected) => {
		expect(wrap(text, first, rest)).toEqual(expected);
	});

	test('no row is wider than its width (unless one grapheme is), and no text is lost but break spaces', () => {
		fc.assert(
			fc.property(fc.string({unit: fc.constantFrom('a', 'b', ' ', '世', '🙂', 'é', '-')}), fc.integer({min: 1, max: 12}), fc.integer({min: 1, max: 12}), (text, first, rest) => {
				const rows = wrap(text, first, rest);
				for (const [index, row] of rows.entries()) {
					const limit = index === 0 ? first : rest;
					if (graphemes(row).length > 1) expect(width(row)).toBeLessThanOrEqual(limit);
				}

				expect(rows.join('').replaceAll(' ', '')).toBe(text.replaceAll(' ', ''));
			}),
		);
	});
});

describe('graphemes', () => {
	test('long text is segmented in pieces exactly as in one pass', () => {
		const segmenter = new Intl.Segmenter(undefined, {granularity: 'grapheme'});
		for (const text of ['a\u0301b'.repeat(500), '🇫🇷'.repeat(700), '👨‍👩‍👧 '.repeat(300), '세계'.repeat(600), 'x'.repeat(1000) + '🙂'.repeat(300)]) {
			expect(graphemes(text)).toEqual(Array.from(segmenter.segment(text), segment => segment.segment));
		}
	});
});
