import React from 'react';
import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import {chatReducer, createChatState} from '../../source/hooks/chat-state/reducer.js';
import {everyone, statusView, type ChatAction, type ChatState, type MessageLine} from '../../source/hooks/chat-state/types.js';
import {StatusLine, statusText} from '../../source/components/status-line.js';
import {deliveryMark} from '../../source/components/message-log/line-rows.js';
import type {Contact} from '../../source/client/client-events.js';

const contact = (username: string, fields: Partial<Contact> = {}): Contact => ({username, online: true, verified: false, keyChanged: false, ...fields});

function run(actions: ChatAction[], state: ChatState = createChatState({status: 'connecting'})): ChatState {
	return actions.reduce(chatReducer, state);
}

function loggedIn(): ChatState {
	return run([
		{type: 'status', status: 'online'},
		{type: 'welcome', welcome: {username: 'me1', users: [contact('amy'), contact('bob')], motd: 'hello', online: [], onlineCount: 3, waiting: 0}, time: 1},
	]);
}

const drop = (attempt: number, at = 10_000 + attempt): ChatAction => ({
	type: 'reconnecting',
	reconnect: {attempt, at, code: 'connection_lost', message: 'connection lost (ECONNRESET)'},
	time: 2,
});

/** The status view's lines, as text. */
const status = (state: ChatState) => (state.conversations.get(statusView) ?? []).map(line => line.text);

const own = (state: ChatState, key = 'amy') => (state.conversations.get(key) ?? []).filter((line): line is MessageLine => line.kind === 'message');

