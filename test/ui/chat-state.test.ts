import {isValidUsername} from '../../source/net/usernames.js';
import {describe, expect, test} from 'vitest';
import {chatReducer, createChatState} from '../../source/hooks/chat-state/reducer.js';
import {conversationList, onlineNowHeader, sidebarEntries} from '../../source/hooks/chat-state/conversations.js';
import {everyone, statusView, type ChatAction, type ChatLine, type ChatState} from '../../source/hooks/chat-state/types.js';
import type {Contact} from '../../source/client/client-events.js';

const relay = {host: 'localhost', port: 7000, fingerprint: 'ab'.repeat(32)};

function run(actions: ChatAction[], state = createChatState({status: 'connecting'})): ChatState {
	return actions.reduce(chatReducer, state);
}

const contact = (username: string, fields: Partial<Contact> = {}): Contact => ({username, online: true, verified: false, keyChanged: false, ...fields});

/** Logged in as `me`; `users` are online, `offline` registered but not online. */
function online(me: string, users: string[], motd: string | null = null, offline: string[] = []): ChatState {
	const contacts = [...users.map(name => contact(name)), ...offline.map(name => contact(name, {online: false}))];
	return run([
		{type: 'status', status: 'online'},
		{type: 'welcome', welcome: {username: me, users: contacts, motd, online: [], onlineCount: users.filter(name => isValidUsername(name) && name !== me).length + 1, waiting: 0}, time: 1},
	]);
}

const message = (from: string, text: string, id = `m-${from}-${text}`, kind: 'direct' | 'everyone' = 'direct'): ChatAction => ({
	type: 'message',
	message: {id, from, to: 'me1', kind, text, time: 5, sent: 4},
});

/** The status view's lines. */
const status = (state: ChatState): readonly ChatLine[] => state.conversations.get(statusView) ?? [];

const texts = (lines: readonly ChatLine[] | undefined) => (lines ?? []).map(line => line.text);

/** Each entry as its key and marks, e.g. "bob ○ ✓ ! (2) ›". */
const sidebar = (state: ChatState) =>
	sidebarEntries(state).map(
		entry =>
			`${entry.key}${entry.online ? '' : ' ○'}${entry.verified ? ' ✓' : ''}${entry.keyChanged ? ' !' : ''}${entry.unread ? ` (${entry.unread})` : ''}${entry.selected ? ' ›' : ''}`,
	);

