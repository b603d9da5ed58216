import React from 'react';
import {render} from 'ink-testing-library';
import {describe, expect, test, vi} from 'vitest';
import {everyone} from '../../source/chat-state.js';
import type {ParsedCommand} from '../../source/components/commands.js';
import {InputBox} from '../../source/components/input-box.js';
import {keys, press, submit} from '../helpers/keys.js';
import {waitFor} from '../helpers/wait-for.js';

type Options = {to: string | undefined; sendResult?: boolean; offline?: boolean; keyChanged?: boolean};

function setup({to, sendResult = true, offline, keyChanged}: Options = {to: 'amy'}) {
	const handlers = {
		onSend: vi.fn((_text: string) => sendResult),
		onCommand: vi.fn((_command: ParsedCommand) => undefined),
	};
	const view = render(<InputBox to={to} offline={offline} keyChanged={keyChanged} width={60} {...handlers} />);
	return {...view, ...handlers};
}

describe('InputBox', () => {
	test('shows who the message goes to', () => {
		const {lastFrame} = setup({to: 'amy'});
		expect(lastFrame()).toContain('to amy>');
	});

	test('names # everyone, an offline recipient and one whose key changed', () => {
		expect(setup({to: everyone}).lastFrame()).toContain('to # everyone>');
		expect(setup({to: 'amy', offline: true}).lastFrame()).toContain('to amy (offline)>');
		expect(setup({to: 'amy', offline: true, keyChanged: true}).lastFrame()).toContain('to amy (key changed)>');
	});

	test('says when nobody is selected', () => {
		const {lastFrame} = setup({to: undefined});
		expect(lastFrame()).toContain('nobody selected>');
		expect(lastFrame()).toContain('press Up/Down to choose someone');
	});

	test('Enter sends the text and clears the input', async () => {
		const view = setup();
		await submit(view, 'hello there');
		await waitFor(() => expect(view.onSend).toHaveBeenCalledWith('hello there'));
		await waitFor(() => expect(view.lastFrame()).not.toContain('hello there'));
	});

	test('text that was not sent stays in the input', async () => {
		const view = setup({to: undefined, sendResult: false});
		await submit(view, 'keep me');
		await waitFor(() => expect(view.onSend).toHaveBeenCalledWith('keep me'));
		expect(view.lastFrame()).toContain('keep me');
	});

	test('empty or blank input is ignored', async () => {
		const view = setup();
		await press(view, keys.enter);
		await press(view, '   ');
		await press(view, keys.enter);
		await press(view, 'x');
		await waitFor(() => expect(view.lastFrame()).toContain('x'));
		expect(view.onSend).not.toHaveBeenCalled();
	});

	test('commands go to onCommand, parsed, and are never sent', async () => {
		const view = setup();
		await submit(view, '/help');
		await waitFor(() => expect(view.onCommand).toHaveBeenCalledWith({ok: true, command: {name: 'help'}}));
		await submit(view, '/nope now');
		await waitFor(() => expect(view.onCommand).toHaveBeenLastCalledWith({ok: false, error: 'Unknown command /nope; /help lists the commands.'}));
		await submit(view, '/trust Bob');
		await waitFor(() => expect(view.onCommand).toHaveBeenLastCalledWith({ok: true, command: {name: 'trust', target: 'bob'}}));
		await waitFor(() => expect(view.lastFrame()).not.toContain('/trust'));
		expect(view.onSend).not.toHaveBeenCalled();
	});

	test('// sends a message that starts with /', async () => {
		const view = setup();
		await submit(view, '//shrug');
		await waitFor(() => expect(view.onSend).toHaveBeenCalledWith('/shrug'));
	});

	test('text and Enter in one read (fast typing, tmux, a paste) are sent, not inserted', async () => {
		const view = setup();
		await press(view, 'typed fast\r');
		await waitFor(() => expect(view.onSend).toHaveBeenCalledWith('typed fast'));
		expect(view.lastFrame()).not.toContain('typed fast');
	});

	test('a pasted block of lines sends each line, in order, and keeps the unfinished last line', async () => {
		const view = setup();
		await press(view, 'one\ntwo\r\nthree\rfour');
		await waitFor(() => expect(view.lastFrame()).toContain('four'));
		expect(view.onSend.mock.calls.map(([text]) => text)).toEqual(['one', 'two', 'three']);
	});

	test('a pasted block that cannot be sent stays in the input, nothing lost', async () => {
		const view = setup({to: undefined, sendResult: false});
		await press(view, 'first\nsecond\n');
		await waitFor(() => expect(view.lastFrame()).toContain('first second'));
	});
});
