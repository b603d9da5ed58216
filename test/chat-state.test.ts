import {describe, expect, test} from 'vitest';
import {chatReducer, createChatState, peerEntries, peerList, visibleLines, type ChatAction, type ChatState} from '../source/chat-state.js';

const relay = {host: 'localhost', port: 7000, fingerprint: 'ab'.repeat(32)};

function run(actions: ChatAction[], state = createChatState({status: 'connecting'})): ChatState {
	return actions.reduce(chatReducer, state);
}

function online(me: string, users: string[], motd: string | null = null): ChatState {
	return run([
		{type: 'status', status: 'online'},
		{type: 'welcome', welcome: {username: me, users, motd}, time: 1},
	]);
}

const message = (from: string, text: string, id = `m-${from}-${text}`): ChatAction => ({
	type: 'message',
	message: {id, from, to: 'me1', text, time: 5},
});

describe('connection events', () => {
	test('starts from what the connection already knows', () => {
		const state = createChatState({status: 'online', relay, username: 'alice'});
		expect(state).toMatchObject({status: 'online', relay, me: 'alice', online: [], selected: undefined});
	});

	test('relay-unknown waits for a decision; trust-decided clears it', () => {
		const waiting = run([{type: 'status', status: 'verifying'}, {type: 'relay-unknown', relay}]);
		expect(waiting.verify).toEqual(relay);
		expect(waiting.status).toBe('verifying');
		expect(chatReducer(waiting, {type: 'trust-decided', trust: true}).verify).toBeUndefined();
		expect(chatReducer(waiting, {type: 'relay-trusted', relay}).verify).toBeUndefined();
	});

	test('relay-changed records both fingerprints', () => {
		const state = run([{type: 'relay-changed', relay, pinnedFingerprint: 'cd'.repeat(32)}]);
		expect(state.keyChanged).toEqual({relay, pinnedFingerprint: 'cd'.repeat(32)});
	});

	test('login request, login error and retry', () => {
		let state = run([{type: 'status', status: 'login'}, {type: 'login-request'}]);
		expect(state.login).toEqual({requested: true, pending: undefined, error: undefined});
		state = chatReducer(state, {type: 'login-sent', username: 'bob'});
		expect(state.login).toEqual({requested: false, pending: 'bob', error: undefined});
		state = chatReducer(state, {type: 'login-error', error: {code: 'username_taken', message: 'bob is taken'}});
		expect(state.login).toEqual({requested: true, pending: undefined, error: 'bob is taken'});
		expect(state.notice).toEqual({tone: 'error', text: 'bob is taken'});
		state = chatReducer(state, {type: 'welcome', welcome: {username: 'bob2', users: [], motd: null}, time: 1});
		expect(state.me).toBe('bob2');
		expect(state.login).toEqual({requested: false, pending: undefined, error: undefined});
	});

	test('welcome sorts users, drops me and invalid names, selects the first, shows the motd', () => {
		const state = online('me1', ['zed', 'amy', 'me1', 'Bad Name', 'amy'], 'Hello\nsecond line');
		expect(state.online).toEqual(['amy', 'zed']);
		expect(state.selected).toBe('amy');
		expect(state.system.map(line => line.text)).toEqual([
			'Logged in as me1. 2 other people are online. Type /help for help.',
			'Hello',
			'second line',
		]);
		expect(state.system[1]?.tone).toBe('announcement');
	});

	test('user-joined keeps the list sorted, adds a system line, ignores me and duplicates', () => {
		let state = online('me1', ['bob']);
		state = run(
			[
				{type: 'user-joined', username: 'amy', time: 2},
				{type: 'user-joined', username: 'amy', time: 2},
				{type: 'user-joined', username: 'me1', time: 2},
				{type: 'user-joined', username: 'e\u001B[2Jvil', time: 2},
			],
			state,
		);
		expect(state.online).toEqual(['amy', 'bob']);
		expect(state.selected).toBe('bob');
		expect(state.system.filter(line => line.text.includes('joined')).map(line => line.text)).toEqual(['amy joined']);
	});

	test('user-joined selects the newcomer when nobody is selected', () => {
		const state = run([{type: 'user-joined', username: 'amy', time: 2}], online('me1', []));
		expect(state.selected).toBe('amy');
	});

	test('user-left removes the user; an unknown leaver changes nothing', () => {
		let state = online('me1', ['amy', 'bob']);
		state = chatReducer(state, {type: 'user-left', username: 'bob', time: 3});
		expect(state.online).toEqual(['amy']);
		expect(state.system.at(-1)?.text).toBe('bob left');
		expect(chatReducer(state, {type: 'user-left', username: 'nobody', time: 3})).toBe(state);
	});

	test('a leaver you talked with stays in the list, marked offline', () => {
		let state = online('me1', ['amy', 'bob', 'cy']);
		state = run([message('cy', 'hi'), {type: 'user-left', username: 'cy', time: 3}, {type: 'user-left', username: 'bob', time: 3}], state);
		expect(peerEntries(state)).toEqual([
			{name: 'amy', online: true, unread: 0, selected: true},
			{name: 'cy', online: false, unread: 1, selected: false},
		]);
	});

	test('closed fails pending messages, clears who is online and sets the notice', () => {
		let state = online('me1', ['amy']);
		state = run(
			[
				{type: 'outgoing', id: 'x1', to: 'amy', text: 'hello', time: 4},
				{type: 'closed', reason: {code: 'bad_token', message: 'frame failed to authenticate'}, time: 5},
			],
			state,
		);
		expect(state.status).toBe('closed');
		expect(state.online).toEqual([]);
		expect(state.conversations.get('amy')?.[0]?.delivery).toEqual({state: 'failed', code: 'bad_token', message: 'the connection closed'});
		expect(state.notice).toEqual({tone: 'error', text: 'Connection closed: frame failed to authenticate (bad_token)'});
		expect(peerEntries(state)).toEqual([{name: 'amy', online: false, unread: 0, selected: true}]);
	});

	test('shutdown is worded as such', () => {
		const state = chatReducer(online('me1', []), {type: 'closed', reason: {code: 'shutdown', message: 'maintenance'}, time: 5});
		expect(state.system.at(-1)).toMatchObject({tone: 'error', text: 'Disconnected, the relay went down: maintenance'});
	});

	test('announcements become one system line per line', () => {
		const state = chatReducer(online('me1', []), {type: 'announcement', announcement: {text: 'restart at 5\nback soon', time: 9}});
		expect(state.system.slice(-2)).toMatchObject([
			{tone: 'announcement', text: 'restart at 5', time: 9},
			{tone: 'announcement', text: 'back soon', time: 9},
		]);
	});
});

