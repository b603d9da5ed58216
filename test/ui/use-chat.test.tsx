import {EventEmitter} from 'node:events';
import React from 'react';
import {Text} from 'ink';
import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import {useChat, type ChatActions} from '../../source/hooks/use-chat.js';
import type {ChatConnection, ClientEvents, ClientStatus, RelayInfo} from '../../source/net/client-events.js';
import {waitFor} from '../helpers/wait-for.js';

const events: Array<keyof ClientEvents> = [
	'status',
	'relay-unknown',
	'relay-changed',
	'relay-trusted',
	'login-request',
	'login-error',
	'welcome',
	'user-joined',
	'user-left',
	'message',
	'sent',
	'relay-error',
	'announcement',
	'closed',
];

/** A scripted connection: the test emits events and sees what the hook asked for. */
class FakeConnection extends EventEmitter<ClientEvents> implements ChatConnection {
	status: ClientStatus = 'login';
	relay: RelayInfo | undefined = {host: 'h', port: 1, fingerprint: 'ab'.repeat(32)};
	username: string | undefined;
	logins: string[] = [];
	sends: Array<[string, string]> = [];
	connect(): void {}
	login(username: string): void {
		this.logins.push(username);
	}

	send(to: string, text: string): string {
		this.sends.push([to, text]);
		return `id${this.sends.length}`;
	}

	async close(): Promise<void> {}
}

type Seen = {status: string; me: string | undefined; selected: string | undefined; login: unknown; verify: boolean; lines: string[]};

function Probe({connection, username, onRender}: {connection: ChatConnection; username?: string; onRender: (seen: Seen, actions: ChatActions) => void}) {
	const {state, actions} = useChat(connection, {username, now: () => 0});
	const lines = [...state.system, ...(state.conversations.get(state.selected ?? '') ?? [])].map(line => line.text);
	onRender({status: state.status, me: state.me, selected: state.selected, login: state.login, verify: Boolean(state.verify), lines}, actions);
	return <Text>{state.status}</Text>;
}

function setup(username?: string) {
	const connection = new FakeConnection();
	let seen: Seen | undefined;
	let actions: ChatActions | undefined;
	const view = render(
		<Probe
			connection={connection}
			username={username}
			onRender={(nextSeen, nextActions) => {
				seen = nextSeen;
				actions = nextActions;
			}}
		/>,
	);
	return {connection, view, frame: () => seen!, actions: () => actions!};
}

describe('useChat', () => {
	test('subscribes to every event once and unsubscribes on unmount', async () => {
		const {connection, view} = setup();
		await waitFor(() => {
			for (const event of events) expect(connection.listenerCount(event)).toBe(1);
		});
		view.unmount();
		for (const event of events) expect(connection.listenerCount(event)).toBe(0);
	});

	test('starts from the connection’s current status', () => {
		const {frame} = setup();
		expect(frame()).toMatchObject({status: 'login'});
	});

	test('sends the initial username at the first login request only', async () => {
		const {connection, frame} = setup('alice');
		await waitFor(() => expect(connection.listenerCount('login-request')).toBe(1));
		connection.emit('login-request');
		expect(connection.logins).toEqual(['alice']);
		await waitFor(() => expect(frame()).toMatchObject({login: {requested: false, pending: 'alice'}}));
		connection.emit('login-error', {code: 'username_taken', message: 'taken'});
		connection.emit('login-request');
		expect(connection.logins).toEqual(['alice']);
		await waitFor(() => expect(frame()).toMatchObject({login: {requested: true, error: 'taken'}}));
	});

	test('relay-unknown hands the decision to trust()', async () => {
		const {connection, frame, actions} = setup();
		await waitFor(() => expect(connection.listenerCount('relay-unknown')).toBe(1));
		const decisions: boolean[] = [];
		connection.emit('relay-unknown', connection.relay!, trust => decisions.push(trust));
		await waitFor(() => expect(frame()).toMatchObject({verify: true}));
		actions().trust(true);
		actions().trust(true);
		expect(decisions).toEqual([true]);
		await waitFor(() => expect(frame()).toMatchObject({verify: false}));
	});

	test('send goes to the selected person; errors become system lines', async () => {
		const {connection, frame, actions} = setup();
		await waitFor(() => expect(connection.listenerCount('welcome')).toBe(1));
		expect(actions().send('nobody to get this')).toBe(false);
		connection.emit('welcome', {username: 'me1', users: ['amy'], motd: null});
		await waitFor(() => expect(frame()).toMatchObject({me: 'me1', selected: 'amy'}));
		expect(actions().send('hi amy')).toBe(true);
		expect(connection.sends).toEqual([['amy', 'hi amy']]);
		expect(actions().send('x'.repeat(8193))).toBe(false);
		connection.send = () => {
			throw new Error('not connected');
		};

		expect(actions().send('lost')).toBe(false);
		await waitFor(() =>
			expect(frame().lines).toEqual([
				'Nobody is selected: press Up or Down to choose who to write to.',
				'Logged in as me1. 1 other person is online. Type /help for help.',
				'Not sent: a message is at most 8192 bytes.',
				'Not sent: not connected',
				'hi amy',
			]),
		);
	});
});
