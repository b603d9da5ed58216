import React from 'react';
import {Text} from 'ink';
import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import {everyone, statusView, type ChatState} from '../../source/hooks/chat-state/types.js';
import {useChat, type ChatActions} from '../../source/hooks/use-chat.js';
import type {ChatConnection, ClientEvents, Contact} from '../../source/client/client-events.js';
import {waitFor} from '../helpers/wait-for.js';
import {contact, FakeConnection} from './fake-connection.js';

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
	'contact-updated',
	'message',
	'accepted',
	'delivered',
	'gap',
	'rejected',
	'held',
	'relay-error',
	'announcement',
	'closed',
	'rooms',
	'room-message',
	'room-change',
	'room-accepted',
	'room-delivered',
	'room-invite',
	'room-declined',
	'room-error',
	'room-rejected',
];

function Probe({connection, username, onRender}: {connection: ChatConnection; username?: string; onRender: (state: ChatState, actions: ChatActions) => void}) {
	const {state, actions} = useChat(connection, {username, now: () => 0});
	onRender(state, actions);
	return <Text>{state.status}</Text>;
}

function setup(username?: string) {
	const connection = new FakeConnection();
	let seen: ChatState | undefined;
	let actions: ChatActions | undefined;
	const view = render(
		<Probe
			connection={connection}
			username={username}
			onRender={(state, nextActions) => {
				seen = state;
				actions = nextActions;
			}}
		/>,
	);
	return {connection, view, state: () => seen!, actions: () => actions!};
}

/** The lines of a conversation and of the status view, in arrival order, as text. */
function lines(state: ChatState, key = state.selected): string[] {
	const status = key === statusView ? [] : (state.conversations.get(statusView) ?? []);
	return [...status, ...(state.conversations.get(key ?? '') ?? [])].sort((a, b) => a.seq - b.seq).map(line => line.text);
}

async function loggedIn(users: Contact[] = [contact('amy'), contact('bob')]) {
	const chat = setup();
	await waitFor(() => expect(chat.connection.listenerCount('welcome')).toBe(1));
	chat.connection.emit('welcome', {username: 'me1', users, motd: null, online: [], onlineCount: users.filter(user => user.online).length + 1, waiting: 0});
	await waitFor(() => expect(chat.state().me).toBe('me1'));
	return chat;
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
		const {state} = setup();
		expect(state()).toMatchObject({status: 'login'});
	});

	test('sends the initial username at the first login request only', async () => {
		const {connection, state} = setup('alice');
		await waitFor(() => expect(connection.listenerCount('login-request')).toBe(1));
		connection.emit('login-request');
		expect(connection.logins).toEqual(['alice']);
		await waitFor(() => expect(state()).toMatchObject({login: {requested: false, pending: 'alice'}}));
		connection.emit('login-error', {code: 'username_taken', message: 'taken'});
		connection.emit('login-request');
		expect(connection.logins).toEqual(['alice']);
		await waitFor(() => expect(state()).toMatchObject({login: {requested: true, error: 'taken'}}));
	});

	test('relay-unknown hands the decision to trustRelay()', async () => {
		const {connection, state, actions} = setup();
		await waitFor(() => expect(connection.listenerCount('relay-unknown')).toBe(1));
		const decisions: boolean[] = [];
		connection.emit('relay-unknown', connection.relay!, trust => decisions.push(trust));
		await waitFor(() => expect(state().verify).toBeDefined());
		actions().trustRelay(true);
		actions().trustRelay(true);
		expect(decisions).toEqual([true]);
		await waitFor(() => expect(state().verify).toBeUndefined());
	});

	test('send goes to the selected person; errors become system lines', async () => {
		const {connection, state, actions} = setup();
		await waitFor(() => expect(connection.listenerCount('welcome')).toBe(1));
		expect(actions().send('nobody to get this')).toBe(false);
		connection.emit('welcome', {username: 'me1', users: [contact('amy')], motd: null, online: [], onlineCount: 2, waiting: 0});
		await waitFor(() => expect(state()).toMatchObject({me: 'me1', selected: 'amy'}));
		expect(actions().send('hi amy')).toBe(true);
		expect(connection.sends).toEqual([['amy', 'hi amy']]);
		expect(actions().send('x'.repeat(8193))).toBe(false);
		connection.send = () => {
			throw new Error('not connected');
		};

		expect(actions().send('lost')).toBe(false);
		await waitFor(() =>
			expect(lines(state())).toEqual([
				'Nobody is selected: press Up or Down to choose who to write to.',
				'Logged in as me1. 1 other person is online; no messages were waiting for you. Type /help for help.',
				'hi amy',
				'Not sent: a message is at most 8192 bytes.',
				'Not sent: not connected',
			]),
		);
	});

	test('# everyone sends one copy per recipient through sendToEveryone and names who was skipped', async () => {
		const {connection, state, actions} = await loggedIn([contact('amy'), contact('bob'), contact('cy', {keyChanged: true})]);
		actions().selectPrevious();
		await waitFor(() => expect(state().selected).toBe(everyone));
		expect(actions().send('hello all')).toBe(true);
		expect(connection.sends).toEqual([[everyone, 'hello all']]);
		await waitFor(() =>
			expect(state().conversations.get(everyone)).toMatchObject([
				{text: 'hello all', delivery: {state: 'sending'}, receipts: {recipients: ['amy', 'bob'], by: []}},
				{kind: 'system', text: "Not sent to cy: cy's identity key changed (/verify cy, then /trust cy)."},
			]),
		);
		connection.everyoneRecipients = [];
		expect(actions().send('anyone?')).toBe(false);
		await waitFor(() => expect(lines(state()).at(-1)).toBe('Not sent: nobody else is online (messages to everyone go only to people online).'));
	});

	test('nothing is sent to a contact whose key changed; the line says how to fix it', async () => {
		const {connection, state, actions} = await loggedIn([contact('amy', {keyChanged: true})]);
		expect(state().selected).toBe('amy');
		expect(actions().send('secret')).toBe(false);
		expect(connection.sends).toEqual([]);
		await waitFor(() =>
			expect(lines(state()).at(-1)).toBe("Not sent: amy's identity key changed. Compare safety numbers with /verify amy, then /trust amy to accept the new key."),
		);
	});

	test('accepted, delivered, gap, rejected, held and contact-updated reach the state', async () => {
		const {connection, state, actions} = await loggedIn();
		actions().send('hi');
		connection.emit('accepted', {id: 'id1', time: 3});
		await waitFor(() => expect(state().conversations.get('amy')?.[0]).toMatchObject({delivery: {state: 'stored', time: 3}}));
		connection.emit('delivered', {id: 'id1', by: 'amy'});
		await waitFor(() => expect(state().conversations.get('amy')?.[0]).toMatchObject({delivery: {state: 'delivered'}}));
		connection.emit('gap', {from: 'bob', missing: 2});
		connection.emit('rejected', {from: 'bob', code: 'malformed', reason: 'its payload is malformed'});
		connection.emit('contact-updated', contact('bob', {keyChanged: true}));
		connection.emit('held', {from: 'bob', count: 1});
		await waitFor(() =>
			expect(lines(state(), 'bob').slice(-4)).toEqual([
				'2 messages from bob never arrived: the relay withheld or lost them',
				'A message from bob was rejected: its payload is malformed',
				expect.stringContaining("WARNING: bob's identity key changed."),
				'1 message from bob is held behind the key warning until you /trust bob.',
			]),
		);
	});
});