describe('messages and delivery', () => {
	test('an outgoing message is "sending" until the relay says sent', () => {
		let state = online('me1', ['amy']);
		state = chatReducer(state, {type: 'outgoing', id: 'x1', to: 'amy', text: 'hi', time: 4});
		expect(state.conversations.get('amy')).toMatchObject([{from: 'me1', to: 'amy', text: 'hi', delivery: {state: 'sending'}}]);
		expect(state.pending.get('x1')).toBe('amy');
		state = chatReducer(state, {type: 'sent', ack: {id: 'x1', time: 6}});
		expect(state.conversations.get('amy')?.[0]?.delivery).toEqual({state: 'sent', time: 6});
		expect(state.pending.size).toBe(0);
		expect(chatReducer(state, {type: 'sent', ack: {id: 'unknown', time: 7}})).toBe(state);
	});

	test('a relay error naming the message marks it failed with the relay’s error', () => {
		let state = online('me1', ['amy']);
		state = run(
			[
				{type: 'outgoing', id: 'x1', to: 'amy', text: 'hi', time: 4},
				{type: 'relay-error', error: {code: 'recipient_offline', message: 'amy is offline', ref: 'x1'}, time: 5},
			],
			state,
		);
		expect(state.conversations.get('amy')?.[0]?.delivery).toEqual({state: 'failed', code: 'recipient_offline', message: 'amy is offline'});
		expect(state.notice).toEqual({tone: 'error', text: 'not delivered to amy: amy is offline'});
	});

	test('a relay error without a known ref becomes a system line', () => {
		const state = chatReducer(online('me1', []), {
			type: 'relay-error',
			error: {code: 'already_logged_in', message: 'you are logged in', ref: null},
			time: 5,
		});
		expect(state.system.at(-1)).toMatchObject({tone: 'error', text: 'relay error (already_logged_in): you are logged in'});
	});

	test('messages from someone not selected count as unread until selected', () => {
		let state = online('me1', ['amy', 'bob']);
		state = run([message('bob', 'one'), message('bob', 'two'), message('amy', 'three')], state);
		expect(state.unread.get('bob')).toBe(2);
		expect(state.unread.get('amy')).toBeUndefined();
		state = chatReducer(state, {type: 'select-next'});
		expect(state.selected).toBe('bob');
		expect(state.unread.get('bob')).toBeUndefined();
	});

	test('a message when nobody is selected selects the sender', () => {
		const state = chatReducer(online('me1', []), message('amy', 'hi'));
		expect(state.selected).toBe('amy');
		expect(state.unread.size).toBe(0);
	});

	test('a message with an invalid sender name is dropped', () => {
		const state = online('me1', []);
		expect(chatReducer(state, message('-!- system', 'fake'))).toBe(state);
	});

	test('usernames that are Object.prototype keys are ordinary names', () => {
		let state = online('me1', ['__proto__', 'constructor']);
		state = run([message('constructor', 'a'), message('__proto__', 'b')], state);
		expect(peerEntries(state).map(entry => [entry.name, entry.unread])).toEqual([
			['__proto__', 0],
			['constructor', 1],
		]);
	});

	test('conversations and system lines are bounded by maxLines', () => {
		let state = chatReducer(createChatState({status: 'online', username: 'me1'}, {maxLines: 3}), {type: 'user-joined', username: 'amy', time: 1});
		for (let index = 0; index < 5; index++) state = chatReducer(state, message('amy', `n${index}`));
		for (let index = 0; index < 5; index++) state = chatReducer(state, {type: 'local', tone: 'info', text: `s${index}`, time: 1});
		expect(state.conversations.get('amy')?.map(line => line.text)).toEqual(['n2', 'n3', 'n4']);
		expect(state.system.map(line => line.text)).toEqual(['s2', 's3', 's4']);
	});
});

