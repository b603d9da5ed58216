/**
 * The input line's state and every edit a key can make, as a pure reducer (readline's commands:
 * "Commands For Moving", "Commands For Killing", history). No React, no keys: use-line-editor.ts
 * maps keys to these actions. `cursor` is an index into `value` (UTF-16), always at a grapheme
 * boundary.
 */
export type EditorState = {
	value: string;
	cursor: number;
	/** The kill buffer: what Ctrl+Y puts back. */
	killed: string;
	/** The last edit was a kill: the next kill adds to the buffer instead of replacing it. */
	killing: boolean;
	/** What was sent, oldest first. */
	history: readonly string[];
	/** The history entry shown (Ctrl+P / Ctrl+N), or undefined for the line being written. */
	historyIndex: number | undefined;
	/** The line being written, kept while history entries are shown. */
	draft: string;
	/** The last Tab's completion: the next Tab right after it shows the next match. */
	completion: {start: number; end: number; matches: readonly string[]; index: number} | undefined;
};

/** Where a motion goes from the cursor. */
export type Motion = 'char-left' | 'char-right' | 'word-left' | 'word-right' | 'space-word-left' | 'start' | 'end';

export type EditorAction =
	| {type: 'insert'; text: string}
	| {type: 'move'; to: Motion}
	/** Deletes from the cursor to the motion's target. */
	| {type: 'delete'; to: Motion}
	/** Like delete, but into the kill buffer. */
	| {type: 'kill'; to: Motion}
	| {type: 'yank'}
	| {type: 'history'; step: -1 | 1}
	/** The line was sent: it joins the history and the input empties. */
	| {type: 'sent'}
	| {type: 'complete'; complete: (word: string, first: boolean) => readonly string[]};

export const maxHistory = 200;

export function createEditorState(value = ''): EditorState {
	return {value, cursor: value.length, killed: '', killing: false, history: [], historyIndex: undefined, draft: '', completion: undefined};
}

const segmenter = new Intl.Segmenter(undefined, {granularity: 'grapheme'});
/** Longer than any grapheme cluster people type (a family emoji is 11 code units). */
const graphemeWindow = 64;
const wordCharacter = /[\p{L}\p{N}\p{M}_]/u;

function previousBoundary(value: string, index: number): number {
	if (index <= 0) return 0;
	const start = Math.max(index - graphemeWindow, 0);
	let last = start;
	for (const segment of segmenter.segment(value.slice(start, index))) last = start + segment.index;
	return last;
}

function nextBoundary(value: string, index: number): number {
	if (index >= value.length) return value.length;
	const first = segmenter.segment(value.slice(index, index + graphemeWindow))[Symbol.iterator]().next().value;
	return index + (first?.segment.length ?? 1);
}

function isWord(character: string | undefined): boolean {
	return character !== undefined && wordCharacter.test(character);
}

/** Where `motion` takes the cursor. Words are letters and digits, as in readline. */
export function target(value: string, cursor: number, motion: Motion): number {
	switch (motion) {
		case 'char-left': {
			return previousBoundary(value, cursor);
		}

		case 'char-right': {
			return nextBoundary(value, cursor);
		}

		case 'word-left': {
			let index = cursor;
			while (index > 0 && !isWord(value[index - 1])) index--;
			while (index > 0 && isWord(value[index - 1])) index--;
			return index;
		}

		case 'word-right': {
			let index = cursor;
			while (index < value.length && !isWord(value[index])) index++;
			while (index < value.length && isWord(value[index])) index++;
			return index;
		}

		case 'space-word-left': {
			let index = cursor;
			while (index > 0 && /\s/.test(value[index - 1]!)) index--;
			while (index > 0 && !/\s/.test(value[index - 1]!)) index--;
			return index;
		}

		case 'start': {
			return 0;
		}

		case 'end': {
			return value.length;
		}
	}
}

function edited(state: EditorState, value: string, cursor: number): EditorState {
	return {...state, value, cursor, killing: false, completion: undefined};
}

export function editorReducer(state: EditorState, action: EditorAction): EditorState {
	const {value, cursor} = state;
	switch (action.type) {
		case 'insert': {
			if (action.text === '') return state;
			return edited(state, value.slice(0, cursor) + action.text + value.slice(cursor), cursor + action.text.length);
		}

		case 'move': {
			return {...state, cursor: target(value, cursor, action.to), killing: false, completion: undefined};
		}

		case 'delete':
		case 'kill': {
			const to = target(value, cursor, action.to);
			const [from, until] = to < cursor ? [to, cursor] : [cursor, to];
			if (from === until) return {...state, killing: action.type === 'kill' && state.killing};
			const next = edited(state, value.slice(0, from) + value.slice(until), from);
			if (action.type === 'delete') return next;
			const cut = value.slice(from, until);
			// Kills in a row make one piece of text, in the order it stood in the line.
			const killed = state.killing ? (to < cursor ? cut + state.killed : state.killed + cut) : cut;
			return {...next, killed, killing: true};
		}

		case 'yank': {
			return state.killed === '' ? state : edited(state, value.slice(0, cursor) + state.killed + value.slice(cursor), cursor + state.killed.length);
		}

		case 'history': {
			return recall(state, action.step);
		}

		case 'sent': {
			const history = state.history.at(-1) === value ? state.history : [...state.history, value].slice(-maxHistory);
			return {...createEditorState(), killed: state.killed, history};
		}

		case 'complete': {
			return complete(state, action.complete);
		}
	}
}

function recall(state: EditorState, step: -1 | 1): EditorState {
	const {history, historyIndex} = state;
	if (history.length === 0) return state;
	if (historyIndex === undefined) {
		if (step === 1) return state;
		const value = history.at(-1)!;
		return {...edited(state, value, value.length), historyIndex: history.length - 1, draft: state.value};
	}

	const index = historyIndex + step;
	if (index < 0) return state;
	if (index >= history.length) return {...edited(state, state.draft, state.draft.length), historyIndex: undefined, draft: ''};
	const value = history[index]!;
	return {...edited(state, value, value.length), historyIndex: index};
}

/**
 * Tab: completes the word before the cursor from `complete(word, first)` (`first`: it is the line's
 * first word, where commands go), with a space after it. Tab again right away shows the next match,
 * in turn, as irssi does.
 */
function complete(state: EditorState, candidates: (word: string, first: boolean) => readonly string[]): EditorState {
	const {value, cursor, completion} = state;
	if (completion !== undefined && completion.end === cursor && completion.matches.length > 1) {
		const index = (completion.index + 1) % completion.matches.length;
		const text = `${completion.matches[index]!} `;
		const next = value.slice(0, completion.start) + text + value.slice(completion.end);
		const end = completion.start + text.length;
		return {...state, value: next, cursor: end, killing: false, completion: {...completion, end, index}};
	}

	let start = cursor;
	while (start > 0 && !/\s/.test(value[start - 1]!)) start--;
	const word = value.slice(start, cursor);
	const matches = candidates(word, value.slice(0, start).trim() === '');
	if (matches.length === 0) return state;
	const text = `${matches[0]!} `;
	const end = start + text.length;
	return {...state, value: value.slice(0, start) + text + value.slice(cursor), cursor: end, killing: false, completion: {start, end, matches, index: 0}};
}
