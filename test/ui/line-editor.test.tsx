import React from 'react';
import {render} from 'ink-testing-library';
import {describe, expect, test, vi} from 'vitest';
import {everyone, statusView} from '../../source/hooks/chat-state/types.js';
import {InputBox, inputPrompt} from '../../source/components/input-box.js';
import {useLineEditor} from '../../source/components/line-editor/use-line-editor.js';
import {KeyboardProvider, useKeys} from '../../source/hooks/use-keys.js';
import {keys, paste, press} from '../helpers/keys.js';
import {waitFor} from '../helpers/wait-for.js';

type Options = {to?: string; sendResult?: boolean; offline?: boolean; keyChanged?: boolean; width?: number};

/** The chat screen's input line alone: the editor hook, the keyboard, the view. */
function Input({to, offline = false, keyChanged = false, width = 60, onSubmit, onNotice}: Options & {onSubmit: (text: string) => boolean; onNotice: (text: string) => void}) {
	const editor = useLineEditor({onSubmit, onNotice, complete: word => ['alice', 'albert', 'bob'].filter(name => name.startsWith(word)), maxMessageBytes: 8192});
	useKeys(key => {
		editor.handle(key);
	});
	return <InputBox prompt={inputPrompt(to, offline, keyChanged)} state={editor.state} selected={to} width={width} maxRows={5} />;
}

function setup({sendResult = true, ...options}: Options = {to: 'amy'}) {
	const onSubmit = vi.fn((_text: string) => sendResult);
	const onNotice = vi.fn((_text: string) => undefined);
	const view = render(
		<KeyboardProvider>
			<Input {...options} onSubmit={onSubmit} onNotice={onNotice} />
		</KeyboardProvider>,
	);
	const sent = () => onSubmit.mock.calls.map(([text]) => text);
	return {...view, onSubmit, onNotice, sent};
}