describe('selection', () => {
	test('Down and Up walk the sorted list and wrap around', () => {
		let state = online('me1', ['cy', 'amy', 'bob']);
		expect(state.selected).toBe('amy');
		const walk: string[] = [];
		for (const type of ['select-next', 'select-next', 'select-next', 'select-previous', 'select-previous'] as const) {
			state = chatReducer(state, {type});
			walk.push(state.selected ?? '');
		}

		expect(walk).toEqual(['bob', 'cy', 'amy', 'cy', 'bob']);
	});

	test('with nobody selected, Down picks the first and Up the last', () => {
		const state = createChatState({status: 'online', username: 'me1'});
		const withUsers = {...state, online: ['amy', 'bob']};
		expect(chatReducer(withUsers, {type: 'select-next'}).selected).toBe('amy');
		expect(chatReducer(withUsers, {type: 'select-previous'}).selected).toBe('bob');
		expect(chatReducer(state, {type: 'select-next'})).toBe(state);
	});

	test('selection stays on the same name when others join and leave', () => {
		let state = online('me1', ['bob', 'cy']);
		state = chatReducer(state, {type: 'select-next'});
		expect(state.selected).toBe('cy');
		state = run(
			[
				{type: 'user-joined', username: 'amy', time: 2},
				{type: 'user-left', username: 'bob', time: 2},
				{type: 'user-joined', username: 'dan', time: 2},
			],
			state,
		);
		expect(state.selected).toBe('cy');
		expect(peerList(state)).toEqual(['amy', 'cy', 'dan']);
	});

	test('a selected person who leaves stays listed while selected', () => {
		let state = online('me1', ['amy', 'bob']);
		state = chatReducer(state, {type: 'user-left', username: 'amy', time: 2});
		expect(state.selected).toBe('amy');
		expect(peerEntries(state)[0]).toEqual({name: 'amy', online: false, unread: 0, selected: true});
		state = chatReducer(state, {type: 'select-next'});
		expect(peerList(state)).toEqual(['bob']);
	});

	test('select by name only picks someone listed', () => {
		const state = online('me1', ['amy', 'bob']);
		expect(chatReducer(state, {type: 'select', username: 'bob'}).selected).toBe('bob');
		expect(chatReducer(state, {type: 'select', username: 'zed'})).toBe(state);
	});
});

describe('visibleLines', () => {
	test('merges the selected conversation with system lines in arrival order', () => {
		let state = online('me1', ['amy', 'bob']);
		state = run(
			[
				message('amy', 'a1'),
				{type: 'user-joined', username: 'cy', time: 2},
				message('bob', 'b1'),
				{type: 'outgoing', id: 'x', to: 'amy', text: 'a2', time: 3},
				{type: 'announcement', announcement: {text: 'note', time: 4}},
			],
			state,
		);
		const texts = visibleLines(state).map(line => line.text);
		expect(texts).toEqual([expect.stringContaining('Logged in'), 'a1', 'cy joined', 'a2', 'note']);
		const seqs = visibleLines(state).map(line => line.seq);
		expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
	});

	test('with nobody selected only system lines show', () => {
		const state = run([{type: 'local', tone: 'info', text: 'hello', time: 1}]);
		expect(visibleLines(state).map(line => line.text)).toEqual(['hello']);
	});
});
