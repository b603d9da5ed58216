import fc from 'fast-check';
import {describe, expect, test} from 'vitest';
import {editorCommand} from '../../source/components/line-editor/editor-keys.js';
import {createEditorState, editorReducer, maxHistory, type EditorAction, type EditorState} from '../../source/components/line-editor/editor-state.js';
import {namedKey, type Key} from '../../source/terminal/keys.js';

/** The state after typing `keys` into an input holding `value` with the cursor at `|`. */
function type(value: string, ...keys: Key[]): EditorState {
	const cursor = value.indexOf('|');
	let state: EditorState = {...createEditorState(value.replace('|', '')), cursor: cursor === -1 ? value.length : cursor};
	for (const key of keys) {
		const command = editorCommand(key);
		if (command?.type === 'edit') state = editorReducer(state, command.action);
	}

	return state;
}

/** The value with `|` where the cursor is. */
const shown = (state: EditorState) => `${state.value.slice(0, state.cursor)}|${state.value.slice(state.cursor)}`;

const ctrl = (name: string) => namedKey(name, {ctrl: true});
const alt = (name: string) => namedKey(name, {alt: true});
const text = (value: string): Key => ({type: 'text', text: value});

describe('moving', () => {
	test.each([
		['Ctrl+A and Home go to the start', 'hello wor|ld', [ctrl('a')], '|hello world'],
		['Home', 'hello wor|ld', [namedKey('home')], '|hello world'],
		['Ctrl+E and End go to the end', 'hel|lo', [ctrl('e')], 'hello|'],
		['End', '|hello', [namedKey('end')], 'hello|'],
		['Ctrl+B and Left go one character left', 'ab|c', [ctrl('b'), namedKey('left')], '|abc'],
		['Ctrl+F and Right go one character right', '|abc', [ctrl('f'), namedKey('right')], 'ab|c'],
		['Left at the start stays', '|abc', [namedKey('left')], '|abc'],
		['Alt+B goes to the start of the word', 'one two thr|ee', [alt('b')], 'one two |three'],
		['Alt+B twice', 'one two thr|ee', [alt('b'), alt('b')], 'one |two three'],
		['Ctrl+Left is Alt+B', 'one two|', [namedKey('left', {ctrl: true})], 'one |two'],
		['Alt+F goes to the end of the word', 'on|e two', [alt('f')], 'one| two'],
		['Ctrl+Right twice', '|one, two', [namedKey('right', {ctrl: true}), namedKey('right', {ctrl: true})], 'one, two|'],
		['Left steps over an emoji whole', 'a👍🏽|', [namedKey('left')], 'a|👍🏽'],
		['Left steps over a family emoji whole', 'x👨‍👩‍👧|', [namedKey('left')], 'x|👨‍👩‍👧'],
		['Right steps over a flag whole', '|🇫🇷b', [namedKey('right')], '🇫🇷|b'],
		['Left steps over e + combining accent whole', 'e\u0301|', [namedKey('left')], '|e\u0301'],
		['words include letters of every script', 'привет мир|', [alt('b')], 'привет |мир'],
	])('%s', (_name, value, keys, expected) => {
		expect(shown(type(value, ...keys))).toBe(expected);
	});
});

describe('deleting and killing', () => {
	test.each([
		['Backspace deletes before the cursor', 'abc|', [namedKey('backspace')], 'ab|'],
		['Backspace deletes a whole emoji', 'a🙂|', [namedKey('backspace')], 'a|'],
		['Backspace at the start does nothing', '|abc', [namedKey('backspace')], '|abc'],
		['Delete deletes under the cursor', 'a|bc', [namedKey('delete')], 'a|c'],
		['Ctrl+D deletes under the cursor', 'a|bc', [ctrl('d')], 'a|c'],
		['Ctrl+D on an empty line does nothing', '|', [ctrl('d')], '|'],
		['Ctrl+U cuts to the start', 'hello wo|rld', [ctrl('u')], '|rld'],
		['Ctrl+K cuts to the end', 'hello wo|rld', [ctrl('k')], 'hello wo|'],
		['Ctrl+W cuts back to a space', 'git push origin/ma|', [ctrl('w')], 'git push |'],
		['Ctrl+W skips spaces first', 'one two   |', [ctrl('w')], 'one |'],
		['Alt+Backspace cuts back to a word start', 'origin/main|', [namedKey('backspace', {alt: true})], 'origin/|'],
		['Alt+D cuts the next word', 'one| two three', [alt('d')], 'one| three'],
		['Ctrl+Y puts back what was cut', 'hello world|', [ctrl('w'), ctrl('a'), ctrl('y')], 'world|hello '],
		['kills in a row are put back as one', 'one two three|', [ctrl('w'), ctrl('w'), ctrl('y')], 'one two three|'],
		['a kill after a move replaces the buffer', 'one two|', [ctrl('w'), ctrl('a'), ctrl('k'), ctrl('y')], 'one |'],
		['Ctrl+U then Ctrl+K together put back the whole line', 'ab|cd', [ctrl('u'), ctrl('k'), ctrl('y')], 'abcd|'],
	])('%s', (_name, value, keys, expected) => {
		expect(shown(type(value, ...keys))).toBe(expected);
	});
});