describe('chat state while reconnecting', () => {
	test('a drop is said once per outage; everyone shows offline; the status counts down to the next attempt', () => {
		const state = run([drop(1), {type: 'status', status: 'connecting'}, drop(2, 20_000)], loggedIn());
		expect(state.status).toBe('reconnecting');
		expect(state.reconnect).toEqual({attempt: 2, at: 20_000});
		expect(state.closed).toBeUndefined();
		expect(status(state).filter(text => text.startsWith('Connection lost'))).toEqual([
			'Connection lost: connection lost (ECONNRESET) (connection_lost). Reconnecting by itself; what you send meanwhile goes out once it is back.',
		]);
		expect([...state.contacts.values()].every(known => !known.online)).toBe(true);
		expect(state.notice).toEqual({tone: 'error', text: 'Connection lost: connection lost (ECONNRESET) (connection_lost)'});
	});

	test('what I send meanwhile waits; sent and waiting messages are stored once the relay takes them', () => {
		let state = run([{type: 'outgoing', id: 'm1', to: 'amy', recipients: ['amy'], text: 'before', time: 1}], loggedIn());
		state = run([drop(1), {type: 'outgoing', id: 'm2', to: 'amy', recipients: ['amy'], text: 'during', time: 3}], state);
		expect(own(state).map(line => line.delivery)).toEqual([{state: 'queued'}, {state: 'queued'}]);
		expect(state.notice).toEqual({tone: 'info', text: 'you are offline: it goes out once you are back online'});

		state = run(
			[
				{type: 'status', status: 'online'},
				{type: 'welcome', welcome: {username: 'me1', users: [contact('amy'), contact('bob', {online: false})], motd: 'hello', online: [], onlineCount: 2, waiting: 0, reconnected: true}, time: 4},
				{type: 'accepted', ack: {id: 'm1', time: 5}},
				{type: 'accepted', ack: {id: 'm2', time: 5}},
				{type: 'accepted', ack: {id: 'm2', time: 6}},
			],
			state,
		);
		expect(state.reconnect).toBeUndefined();
		expect(state.notice).toBeUndefined();
		expect(own(state).map(line => line.delivery)).toEqual([
			{state: 'stored', time: 5},
			{state: 'stored', time: 5},
		]);
		const system = status(state);
		expect(system.at(-1)).toBe('Back online. 1 other person is online; no messages were waiting for you.');
		// the message of the day and the greeting are not repeated
		expect(system.filter(text => text === 'hello' || text.startsWith('Logged in'))).toHaveLength(2);
		expect(state.contacts.get('amy')?.online).toBe(true);
	});

	test('a message that arrives twice is shown once', () => {
		const message: ChatAction = {type: 'message', message: {id: 'x1', from: 'amy', to: 'me1', kind: 'direct', text: 'hi', time: 5, sent: 4}};
		const state = run([message, message], loggedIn());
		expect(own(state).map(line => line.text)).toEqual(['hi']);
		const everyoneCopy: ChatAction = {type: 'message', message: {id: 'x1', from: 'bob', to: 'me1', kind: 'everyone', text: 'all', time: 5, sent: 4}};
		expect(own(run([everyoneCopy, everyoneCopy], state), everyone).map(line => line.text)).toEqual(['all']);
	});

	test('closing for good leaves what the relay did not take waiting for the next login', () => {
		const state = run(
			[
				{type: 'outgoing', id: 'm1', to: 'amy', recipients: ['amy'], text: 'pending', time: 1},
				drop(1),
				{type: 'closed', reason: {code: 'closed', message: 'you left'}, time: 3},
			],
			loggedIn(),
		);
		expect(state.status).toBe('closed');
		expect(state.reconnect).toBeUndefined();
		expect(own(state).map(line => line.delivery)).toEqual([{state: 'queued'}]);
	});

	test('rate_limited is not a failure: the client sends the message again by itself', () => {
		let state = run([{type: 'outgoing', id: 'm1', to: 'amy', recipients: ['amy'], text: 'fast', time: 1}], loggedIn());
		state = run([{type: 'relay-error', error: {code: 'rate_limited', message: 'slow down', ref: 'm1'}, time: 2}], state);
		expect(own(state)[0]?.delivery).toEqual({state: 'sending'});
		expect(state.tracking.has('m1')).toBe(true);
		expect(state.notice).toEqual({tone: 'info', text: 'the relay asks to slow down: sending again in a moment'});
	});

	test('a waiting message dropped because its recipient’s key changed shows as not sent', () => {
		let state = run([{type: 'outgoing', id: 'm1', to: 'amy', recipients: ['amy'], text: 'old key', time: 1}], loggedIn());
		state = run([{type: 'unsent', unsent: {id: 'm1', to: 'amy', reason: "it was sealed for amy's previous key"}, time: 2}], state);
		expect(own(state)[0]?.delivery).toEqual({state: 'failed', code: 'key_changed', message: "it was sealed for amy's previous key"});
		expect(state.tracking.has('m1')).toBe(false);
		// a receipt (never shown) that was dropped changes nothing
		expect(run([{type: 'unsent', unsent: {id: 'r1', to: 'amy', reason: 'x'}, time: 3}], state)).toBe(state);
	});
});