describe('useChat contact commands', () => {
	test('/trust accepts a changed key only; unknown names and yourself get a clear line', async () => {
		const {connection, state, actions} = await loggedIn([contact('amy'), contact('bob', {keyChanged: true})]);
		actions().command({name: 'trust', target: 'amy'});
		actions().command({name: 'trust', target: 'bob'});
		actions().command({name: 'trust', target: 'zed'});
		actions().command({name: 'trust', target: 'me1'});
		expect(connection.calls).toEqual(['trust bob']);
		await waitFor(() =>
			expect(lines(state()).slice(-3)).toEqual([
				"amy's identity key has not changed: there is nothing to trust. (/verify amy compares safety numbers.)",
				'Nobody named zed is registered on this relay.',
				'/trust is about someone else: me1 is you.',
			]),
		);
	});

	test('a NAME left out means the selected person; with # everyone selected it is a usage line', async () => {
		const {connection, state, actions} = await loggedIn();
		actions().command({name: 'verify', target: undefined});
		await waitFor(() => expect(state().verification?.username).toBe('amy'));
		actions().closeVerification();
		actions().selectPrevious();
		await waitFor(() => expect(state().selected).toBe(everyone));
		actions().command({name: 'unverify', target: undefined});
		await waitFor(() => expect(lines(state()).at(-1)).toBe('Usage: /unverify NAME (or select the person first).'));
		expect(connection.calls).toEqual(['safetyNumber amy']);
	});

	test('/verify opens the view with the safety number; y marks verified, after trusting a changed key', async () => {
		const {connection, state, actions} = await loggedIn([contact('amy'), contact('bob', {keyChanged: true})]);
		actions().command({name: 'verify', target: 'amy'});
		await waitFor(() => expect(state().verification).toEqual({username: 'amy', safetyNumber: '0123456789abcdef0123456789abcdef01234567', keyChanged: false}));
		actions().confirmVerification();
		await waitFor(() => expect(state().verification).toBeUndefined());
		actions().command({name: 'verify', target: 'bob'});
		await waitFor(() => expect(state().verification?.keyChanged).toBe(true));
		actions().confirmVerification();
		expect(connection.calls).toEqual(['safetyNumber amy', 'safetyNumber amy', 'setVerified amy true', 'safetyNumber bob', 'trust bob', 'setVerified bob true']);
	});

	test('/unverify clears the mark of a verified contact only; a throwing client becomes a line', async () => {
		const {connection, state, actions} = await loggedIn([contact('amy', {verified: true}), contact('bob')]);
		actions().command({name: 'unverify', target: 'amy'});
		actions().command({name: 'unverify', target: 'bob'});
		connection.safetyNumber = () => {
			throw new Error('no keys for bob');
		};

		actions().command({name: 'verify', target: 'bob'});
		expect(connection.calls).toEqual(['setVerified amy false']);
		await waitFor(() =>
			expect(lines(state()).slice(-2)).toEqual(['bob is not marked verified.', 'Could not show the safety number with bob: no keys for bob']),
		);
		expect(state().verification).toBeUndefined();
	});
});