describe('typing', () => {
	test('text goes in at the cursor; Alt+Enter adds a line', () => {
		expect(shown(type('ac|', namedKey('left'), text('b'), ctrl('e'), namedKey('enter', {alt: true}), text('d')))).toBe('abc\nd|');
	});

	test('keys the input has no use for change nothing', () => {
		for (const key of [namedKey('up'), namedKey('pageup'), namedKey('f5'), ctrl('c'), namedKey('escape'), {type: 'wheel', direction: 'up'} as Key]) {
			expect(editorCommand(key)).toBeUndefined();
		}
	});
});

describe('history', () => {
	const sent = (state: EditorState, line: string) => editorReducer({...state, value: line, cursor: line.length}, {type: 'sent'});

	test('Ctrl+P and Ctrl+N walk what was sent, and come back to the line being written', () => {
		let state = sent(sent(createEditorState(), 'first'), 'second');
		state = editorReducer(state, {type: 'insert', text: 'draft'});
		const step = (key: Key) => {
			const command = editorCommand(key);
			if (command?.type === 'edit') state = editorReducer(state, command.action);
			return state.value;
		};

		expect([step(ctrl('p')), step(ctrl('p')), step(ctrl('p')), step(ctrl('n')), step(ctrl('n')), step(ctrl('n'))]).toEqual(['second', 'first', 'first', 'second', 'draft', 'draft']);
	});

	test('the same line twice in a row is kept once; the history is bounded', () => {
		let state = createEditorState();
		for (let index = 0; index < maxHistory + 50; index++) state = sent(sent(state, `m${index}`), `m${index}`);
		expect(state.history).toHaveLength(maxHistory);
		expect(state.history.at(-1)).toBe(`m${maxHistory + 49}`);
		expect(state.value).toBe('');
	});
});

describe('Tab completion', () => {
	const names = ['alice', 'albert', 'bob'];
	const complete = (word: string, first: boolean) => (first && word.startsWith('/') ? ['/help', '/trust'].filter(name => name.startsWith(word)) : names.filter(name => name.startsWith(word)));
	const tab = (state: EditorState) => editorReducer(state, {type: 'complete', complete});

	test('completes a command at the start, a name elsewhere, and cycles through matches', () => {
		expect(shown(tab(type('/tr|')))).toBe('/trust |');
		expect(shown(tab(type('/verify b|')))).toBe('/verify bob |');
		const once = tab(type('hi al|'));
		expect(shown(once)).toBe('hi alice |');
		expect(shown(tab(once))).toBe('hi albert |');
		expect(shown(tab(tab(once)))).toBe('hi alice |');
		expect(shown(tab(type('zz|')))).toBe('zz|');
	});
});

describe('any sequence of edits', () => {
	const actions: fc.Arbitrary<EditorAction> = fc.oneof(
		fc.string({unit: 'grapheme', maxLength: 5}).map(text => ({type: 'insert', text}) as EditorAction),
		fc.constantFrom<EditorAction['type']>('move', 'delete', 'kill').chain(type =>
			fc.constantFrom('char-left', 'char-right', 'word-left', 'word-right', 'space-word-left', 'start', 'end').map(to => ({type, to}) as EditorAction),
		),
		fc.constant<EditorAction>({type: 'yank'}),
		fc.constantFrom<EditorAction>({type: 'history', step: -1}, {type: 'history', step: 1}, {type: 'sent'}),
	);

	test('keeps the cursor inside the text and never splits a grapheme', () => {
		fc.assert(
			fc.property(fc.array(actions, {maxLength: 60}), list => {
				let state = createEditorState();
				for (const action of list) {
					state = editorReducer(state, action);
					expect(state.cursor).toBeGreaterThanOrEqual(0);
					expect(state.cursor).toBeLessThanOrEqual(state.value.length);
					expect(state.value.slice(0, state.cursor)).not.toMatch(/\p{Cs}/u);
				}
			}),
		);
	});
});
