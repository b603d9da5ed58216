import React from 'react';
import {renderWithKeys as render} from '../helpers/render-keyed.js';
import {describe, expect, test, vi} from 'vitest';
import {ConnectForm, parsePort, usernameError} from '../../source/components/connect-form.js';
import {press, submit as answer} from '../helpers/keys.js';
import {waitFor} from '../helpers/wait-for.js';

describe('parsePort and usernameError', () => {
	test.each([
		['1', 1],
		['65535', 65_535],
		[' 7000 ', 7000],
		['0', undefined],
		['65536', undefined],
		['-1', undefined],
		['70.5', undefined],
		['1e3', undefined],
		['abc', undefined],
		['', undefined],
	])('parsePort(%j) = %j', (text, port) => {
		expect(parsePort(text)).toBe(port);
	});

	test.each([
		['alice', undefined],
		['Alice_2-x', undefined],
		['a'.repeat(32), undefined],
		['a'.repeat(33), 'A username is 1 to 32 characters of a-z, 0-9, _ and -.'],
		['', 'A username is 1 to 32 characters of a-z, 0-9, _ and -.'],
		['bad name', 'A username is 1 to 32 characters of a-z, 0-9, _ and -.'],
		['Admin', '"admin" is reserved; choose another name.'],
	])('usernameError(%j)', (name, error) => {
		expect(usernameError(name)).toBe(error);
	});
});

describe('ConnectForm', () => {
	test('asks for every missing field in turn and submits them', async () => {
		const onSubmit = vi.fn();
		const view = render(<ConnectForm onSubmit={onSubmit} />);
		expect(view.lastFrame()).toContain('Relay host:');
		await answer(view, 'chat.example');
		await waitFor(() => expect(view.lastFrame()).toContain('Relay port:'));
		await answer(view, '7000');
		await waitFor(() => expect(view.lastFrame()).toContain('Username:'));
		await answer(view, 'alice');
		await waitFor(() => expect(onSubmit).toHaveBeenCalledWith({host: 'chat.example', port: 7000, username: 'alice'}));
	});

	test('asks only for what is missing', async () => {
		const onSubmit = vi.fn();
		const view = render(<ConnectForm host="h" port={5000} onSubmit={onSubmit} />);
		expect(view.lastFrame()).toContain('Relay host: h\n Relay port: 5000\n Username:');
		await answer(view, 'bob');
		await waitFor(() => expect(onSubmit).toHaveBeenCalledWith({host: 'h', port: 5000, username: 'bob'}));
	});

	test('rejects a bad port with an inline error and asks again', async () => {
		const onSubmit = vi.fn();
		const view = render(<ConnectForm host="h" username="bob" onSubmit={onSubmit} />);
		await answer(view, '70000');
		await waitFor(() => expect(view.lastFrame()).toContain('✗ 70000 was refused: The port must be a whole number from 1 to 65535.'));
		expect(view.lastFrame()).toContain('Relay port:');
		await answer(view, '7000');
		await waitFor(() => expect(onSubmit).toHaveBeenCalledWith({host: 'h', port: 7000, username: 'bob'}));
		expect(onSubmit).toHaveBeenCalledTimes(1);
	});

	test('rejects a bad or reserved username', async () => {
		const onSubmit = vi.fn();
		const view = render(<ConnectForm host="h" port={1} onSubmit={onSubmit} />);
		await answer(view, 'no spaces');
		await waitFor(() => expect(view.lastFrame()).toContain('✗ no spaces was refused: A username is 1 to 32 characters'));
		await answer(view, 'root');
		await waitFor(() => expect(view.lastFrame()).toContain('✗ root was refused: "root" is reserved'));
		expect(onSubmit).not.toHaveBeenCalled();
	});

	test('shows the error from the last attempt, sanitized', () => {
		const view = render(<ConnectForm host="h" port={1} error={'"bob" is \u001B[2Jtaken'} onSubmit={vi.fn()} />);
		expect(view.lastFrame()).toContain('"bob" is taken');
		expect(view.lastFrame()).not.toContain('\u001B');
	});

	test('answers that arrive in one read, each ended by a line break, fill the fields in turn', async () => {
		const onSubmit = vi.fn();
		const view = render(<ConnectForm onSubmit={onSubmit} />);
		await press(view, 'relay.example\r5000\rbob\r');
		await waitFor(() => expect(onSubmit).toHaveBeenCalledWith({host: 'relay.example', port: 5000, username: 'bob'}));
	});
});