describe('refusals a person should read well', () => {
	const refusal = 'the relay at 127.0.0.1:7000 refused the connection (unverified: "session_replaced: taken over")';
	const because = (code: string, message: string, attempt = 1): ChatAction => ({type: 'reconnecting', reconnect: {attempt, at: 10_000, code, message}, time: 2});

	test('an unverified refusal is shown as the relay’s claim, not as the end of anything', () => {
		const after = run([because('unverified_refusal', refusal)], loggedIn());
		expect(after.status).toBe('reconnecting');
		expect(status(after).at(-1)).toBe(`Disconnected, and could not get back in: ${refusal}. Reconnecting by itself; what you send meanwhile goes out once it is back.`);
		const before = run([because('unverified_refusal', refusal)]);
		expect(status(before).at(-1)).toBe(`Could not get in: ${refusal}. Trying again by itself; Ctrl+C leaves.`);
	});

	test('logging in again refused for now (throttled, registration closed) says it is tried again', () => {
		const state = run([because('login_throttled', 'too many failed logins from this address')], loggedIn());
		expect(status(state).at(-1)).toBe(
			'Disconnected, and logging in again was refused for now: too many failed logins from this address (login_throttled). Reconnecting by itself; what you send meanwhile goes out once it is back.',
		);
	});

	test('the relay giving up on a slow login, or closing while its key is being compared, is not an outage: nothing is said', () => {
		const timedOut = run([{type: 'login-request'}, because('login_timeout', 'no login in time')]);
		expect(timedOut.status).toBe('reconnecting');
		expect(status(timedOut)).toEqual([]);
		expect(timedOut.notice).toBeUndefined();
		expect(timedOut.reconnect).toBeUndefined();
		// a real failure after it is still said
		expect(status(run([because('connect_failed', 'could not reach 127.0.0.1:7000 (ECONNREFUSED)', 2)], timedOut))).toHaveLength(1);

		const relay = {host: '127.0.0.1', port: 7000, fingerprint: 'ab'.repeat(32)};
		const asking = run([{type: 'relay-unknown', relay}, because('closed', 'the relay closed the connection')]);
		expect(status(asking)).toEqual([]);
		expect(asking.verify).toEqual(relay);
	});

	test('registration_closed at the name prompt says an existing name still logs in', () => {
		const state = run([{type: 'login-error', error: {code: 'registration_closed', message: 'this relay takes no new names now.'}}]);
		expect(state.login.error).toBe('this relay takes no new names now. A name this device registered before still logs in.');
		const throttled = run([{type: 'login-error', error: {code: 'login_throttled', message: 'too many failed logins from your address; wait and try again'}}]);
		expect(throttled.login.error).toBe('too many failed logins from your address; wait and try again');
	});

	test('quota_exceeded: the message shows as not sent, with why; one sent before this screen gets a line of its own', () => {
		let state = run([{type: 'outgoing', id: 'm1', to: 'amy', recipients: ['amy'], text: 'big', time: 1}], loggedIn());
		const why = 'you already have too much stored for people who are offline';
		state = run([{type: 'relay-error', error: {code: 'quota_exceeded', message: why, ref: 'm1'}, time: 2}], state);
		expect(own(state)[0]?.delivery).toEqual({state: 'failed', code: 'quota_exceeded', message: why});
		expect(deliveryMark(own(state)[0]!.delivery!, undefined)[0]).toBe(` ✗ not sent: ${why} (quota_exceeded)`);
		expect(state.notice).toEqual({tone: 'error', text: `not sent to amy: ${why}`, about: 'amy'});
		expect(state.tracking.has('m1')).toBe(false);

		const earlier = run([{type: 'relay-error', error: {code: 'quota_exceeded', message: why, ref: 'old1'}, time: 3}], state);
		expect(status(earlier).at(-1)).toBe(`Something this device sent earlier was refused by the relay and will not be delivered: ${why} (quota_exceeded)`);
	});
});

describe('status line while reconnecting', () => {
	test('counts down in whole seconds, then says reconnecting during the attempt', () => {
		expect(statusText('reconnecting', 10_000, 5_500)).toBe('reconnecting in 5 s…');
		expect(statusText('reconnecting', 10_000, 9_999)).toBe('reconnecting in 1 s…');
		expect(statusText('reconnecting', 10_000, 12_000)).toBe('reconnecting in 1 s…');
		expect(statusText('connecting', 10_000, 12_000)).toBe('reconnecting…');
		expect(statusText('login', 10_000, 12_000)).toBe('reconnecting…');
		expect(statusText('online', undefined)).toBe('online');
		expect(statusText('reconnecting', undefined)).toBe('reconnecting…');
	});

	test('renders on its one row', () => {
		const relay = {host: 'chat.example', port: 7000, fingerprint: '0123456789abcdef'.repeat(4)};
		const {lastFrame} = render(
			<StatusLine status="reconnecting" relay={relay} me="alice" notice={{tone: 'error', text: 'connection lost'}} width={100} reconnectAt={4000} now={0} />,
		);
		expect(lastFrame()).toBe('[reconnecting in 4 s…] connection lost │ chat.example:7000 0123 4567 89ab cdef │ you: alice');
	});
});
