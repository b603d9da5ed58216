import type {HistoryEntry} from '../../client/history.js';
import {conversationName} from '../../hooks/chat-state/room-keys.js';
import {safeName, sanitizeText} from '../../sanitize.js';
import {entryTime} from '../message-log/kept-source.js';
import {dateTimeLabel, type Row, type Segment, type Style} from '../message-log/line-rows.js';

/** The /search view: what was asked, the messages found (newest first), and the one chosen. */
export type SearchState = {words: string; results: readonly HistoryEntry[]; index: number; limit: number};

/** Messages one search shows at most (the newest). */
export const maxSearchResults = 200;

/** Chooses the result `delta` rows further down (positive) or up, staying among the results. */
export function moveSearch(search: SearchState, delta: number): SearchState {
	const index = Math.max(0, Math.min(search.results.length - 1, search.index + delta));
	return index === search.index ? search : {...search, index};
}

const wordChar = /[\p{L}\p{N}]/u;

/** Lower case without accents, with where each of its characters came from in `text`. */
function folded(text: string): {text: string; from: number[]} {
	let out = '';
	const from: number[] = [];
	let index = 0;
	for (const char of text) {
		const plain = char.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
		out += plain;
		for (let unit = 0; unit < plain.length; unit++) from.push(index);
		index += char.length;
	}

	from.push(index);
	return {text: out, from};
}

/**
 * `text` (sanitized already) in segments, the words the search matched (each query word at the
 * start of a word of the text, case and accents ignored, as the index matches them) marked.
 */
export function highlight(text: string, words: string, plain: Style, hit: Style): Segment[] {
	const terms = words
		.replace(/[^\p{L}\p{N}]+/gu, ' ')
		.split(' ')
		.filter(term => term !== '')
		.map(term => folded(term).text);
	const {text: haystack, from} = folded(text);
	const marked = new Array<boolean>(text.length).fill(false);
	for (const term of terms) {
		for (let at = haystack.indexOf(term); at !== -1; at = haystack.indexOf(term, at + 1)) {
			if (at > 0 && wordChar.test(haystack[at - 1]!)) continue;
			for (let index = from[at]!; index < from[at + term.length]!; index++) marked[index] = true;
		}
	}

	const segments: Segment[] = [];
	for (let index = 0; index < text.length; index++) {
		const style = marked[index] ? hit : plain;
		const last = segments.at(-1);
		if (last?.style === style) last.text += text[index];
		else segments.push({text: text[index]!, style});
	}

	return segments;
}

/** A conversation's name in a result row. */
export function conversationLabel(conversation: string): string {
	return conversationName(conversation);
}

/** One result on one row: when, where, who, and the text with the matched words marked. */
export function resultRow(entry: HistoryEntry, words: string, chosen: boolean, me: string | undefined, now = Date.now()): Row {
	const base: Style = chosen ? {inverse: true} : {};
	const mine = entry.author === me;
	return [
		{text: `${dateTimeLabel(entryTime(entry), now)} `, style: {...base, dim: !chosen}},
		{text: `${conversationLabel(entry.conversation).slice(0, 16).padEnd(10)} `, style: {...base, color: 'yellow'}},
		{text: `<${safeName(entry.author)}>`, style: {...base, bold: true, color: mine ? 'cyan' : 'green'}},
		{text: ' ', style: base},
		...highlight(sanitizeText(entry.text), words, base, {...base, bold: true, color: 'magenta'}),
	];
}

/** The first result shown: the chosen one stays in view, a page at a time. */
export function firstShown(search: SearchState, rows: number): number {
	const page = Math.max(rows, 1);
	return Math.floor(search.index / page) * page;
}