/** The input's text as drawn, without the prompt (the cursor cell is an inverse space, trimmed at the end). */
function shown(frame: string | undefined, prompt = 'to amy>'): string {
	return (frame ?? '').replaceAll(/\u001B\[\d+m/g, '').replace(prompt, '').trim();
}

describe('the input line', () => {
	test('shows who the message goes to, in words', () => {
		expect(setup({to: 'amy'}).lastFrame()).toContain('to amy>');
		expect(setup({to: everyone}).lastFrame()).toContain('to # everyone>');
		expect(setup({to: 'amy', offline: true}).lastFrame()).toContain('to amy (offline)>');
		expect(setup({to: 'amy', offline: true, keyChanged: true}).lastFrame()).toContain('to amy (key changed)>');
		expect(setup({to: undefined}).lastFrame()).toMatch(/nobody selected> .*press Up\/Down to choose someone/);
		expect(setup({to: statusView}).lastFrame()).toMatch(/status> .*the status view: Up\/Down choose who to write to/);
	});

	test('Enter sends the text and empties the input; refused text stays', async () => {
		const view = setup();
		await press(view, 'hello there');
		await press(view, keys.enter);
		await waitFor(() => expect(view.sent()).toEqual(['hello there']));
		await waitFor(() => expect(view.lastFrame()).not.toContain('hello there'));
		const refused = setup({to: 'amy', sendResult: false});
		await press(refused, 'keep me\r');
		await waitFor(() => expect(refused.sent()).toEqual(['keep me']));
		await waitFor(() => expect(refused.lastFrame()).toContain('keep me'));
	});

	test('blank input is not sent', async () => {
		const view = setup();
		await press(view, `\r   \r`);
		await press(view, 'x');
		await waitFor(() => expect(view.lastFrame()).toContain('x'));
		expect(view.sent()).toEqual([]);
	});

	// Finding 2: keys typed right after Enter were glued onto the message just sent.
	test('keys typed right after Enter, in the same read, start the next message', async () => {
		const view = setup();
		await press(view, 'A\rB');
		await waitFor(() => expect(shown(view.lastFrame())).toBe('B'));
		expect(view.sent()).toEqual(['A']);
		await press(view, '\rC\rD\r');
		await waitFor(() => expect(view.sent()).toEqual(['A', 'B', 'C', 'D']));
	});

	// Finding 2: 170 fast Backspaces left text behind.
	test('170 Backspaces in one read delete 170 characters', async () => {
		const view = setup();
		await press(view, 'x'.repeat(170));
		await press(view, '\u007F'.repeat(170));
		await press(view, 'y');
		await waitFor(() => expect(shown(view.lastFrame())).toBe('y'));
	});

	// Finding 3: Ctrl+U, Ctrl+A, Ctrl+W and Alt+x inserted u, a, w and x.
	test('Ctrl and Alt keys edit; they never insert their letter', async () => {
		const view = setup();
		await press(view, 'one two three');
		await press(view, '\u0017'); // Ctrl+W
		await waitFor(() => expect(shown(view.lastFrame())).toBe('one two'));
		await press(view, '\u0001'); // Ctrl+A
		await press(view, '\u001Bx'); // Alt+x: nothing
		await press(view, '>');
		await waitFor(() => expect(shown(view.lastFrame())).toBe('>one two'));
		await press(view, '\u0005\u0015'); // Ctrl+E, Ctrl+U
		await waitFor(() => expect(shown(view.lastFrame())).toBe(''));
		await press(view, '\u0019'); // Ctrl+Y puts it back
		await waitFor(() => expect(shown(view.lastFrame())).toBe('>one two'));
	});

	// Finding 1: x then ESC [31m ended the client (Ink's useInput threw).
	test('an escape sequence typed after text is dropped, and the text stays', async () => {
		const view = setup();
		await press(view, 'x\u001B[31m');
		await press(view, 'y');
		await waitFor(() => expect(shown(view.lastFrame())).toBe('xy'));
	});

	test('a bracketed paste of several lines is one message, with its newlines, shown on its own rows', async () => {
		const view = setup();
		await press(view, paste('first line\r\nsecond \u001B[31mline\r\nthird'));
		await waitFor(() => expect(view.lastFrame()).toMatch(/first line\n\s*second line\n\s*third/));
		expect(view.sent()).toEqual([]);
		await press(view, keys.enter);
		await waitFor(() => expect(view.sent()).toEqual(['first line\nsecond line\nthird']));
	});

	test('Alt+Enter starts a new line in the message', async () => {
		const view = setup();
		await press(view, `one${keys.altEnter}two\r`);
		await waitFor(() => expect(view.sent()).toEqual(['one\ntwo']));
	});

	test('a paste over the 8 KiB message limit stays in the input, with a clear line; it is not sent as it is', async () => {
		const view = setup({to: 'amy', sendResult: false});
		await press(view, paste('z'.repeat(9000)));
		await waitFor(() => expect(view.onNotice).toHaveBeenCalledWith('The input is 9,000 bytes; a message is at most 8,192: shorten it before sending.'));
		await waitFor(() => expect(view.lastFrame()).toContain('zzzz'));
	});

	test('a paste larger than the input holds is refused whole, and what was typed stays', async () => {
		const view = setup();
		await press(view, 'typed');
		await press(view, paste('w'.repeat(70_000)));
		await waitFor(() => expect(view.onNotice).toHaveBeenCalledWith('Paste refused: the input holds at most 16,384 characters; nothing was inserted.'));
		expect(view.lastFrame()).not.toContain('www');
		expect(view.lastFrame()).toContain('typed');
	});

	// Finding 4: text longer than the screen was invisible past the right edge.
	test('long text wraps onto more rows, and the cursor stays in view', async () => {
		const view = setup({to: 'amy', width: 30});
		const long = Array.from({length: 12}, (_, index) => `word${index}`).join(' ');
		await press(view, long);
		await waitFor(() => expect(view.lastFrame()).toContain('word11'));
		const rows = (view.lastFrame() ?? '').split('\n');
		expect(rows.length).toBeGreaterThan(1);
		for (const row of rows) expect(row.replaceAll(/\u001B\[\d+m/g, '').length).toBeLessThanOrEqual(30);
	});

	test('Ctrl+P and Ctrl+N bring back what was sent', async () => {
		const view = setup();
		await press(view, 'first\rsecond\rdraft');
		await press(view, '\u0010');
		await waitFor(() => expect(shown(view.lastFrame())).toBe('second'));
		await press(view, '\u0010\u0010');
		await waitFor(() => expect(shown(view.lastFrame())).toBe('first'));
		await press(view, '\u000E\u000E');
		await waitFor(() => expect(shown(view.lastFrame())).toBe('draft'));
	});

	test('Tab completes a name', async () => {
		const view = setup();
		await press(view, 'hi b\t');
		await waitFor(() => expect(shown(view.lastFrame())).toBe('hi bob'));
	});
});

describe('the input line’s bound', () => {
	test('Ctrl+Y cannot grow the input past what it holds', async () => {
		const view = setup();
		await press(view, paste('k'.repeat(10_000)));
		await press(view, '\u0015'); // Ctrl+U cuts it
		await press(view, '\u0019'); // Ctrl+Y puts it back: 10,000
		await press(view, '\u0019'); // again: would be 20,000
		await waitFor(() => expect(view.onNotice).toHaveBeenCalledWith('The input holds at most 16,384 characters.'));
		expect((view.lastFrame() ?? '').split('k').length - 1).toBeLessThanOrEqual(16_384);
	});
});