describe('connection events', () => {
	test('starts from what the connection already knows', () => {
		const state = createChatState({status: 'online', relay, username: 'alice'});
		expect(state).toMatchObject({status: 'online', relay, me: 'alice', selected: undefined});
		expect(state.contacts.size).toBe(0);
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
		state = chatReducer(state, {type: 'welcome', welcome: {username: 'bob2', users: [], motd: null, online: [], onlineCount: 1, waiting: 0}, time: 1});
		expect(state.me).toBe('bob2');
		expect(state.login).toEqual({requested: false, pending: undefined, error: undefined});
	});

	test('welcome lists every registered user, drops me and invalid names, selects the first online, shows the motd', () => {
		const state = online('me1', ['zed', 'amy', 'me1', 'Bad Name'], 'Hello\nsecond line', ['bob']);
		expect([...state.contacts.keys()].sort()).toEqual(['amy', 'bob', 'zed']);
		expect(state.selected).toBe('amy');
		expect(sidebar(state)).toEqual([`${statusView} (1)`, everyone, 'amy ›', 'bob ○', 'zed']);
		expect(texts(status(state))).toEqual(['Logged in as me1. 2 other people are online; no messages were waiting for you. Type /help for help.', 'Hello', 'second line']);
		expect(status(state)[1]).toMatchObject({tone: 'announcement'});
	});

	test('welcome takes a relay of 10,000 users in one pass and leaves the state it was given alone', () => {
		const before = online('me1', ['amy']);
		const users = Array.from({length: 10_000}, (_, index) => contact(`u${index}`, {online: index % 2 === 0, keyChanged: index === 7}));
		const after = chatReducer(before, {type: 'welcome', welcome: {username: 'me1', users, motd: null, online: [], onlineCount: 5002, waiting: 3, reconnected: true}, time: 2});
		expect(after.contacts.size).toBe(10_001);
		expect(after.contacts.get('u7')?.keyChanged).toBe(true);
		expect(texts(after.conversations.get('u7'))[0]).toMatch(/^WARNING: u7's identity key changed/);
		expect(texts(status(after)).at(-1)).toBe('Back online. 5001 other people are online; 3 messages were waiting for you.');
		expect([...before.contacts.keys()]).toEqual(['amy']);
	});

	test('welcome with nobody online selects # everyone', () => {
		const state = online('me1', [], null, ['bob']);
		expect(state.selected).toBe(everyone);
		expect(texts(status(state))[0]).toBe('Logged in as me1. 0 other people are online; no messages were waiting for you. Type /help for help.');
	});

	test('user-joined marks a contact online (or adds a new one), with a system line; ignores me, duplicates and bad names', () => {
		let state = online('me1', ['bob'], null, ['cy']);
		state = run(
			[
				{type: 'user-joined', contact: contact('amy'), time: 2},
				{type: 'user-joined', contact: contact('amy'), time: 2},
				{type: 'user-joined', contact: contact('cy'), time: 2},
				{type: 'user-joined', contact: contact('me1'), time: 2},
				{type: 'user-joined', contact: contact('e\u001B[2Jvil'), time: 2},
			],
			state,
		);
		expect(sidebar(state)).toEqual([statusView, everyone, 'amy', 'bob ›', 'cy']);
		expect(texts(status(state)).filter(text => text.includes('joined'))).toEqual(['amy joined', 'cy joined']);
	});

	test('user-joined selects the newcomer when nothing is selected', () => {
		const state = run([{type: 'user-joined', contact: contact('amy'), time: 2}], createChatState({status: 'online', username: 'me1'}));
		expect(state.selected).toBe('amy');
	});

	test('user-left keeps the user listed, offline; an unknown or offline leaver changes nothing', () => {
		let state = online('me1', ['amy', 'bob']);
		state = chatReducer(state, {type: 'user-left', username: 'bob', time: 3});
		expect(sidebar(state)).toEqual([statusView, everyone, 'amy ›', 'bob ○']);
		expect(status(state).at(-1)?.text).toBe('bob left');
		expect(chatReducer(state, {type: 'user-left', username: 'nobody', time: 3})).toBe(state);
		expect(chatReducer(state, {type: 'user-left', username: 'bob', time: 3})).toBe(state);
	});

	test('closed leaves messages the relay had not taken waiting for the next login, keeps stored ones, marks everyone offline', () => {
		let state = online('me1', ['amy']);
		state = run(
			[
				{type: 'outgoing', id: 'x1', to: 'amy', recipients: ['amy'], text: 'hello', time: 4},
				{type: 'outgoing', id: 'x2', to: 'amy', recipients: ['amy'], text: 'kept', time: 4},
				{type: 'accepted', ack: {id: 'x2', time: 4}},
				{type: 'closed', reason: {code: 'bad_token', message: 'frame failed to authenticate'}, time: 5},
			],
			state,
		);
		expect(state.status).toBe('closed');
		const [first, second] = state.conversations.get('amy') ?? [];
		expect(first).toMatchObject({delivery: {state: 'queued'}});
		expect(second).toMatchObject({delivery: {state: 'stored', time: 4}});
		expect(state.notice).toEqual({tone: 'error', text: 'Connection closed: frame failed to authenticate (bad_token)'});
		expect(sidebar(state)).toEqual([statusView, everyone, 'amy ○ ›']);
	});

	test('shutdown is worded as such', () => {
		const state = chatReducer(online('me1', []), {type: 'closed', reason: {code: 'shutdown', message: 'maintenance'}, time: 5});
		expect(status(state).at(-1)).toMatchObject({tone: 'error', text: 'Disconnected, the relay went down: maintenance'});
	});

	test('announcements become one system line per line', () => {
		const state = chatReducer(online('me1', []), {type: 'announcement', announcement: {text: 'restart at 5\nback soon', time: 9}});
		expect(status(state).slice(-2)).toMatchObject([
			{tone: 'announcement', text: 'restart at 5', time: 9},
			{tone: 'announcement', text: 'back soon', time: 9},
		]);
	});
});

describe('messages and delivery', () => {
	test('a direct message goes sending → stored (accepted) → delivered (receipt from the recipient)', () => {
		let state = online('me1', ['amy']);
		state = chatReducer(state, {type: 'outgoing', id: 'x1', to: 'amy', recipients: ['amy'], text: 'hi', time: 4});
		expect(state.conversations.get('amy')).toMatchObject([{from: 'me1', to: 'amy', text: 'hi', delivery: {state: 'sending'}}]);
		expect(state.tracking.get('x1')).toBe('amy');
		state = chatReducer(state, {type: 'accepted', ack: {id: 'x1', time: 6}});
		expect(state.conversations.get('amy')?.[0]).toMatchObject({delivery: {state: 'stored', time: 6}});
		expect(chatReducer(state, {type: 'delivered', receipt: {id: 'x1', by: 'bob'}})).toEqual(state);
		state = chatReducer(state, {type: 'delivered', receipt: {id: 'x1', by: 'amy'}});
		expect(state.conversations.get('amy')?.[0]).toMatchObject({delivery: {state: 'delivered'}});
		expect(state.tracking.size).toBe(0);
		expect(chatReducer(state, {type: 'accepted', ack: {id: 'unknown', time: 7}})).toBe(state);
		expect(chatReducer(state, {type: 'delivered', receipt: {id: 'x1', by: 'amy'}})).toBe(state);
	});

	test('a receipt before the relay’s ack is not undone by the ack', () => {
		let state = online('me1', ['amy']);
		state = run(
			[
				{type: 'outgoing', id: 'x1', to: 'amy', recipients: ['amy'], text: 'hi', time: 4},
				{type: 'delivered', receipt: {id: 'x1', by: 'amy'}},
				{type: 'accepted', ack: {id: 'x1', time: 6}},
			],
			state,
		);
		expect(state.conversations.get('amy')?.[0]).toMatchObject({delivery: {state: 'delivered'}});
	});

	test('writing to an offline user says the relay keeps it until they log in', () => {
		let state = online('me1', ['amy'], null, ['bob']);
		state = chatReducer(state, {type: 'outgoing', id: 'x1', to: 'bob', recipients: ['bob'], text: 'later', time: 4});
		expect(state.notice).toEqual({tone: 'info', text: 'bob is offline: the relay keeps it until bob logs in', about: 'bob', reason: 'offline'});
		state = chatReducer(state, {type: 'accepted', ack: {id: 'x1', time: 6}});
		expect(state.conversations.get('bob')?.[0]).toMatchObject({delivery: {state: 'stored', time: 6}});
	});

	test('a message to everyone counts receipts from its recipients, once each', () => {
		let state = online('me1', ['amy', 'bob', 'cy']);
		state = run(
			[
				{type: 'select', key: everyone},
				{type: 'outgoing', id: 'e1', to: everyone, recipients: ['amy', 'bob', 'cy'], text: 'hi all', time: 4},
				{type: 'accepted', ack: {id: 'e1', time: 5}},
				{type: 'accepted', ack: {id: 'e1', time: 5}},
				{type: 'delivered', receipt: {id: 'e1', by: 'amy'}},
				{type: 'delivered', receipt: {id: 'e1', by: 'amy'}},
				{type: 'delivered', receipt: {id: 'e1', by: 'zed'}},
				{type: 'delivered', receipt: {id: 'e1', by: 'bob'}},
			],
			state,
		);
		expect(state.conversations.get(everyone)).toMatchObject([
			{to: everyone, text: 'hi all', delivery: {state: 'stored', time: 5}, receipts: {recipients: ['amy', 'bob', 'cy'], by: ['amy', 'bob']}},
		]);
		state = chatReducer(state, {type: 'delivered', receipt: {id: 'e1', by: 'cy'}});
		expect(state.conversations.get(everyone)?.[0]).toMatchObject({delivery: {state: 'delivered'}});
		expect(state.tracking.size).toBe(0);
	});

	test('a relay error naming a direct message marks it failed with the relay’s error', () => {
		let state = online('me1', ['amy']);
		state = run(
			[
				{type: 'outgoing', id: 'x1', to: 'amy', recipients: ['amy'], text: 'hi', time: 4},
				{type: 'relay-error', error: {code: 'queue_full', message: 'amy has too many messages waiting', ref: 'x1'}, time: 5},
			],
			state,
		);
		expect(state.conversations.get('amy')?.[0]).toMatchObject({delivery: {state: 'failed', code: 'queue_full', message: 'amy has too many messages waiting'}});
		expect(state.notice).toEqual({tone: 'error', text: 'not sent to amy: amy has too many messages waiting', about: 'amy'});
		expect(state.tracking.size).toBe(0);
	});

	test('a relay error naming a message to everyone says a copy was refused', () => {
		let state = online('me1', ['amy', 'bob']);
		state = run(
			[
				{type: 'outgoing', id: 'e1', to: everyone, recipients: ['amy', 'bob'], text: 'hi', time: 4},
				{type: 'relay-error', error: {code: 'queue_full', message: 'queue full', ref: 'e1'}, time: 5},
			],
			state,
		);
		expect(texts(state.conversations.get(everyone))).toEqual(['hi', 'A copy of your message to everyone was refused by the relay: queue full (queue_full)']);
		expect(state.conversations.get(everyone)?.[0]).toMatchObject({delivery: {state: 'sending'}});
	});

	test('a relay error without a known ref becomes a system line', () => {
		const state = chatReducer(online('me1', []), {
			type: 'relay-error',
			error: {code: 'already_logged_in', message: 'you are logged in', ref: null},
			time: 5,
		});
		expect(status(state).at(-1)).toMatchObject({tone: 'error', text: 'relay error (already_logged_in): you are logged in'});
	});

	test('a local storage failure becomes a system line and a notice that do not blame the relay', () => {
		const text = 'this device could not save a message from bob (locked); the relay keeps what was not saved, and the client tries again shortly';
		const state = chatReducer(online('me1', ['bob']), {type: 'local-error', error: {message: text}, time: 5});
		expect(status(state).at(-1)).toMatchObject({tone: 'error', text});
		expect(state.notice).toEqual({tone: 'error', text});
	});

	test('messages to everyone go to the everyone conversation, direct ones to the sender’s', () => {
		let state = online('me1', ['amy', 'bob']);
		state = run([message('bob', 'to all', 'm1', 'everyone'), message('bob', 'just you', 'm2')], state);
		expect(state.conversations.get(everyone)).toMatchObject([{from: 'bob', to: everyone, text: 'to all'}]);
		expect(texts(state.conversations.get('bob'))).toEqual(['just you']);
		expect(sidebar(state)).toEqual([statusView, `${everyone} (1)`, 'amy ›', 'bob (1)']);
		state = chatReducer(state, {type: 'select-previous'});
		expect(sidebar(state)).toEqual([statusView, `${everyone} ›`, 'amy', 'bob (1)']);
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

	test('a message when nothing is selected selects its conversation', () => {
		const state = createChatState({status: 'online', username: 'me1'});
		expect(chatReducer(state, message('amy', 'hi')).selected).toBe('amy');
		expect(chatReducer(state, message('amy', 'hi', 'e', 'everyone')).selected).toBe(everyone);
	});

	test('a message with an invalid sender name is dropped', () => {
		const state = online('me1', []);
		expect(chatReducer(state, message('-!- system', 'fake'))).toBe(state);
		expect(chatReducer(state, message('-!- system', 'fake', 'x', 'everyone'))).toBe(state);
	});

	test('usernames that are Object.prototype keys are ordinary names', () => {
		let state = online('me1', ['__proto__', 'constructor']);
		state = run([message('constructor', 'a'), message('__proto__', 'b')], state);
		expect(sidebarEntries(state).map(entry => [entry.key, entry.unread])).toEqual([
			[statusView, 0],
			[everyone, 0],
			['__proto__', 0],
			['constructor', 1],
		]);
	});

	test('all conversations together are bounded: the oldest lines of the one holding the most text go first', () => {
		let state = chatReducer(createChatState({status: 'online', username: 'me1'}, {maxTotalLines: 100, maxTotalChars: 5000}), {type: 'user-joined', contact: contact('amy'), time: 1});
		for (let index = 0; index < 20; index++) state = chatReducer(state, message('bob', `small ${index}`));
		// amy's long messages take the budget: hers are the ones that go.
		for (let index = 0; index < 20; index++) state = chatReducer(state, message('amy', `${index} ${'x'.repeat(400)}`));
		expect(state.held.chars).toBeLessThanOrEqual(5000);
		expect(texts(state.conversations.get('bob'))).toHaveLength(20);
		expect(texts(state.conversations.get('amy')).at(-1)).toMatch(/^19 /);
		expect(state.conversations.get('amy')!.length).toBeLessThan(20);
		// Many senders: the line budget holds too.
		for (let index = 0; index < 300; index++) state = chatReducer(state, message(`u${index}`, 'hi'));
		expect(state.held.lines).toBeLessThanOrEqual(100);
		const counted = [...state.conversations.values()].reduce((sum, lines) => sum + lines.length, 0);
		expect(state.held.lines).toBe(counted);
	});

	test('conversations and system lines are bounded by maxLines; old messages stop being tracked', () => {
		let state = chatReducer(createChatState({status: 'online', username: 'me1'}, {maxLines: 3}), {type: 'user-joined', contact: contact('amy'), time: 1});
		state = chatReducer(state, {type: 'outgoing', id: 'old', to: 'amy', recipients: ['amy'], text: 'mine', time: 1});
		for (let index = 0; index < 5; index++) state = chatReducer(state, message('amy', `n${index}`));
		for (let index = 0; index < 5; index++) state = chatReducer(state, {type: 'local', tone: 'info', text: `s${index}`, time: 1, conversation: statusView});
		expect(texts(state.conversations.get('amy'))).toEqual(['n2', 'n3', 'n4']);
		expect(texts(status(state))).toEqual(['s2', 's3', 's4']);
		expect(state.tracking.size).toBe(0);
	});
});

describe('contacts: changed keys, held messages, verification', () => {
	const warning = "WARNING: amy's identity key changed. amy may have reinstalled, or someone may be impersonating amy. Nothing is sent to amy and messages from the new key are held; compare safety numbers with /verify amy, then /trust amy to accept.";

	test('a changed key puts a warning in that conversation, marks the contact and sets the notice', () => {
		let state = online('me1', ['amy', 'bob']);
		state = chatReducer(state, {type: 'select', key: 'bob'});
		state = chatReducer(state, {type: 'contact-updated', contact: contact('amy', {keyChanged: true}), time: 3});
		expect(state.conversations.get('amy')).toMatchObject([{kind: 'system', tone: 'warning', text: warning}]);
		expect(sidebar(state)).toEqual([statusView, everyone, 'amy !', 'bob ›']);
		expect(state.notice).toEqual({tone: 'error', text: "amy's identity key changed: /verify amy, then /trust amy"});
		expect(texts(state.conversations.get('bob'))).not.toContain(warning);
		const again = chatReducer(state, {type: 'contact-updated', contact: contact('amy', {keyChanged: true}), time: 4});
		expect(again.conversations.get('amy')).toHaveLength(1);
	});

	test('a contact already changed at welcome or at join gets the warning too', () => {
		let state = run([{type: 'welcome', welcome: {username: 'me1', users: [contact('amy', {keyChanged: true})], motd: null, online: [], onlineCount: 1, waiting: 0}, time: 1}]);
		expect(texts(state.conversations.get('amy'))).toEqual([warning]);
		state = chatReducer(online('me1', [], null, ['amy']), {type: 'user-joined', contact: contact('amy', {keyChanged: true}), time: 2});
		expect(texts(state.conversations.get('amy'))).toEqual([warning, 'amy joined']);
	});

	test('accepting the new key and verifying are said in the conversation', () => {
		let state = online('me1', ['amy']);
		state = run(
			[
				{type: 'contact-updated', contact: contact('amy', {keyChanged: true}), time: 3},
				{type: 'contact-updated', contact: contact('amy'), time: 4},
				{type: 'contact-updated', contact: contact('amy', {verified: true}), time: 5},
				{type: 'contact-updated', contact: contact('amy'), time: 6},
			],
			state,
		);
		expect(texts(state.conversations.get('amy'))).toEqual([
			warning,
			"You accepted amy's new identity key; held messages follow.",
			'amy is verified: you compared safety numbers.',
			'amy is no longer marked verified.',
		]);
		expect(chatReducer(state, {type: 'contact-updated', contact: contact('me1', {keyChanged: true}), time: 7})).toBe(state);
	});

	test('a verified contact whose key changes loses the mark with the warning only', () => {
		let state = online('me1', []);
		state = run(
			[
				{type: 'user-joined', contact: contact('amy', {verified: true}), time: 2},
				{type: 'contact-updated', contact: contact('amy', {keyChanged: true}), time: 3},
			],
			state,
		);
		expect(texts(state.conversations.get('amy'))).toEqual([warning]);
		expect(sidebar(state)).toEqual([statusView, `${everyone} ›`, 'amy !']);
	});

	test('held messages are counted on one line that updates', () => {
		let state = online('me1', ['amy']);
		state = run(
			[
				{type: 'contact-updated', contact: contact('amy', {keyChanged: true}), time: 3},
				{type: 'held', held: {from: 'amy', count: 1}, time: 4},
				{type: 'held', held: {from: 'amy', count: 3}, time: 5},
				{type: 'held', held: {from: 'e\u001B[2Jvil', count: 3}, time: 5},
				{type: 'held', held: {from: 'amy', count: 0}, time: 5},
			],
			state,
		);
		expect(state.conversations.get('amy')?.slice(1)).toMatchObject([
			{kind: 'system', tone: 'warning', text: '3 messages from amy are held behind the key warning until you /trust amy.', time: 5},
		]);
		state = run([message('amy', 'old key'), {type: 'held', held: {from: 'amy', count: 1}, time: 6}], state);
		expect(texts(state.conversations.get('amy')).at(-1)).toBe('1 message from amy is held behind the key warning until you /trust amy.');
	});

	test('a contact without prekeys yet is said as information, not as an error', () => {
		const message = 'bob has not logged in since the relay was upgraded: what you send them waits on this device and goes out once they do';
		const state = run([{type: 'relay-error', error: {code: 'no_prekeys', message, ref: null}, time: 3}], online('me1', ['bob']));
		expect(state.notice).toEqual({tone: 'info', text: message});
		expect(state.conversations.get(statusView)?.at(-1)).toMatchObject({kind: 'system', tone: 'info', text: message});
	});

	test('a rebuilt session is a warning line in that conversation, whichever side rebuilt it', () => {
		let state = online('me1', ['amy']);
		state = run(
			[
				{type: 'session-reset', reset: {with: 'amy', by: 'them', resent: 2}, time: 3},
				{type: 'session-reset', reset: {with: 'amy', by: 'me', resent: 0}, time: 4},
				{type: 'session-reset', reset: {with: 'e\u001B[2Jvil', by: 'them', resent: 0}, time: 5},
			],
			state,
		);
		expect(state.conversations.get('amy')).toMatchObject([
			{kind: 'system', tone: 'warning', text: 'amy started a new secure session: their device lost its session or was restored from an older copy. 2 messages amy had not confirmed were sent again.', time: 3},
			{kind: 'system', tone: 'warning', text: expect.stringMatching(/^Started a new secure session with amy: this device could not read their messages/), time: 4},
		]);
		expect(state.conversations.has('e\u001B[2Jvil')).toBe(false);
	});

	test('a gap is a system line in the sender’s conversation', () => {
		let state = online('me1', ['amy']);
		state = run(
			[
				{type: 'gap', gap: {from: 'amy', missing: 1}, time: 3},
				{type: 'gap', gap: {from: 'amy', missing: 4}, time: 3},
				{type: 'gap', gap: {from: 'amy', missing: 0}, time: 3},
			],
			state,
		);
		expect(state.conversations.get('amy')).toMatchObject([
			{kind: 'system', tone: 'error', text: '1 message from amy never arrived: the relay withheld or lost them'},
			{kind: 'system', tone: 'error', text: '4 messages from amy never arrived: the relay withheld or lost them'},
		]);
	});

	test('a rejected envelope is a system line with the reason (not for a mere replay); an invalid sender goes to the system lines', () => {
		let state = online('me1', ['amy']);
		state = run(
			[
				{type: 'rejected', rejection: {from: 'amy', code: 'unauthenticated', reason: 'it failed to authenticate'}, time: 3},
				{type: 'rejected', rejection: {from: 'amy', code: 'replay', reason: 'seen before'}, time: 3},
				{type: 'rejected', rejection: {from: '-!- x', code: 'misaddressed', reason: 'not for you'}, time: 3},
				{type: 'rejected', rejection: {from: 'amy', code: 'invalid_identity', reason: 'its signature does not verify'}, time: 3},
			],
			state,
		);
		expect(texts(state.conversations.get('amy'))).toEqual([
			'A message from amy was rejected: it failed to authenticate',
			'The identity the relay served for amy was rejected: its signature does not verify',
		]);
		expect(status(state).at(-1)).toMatchObject({tone: 'error', text: 'A message from an unknown sender was rejected: not for you'});
	});

	test('verify-open and verify-close hold the /verify view', () => {
		let state = online('me1', ['amy']);
		state = chatReducer(state, {type: 'verify-open', username: 'amy', safetyNumber: '0123'.repeat(10)});
		expect(state.verification).toEqual({username: 'amy', safetyNumber: '0123'.repeat(10), keyChanged: false});
		state = chatReducer(state, {type: 'contact-updated', contact: contact('amy', {keyChanged: true}), time: 3});
		expect(chatReducer(state, {type: 'verify-open', username: 'amy', safetyNumber: 'ab'}).verification?.keyChanged).toBe(true);
		expect(chatReducer(state, {type: 'verify-close'}).verification).toBeUndefined();
	});

	test('a local line can go to one conversation', () => {
		const state = chatReducer(online('me1', ['amy']), {type: 'local', tone: 'error', text: 'not sent', time: 3, conversation: 'amy'});
		expect(texts(state.conversations.get('amy'))).toEqual(['not sent']);
	});
});

describe('selection', () => {
	test('Down and Up walk # everyone and the sorted users, and wrap around', () => {
		let state = online('me1', ['cy', 'amy', 'bob']);
		expect(state.selected).toBe('amy');
		const walk: string[] = [];
		for (const type of ['select-next', 'select-next', 'select-next', 'select-previous', 'select-previous'] as const) {
			state = chatReducer(state, {type});
			walk.push(state.selected ?? '');
		}

		expect(walk).toEqual(['bob', 'cy', statusView, 'cy', 'bob']);
	});

	test('with nothing selected, Down picks the status view and Up the last user', () => {
		const state = {...createChatState({status: 'online', username: 'me1'}), contacts: new Map([['amy', contact('amy')], ['bob', contact('bob')]])};
		expect(chatReducer(state, {type: 'select-next'}).selected).toBe(statusView);
		expect(chatReducer(state, {type: 'select-previous'}).selected).toBe('bob');
	});

	test('selection stays on the same name when others join and leave', () => {
		let state = online('me1', ['bob', 'cy']);
		state = chatReducer(state, {type: 'select-next'});
		expect(state.selected).toBe('cy');
		state = run(
			[
				{type: 'user-joined', contact: contact('amy'), time: 2},
				{type: 'user-left', username: 'bob', time: 2},
				{type: 'user-joined', contact: contact('dan'), time: 2},
			],
			state,
		);
		expect(state.selected).toBe('cy');
		expect(conversationList(state)).toEqual([statusView, everyone, 'amy', 'bob', 'cy', 'dan']);
	});

	test('select by key only picks something listed', () => {
		const state = online('me1', ['amy', 'bob']);
		expect(chatReducer(state, {type: 'select', key: 'bob'}).selected).toBe('bob');
		expect(chatReducer(state, {type: 'select', key: everyone}).selected).toBe(everyone);
		expect(chatReducer(state, {type: 'select', key: 'zed'})).toBe(state);
	});
});

describe('the status view and what goes where', () => {
	test('joins, leaves and announcements go to the status view, not into every conversation', () => {
		let state = online('me1', ['amy', 'bob']);
		state = run(
			[
				message('amy', 'a1'),
				{type: 'user-joined', contact: contact('cy'), time: 2},
				{type: 'outgoing', id: 'x', to: 'amy', recipients: ['amy'], text: 'a2', time: 3},
				{type: 'announcement', announcement: {text: 'note', time: 4}},
			],
			state,
		);
		expect(texts(state.conversations.get('amy'))).toEqual(['a1', 'a2']);
		expect(texts(status(state))).toEqual([expect.stringContaining('Logged in'), 'cy joined', 'note']);
		expect(status(state).map(line => (line.kind === 'system' ? line.tone : line.kind))).toEqual(['info', 'join', 'announcement']);
		expect(state.unread.get(statusView)).toBe(1);
		expect(state.notice).toEqual({tone: 'info', text: 'relay: note'});
	});

	test("a person's join and leave show in the conversation with them, once there is one", () => {
		let state = online('me1', ['amy', 'bob']);
		state = run([{type: 'user-left', username: 'bob', time: 2}, message('amy', 'hi'), {type: 'user-left', username: 'amy', time: 3}, {type: 'user-joined', contact: contact('amy'), time: 4}], state);
		expect(texts(state.conversations.get('amy'))).toEqual(['hi', 'amy left', 'amy joined']);
		expect(texts(status(state)).slice(1)).toEqual(['bob left']);
	});

	test('the offline notice goes when that person comes back, and when you switch to another conversation', () => {
		let state = online('me1', ['amy'], null, ['bob']);
		state = run([{type: 'select', key: 'bob'}, {type: 'outgoing', id: 'x1', to: 'bob', recipients: ['bob'], text: 'later', time: 4}], state);
		expect(state.notice?.text).toBe('bob is offline: the relay keeps it until bob logs in');
		expect(chatReducer(state, {type: 'user-joined', contact: contact('bob'), time: 5}).notice).toBeUndefined();
		expect(chatReducer(state, {type: 'user-joined', contact: contact('cy'), time: 5}).notice?.text).toMatch(/^bob is offline/);
		expect(chatReducer(state, {type: 'select', key: everyone}).notice).toBeUndefined();
	});

	test('a message arriving in a conversation not on screen counts as unread; the first rings the bell; on screen nothing rings', () => {
		let state = online('me1', ['amy', 'bob', 'cy']);
		expect(state.selected).toBe('amy');
		state = run([message('bob', 'b1'), message('bob', 'b2'), message('amy', 'a1')], state);
		expect(state.unread.get('bob')).toBe(2);
		expect(state.bells).toBe(1);
		state = run([message('cy', 'c1')], state);
		expect(state.bells).toBe(2);
		state = chatReducer(state, {type: 'select-unread'});
		expect(state.selected).toBe('bob');
		expect(state.unread.get('bob')).toBeUndefined();
		state = chatReducer(state, {type: 'select-unread'});
		expect(state.selected).toBe('cy');
		expect(chatReducer(state, {type: 'select-unread'})).toBe(state);
	});

	test('a received message shows its author’s time, unless that clock is ahead of the relay’s or impossibly old', () => {
		const at = (sent: number, time: number) => ({type: 'message', message: {id: `m${sent}`, from: 'amy', to: 'me1', kind: 'direct', text: 't', time, sent}}) as ChatAction;
		const minute = 60_000;
		const state = run([at(10 * minute, 11 * minute), at(14 * minute, 12 * minute), at(0, 40 * 24 * 60 * minute)], online('me1', ['amy']));
		expect(state.conversations.get('amy')?.map(line => line.time)).toEqual([10 * minute, 12 * minute, 40 * 24 * 60 * minute]);
	});

	test('local lines go to the selected conversation, or to the status view with nothing selected', () => {
		const state = run([{type: 'local', tone: 'info', text: 'hello', time: 1}]);
		expect(texts(status(state))).toEqual(['hello']);
		const selected = chatReducer(online('me1', ['amy']), {type: 'local', tone: 'error', text: 'refused', time: 3});
		expect(texts(selected.conversations.get('amy'))).toEqual(['refused']);
	});

	test('connection trouble before the first login says the relay could not be reached', () => {
		const state = run([{type: 'reconnecting', reconnect: {attempt: 1, at: 500, code: 'connect_failed', message: 'could not reach h:1 (ECONNREFUSED)'}, time: 1}]);
		expect(texts(status(state))).toEqual(['Could not reach the relay: could not reach h:1 (ECONNREFUSED) (connect_failed). Trying again by itself; Ctrl+C leaves.']);
		expect(state.status).toBe('reconnecting');
	});
});

describe('lookups and who is online', () => {
	test('the who-is-online view keeps valid names but me, without repeats, at most 100; the sidebar lists those not contacts under a heading', () => {
		let state = online('me1', ['amy']);
		const many = Array.from({length: 300}, (_, index) => `u${index}`);
		state = chatReducer(state, {type: 'online', online: {names: ['amy', 'me1', 'zed', 'zed', 'Bad Name', ...many], total: 400, asked: false}, time: 2});
		expect(state.who.names).toHaveLength(100);
		expect(state.who.names.slice(0, 3)).toEqual(['amy', 'zed', 'u0']);
		expect(sidebar(state).slice(0, 6)).toEqual([statusView, everyone, 'amy ›', `${onlineNowHeader} ○`, 'zed', 'u0']);
		expect(status(state)).toHaveLength(1);
	});

	test('/who answered: listed in the status view', () => {
		const state = chatReducer(online('me1', []), {type: 'online', online: {names: ['zed', 'amy'], total: 3, asked: true}, time: 2});
		expect(texts(status(state)).at(-1)).toBe('3 people are online, you included. Logged in last: zed, amy.');
	});

	test('who a lookup found becomes a contact, a changed record with the warning; a failed carry-over is said in the status view', () => {
		let state = online('me1', ['amy']);
		state = chatReducer(state, {type: 'found', found: {id: 'q1', reason: 'carry-over', users: [contact('bob', {online: false}), contact('cy', {keyChanged: true}), contact('me1')], missing: ['dee']}, time: 2});
		expect([...state.contacts.keys()].sort()).toEqual(['amy', 'bob', 'cy']);
		expect(texts(state.conversations.get('cy'))[0]).toMatch(/^WARNING: cy's identity key changed/);
		state = chatReducer(state, {type: 'lookup-failed', failure: {id: 'q2', names: ['eve', 'fay'], reason: 'carry-over', code: 'lookup_throttled', message: 'wait 5 minutes'}, time: 3});
		expect(texts(status(state)).at(-1)).toBe('Could not look up 2 people you knew before on this relay: wait 5 minutes');
		const unchanged = chatReducer(state, {type: 'lookup-failed', failure: {id: 'q3', names: ['gus'], reason: 'user', code: 'lookup_throttled', message: 'wait'}, time: 4});
		expect(unchanged).toBe(state);
	});
});
