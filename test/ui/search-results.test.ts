import {describe, expect, test} from 'vitest';
import {highlight, moveSearch, resultRow, type SearchState} from '../../source/components/search/search-results.js';

const hit = {bold: true};
const marked = (text: string, words: string) => highlight(text, words, {}, hit).map(segment => (segment.style === hit ? `[${segment.text}]` : segment.text)).join('');

describe('search results', () => {
	test('the matched words are marked where a word starts with them, case and accents ignored', () => {
		expect(marked('Café au lait, CAFES and decafe', 'cafe')).toBe('[Café] au lait, [CAFE]S and decafe');
		expect(marked('pineapple pizza on a pine', 'pine pizza')).toBe('[pine]apple [pizza] on a [pine]');
		expect(marked("don't stop", "don't")).toBe("[don]'[t] stop");
		expect(marked('nothing here', 'zebra')).toBe('nothing here');
	});

	test('a row: its date and time, the conversation, the author, the text sanitized; the chosen one in reverse video', () => {
		const entry = {seq: 7, conversation: '#everyone', direction: 'in' as const, id: 'x', author: 'amy', text: 'hi\u001B]0;owned\u0007 there\nall', sent: Date.UTC(2024, 2, 3, 12), time: Date.UTC(2024, 2, 3, 12)};
		const row = resultRow(entry, 'there', true, 'me1', Date.UTC(2025, 0, 1));
		expect(row.map(segment => segment.text).join('')).toMatch(/^Mar 03 2024 \d\d:00 #everyone  <amy> hi there all$/);
		expect(row.every(segment => segment.style.inverse)).toBe(true);
		expect(row.find(segment => segment.text === 'there')?.style).toMatchObject({bold: true, inverse: true});
	});

	test('moving stays among the results', () => {
		const search: SearchState = {words: 'x', results: [1, 2, 3].map(seq => ({seq}) as never), index: 0, limit: 200};
		expect(moveSearch(search, -1)).toBe(search);
		expect(moveSearch(search, 10).index).toBe(2);
	});
});
