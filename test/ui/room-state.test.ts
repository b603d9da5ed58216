import {describe, expect, test} from 'vitest';
import {chatReducer, createChatState} from '../../source/hooks/chat-state/reducer.js';
import {conversationList, roomsHeader, sidebarEntries} from '../../source/hooks/chat-state/conversations.js';
import {roomSummary} from '../../source/hooks/chat-state/rooms.js';
import type {ChatAction, ChatLine, ChatState, MessageLine} from '../../source/hooks/chat-state/types.js';
import {deliveryMark} from '../../source/components/message-log/line-rows.js';
import {entryLine} from '../../source/components/message-log/kept-source.js';
import type {RoomView} from '../../source/hooks/rooms/room-api.js';

const run = (actions: ChatAction[], state: ChatState): ChatState => actions.reduce(chatReducer, state);

function loggedIn(): ChatState {
	const contact = (username: string) => ({username, online: true, verified: false, keyChanged: false});
	return run(
		[
			{type: 'status', status: 'online'},
			{type: 'welcome', welcome: {username: 'me1', users: [contact('bob'), contact('carol')], motd: null, online: [], onlineCount: 3, waiting: 0}, time: 1},
		],
		createChatState({status: 'connecting'}),
	);
}

const view = (room: string, fields: Partial<RoomView> = {}): RoomView => ({
	room,
	topic: '',
	members: [
		{username: 'me1', admin: true},
		{username: 'bob', admin: false},
	],
	admins: ['me1'],
	creator: 'me1',
	index: 1,
	status: 'member',
	needsRekey: false,
	...fields,
});

const texts = (state: ChatState, key: string) => (state.conversations.get(key) ?? []).map(line => `${line.kind === 'system' ? line.tone : `<${line.from}>`} ${line.text}`);

const sidebar = (state: ChatState) =>
	sidebarEntries(state).map(entry => `${entry.key}${entry.room ? ` [${entry.room}]` : ''}${entry.unread ? ` (${entry.unread})` : ''}${entry.selected ? ' ›' : ''}`);

const roomMessage = (room: string, from: string, text: string, id = `${from}-${text}`): ChatAction => ({type: 'room-message', message: {room, seq: 1, id, from, text, time: 100, sent: 99}});

describe('rooms in the chat state', () => {
	test('the sidebar lists rooms in a section of their own, after everyone and before people; arrows step through them', () => {
		let state = run([{type: 'rooms', rooms: [view('ops'), view('dev')], time: 2}], loggedIn());
		expect(sidebar(state)).toEqual(['*status', '#everyone', roomsHeader, '#dev [member]', '#ops [member]', 'bob ›', 'carol']);
		expect(conversationList(state)).toEqual(['*status', '#everyone', '#dev', '#ops', 'bob', 'carol']);
		state = run([{type: 'select-previous'}], state);
		expect(state.selected).toBe('#ops');
		state = run([{type: 'select-previous'}, {type: 'select-previous'}], state);
		expect(state.selected).toBe('#everyone');
	});

	test('room messages: in the #room conversation, counted unread when not on screen, the bell rung once, shown once', () => {
		let state = run([{type: 'rooms', rooms: [view('dev')], time: 2}], loggedIn());
		state = run([roomMessage('dev', 'bob', 'hi all'), roomMessage('dev', 'bob', 'anyone?'), roomMessage('dev', 'bob', 'anyone?')], state);
		expect(texts(state, '#dev')).toEqual(['<bob> hi all', '<bob> anyone?']);
		expect(sidebar(state)).toContain('#dev [member] (2)');
		expect(state.bells).toBe(1);
		state = run([{type: 'select', key: '#dev'}], state);
		expect(sidebar(state)).toContain('#dev [member] ›');
		expect((state.conversations.get('#dev')![0] as MessageLine).to).toBe('#dev');
	});

	test('every change is a line in the room', () => {
		const change = (action: string, fields: object = {}): ChatAction =>
			({type: 'room-change', change: {room: 'dev', index: 1, seq: 1, author: 'alice', action, time: 5, ...fields}}) as ChatAction;
		const state = run(
			[
				change('create', {topic: ''}),
				change('add', {member: 'bob'}),
				change('remove', {member: 'bob'}),
				{type: 'room-change', change: {room: 'dev', index: 4, seq: 4, author: 'bob', action: 'leave', time: 5}},
				change('admin', {member: 'carol'}),
				change('topic', {topic: 'release \u001B[31mfriday'}),
				change('rekey'),
				change('create', {topic: 'builds'}),
			],
			loggedIn(),
		);
		expect(texts(state, '#dev')).toEqual([
			'join alice created #dev',
			'join alice added bob',
			'leave alice removed bob',
			'leave bob left',
			'info alice made carol an admin',
			// Raw here: the log sanitizes what it draws.
			'info alice set the topic: release \u001B[31mfriday',
			"info alice renewed the room's keys",
			'join alice created #dev (topic: builds)',
		]);
		// Changes are not unread messages.
		expect(state.unread.get('#dev')).toBeUndefined();
	});

	test('being removed says so on the status line', () => {
		const state = run([{type: 'room-change', change: {room: 'dev', index: 3, seq: 3, author: 'alice', action: 'remove', member: 'me1', time: 5}}], loggedIn());
		expect(state.notice).toMatchObject({tone: 'error', text: 'alice removed you from #dev'});
	});

	test('an invitation: a line with what to type, the room marked invited, unread and the bell; declining drops the mark', () => {
		let state = run([{type: 'room-invite', invite: {room: 'dev', from: 'alice', time: 9}}], loggedIn());
		expect(texts(state, '#dev')).toEqual(['info alice invites you to #dev — /accept #dev or /decline #dev']);
		expect(state.notice?.text).toBe('alice invites you to #dev — /accept #dev or /decline #dev');
		expect(sidebar(state)).toContain('#dev [invited] (1)');
		expect(state.bells).toBe(1);
		expect(roomSummary(state, '#dev')).toBe('#dev: invited by alice');
		state = run([{type: 'invite-answered', room: 'dev'}], state);
		expect(sidebar(state)).toContain('#dev [left] (1)');
		// Answered: the status line no longer asks for an answer.
		expect(state.notice).toBeUndefined();
		// Accepted, then listed as a member: no longer invited.
		state = run([{type: 'room-invite', invite: {room: 'dev', from: 'alice', time: 9}}, {type: 'rooms', rooms: [view('dev')], time: 10}], state);
		expect(state.invites.size).toBe(0);
		expect(sidebar(state)).toContain('#dev [member] (2)');
	});

	test('the status line stops asking to answer an invitation once I am added to the room, and keeps a notice about anything else', () => {
		let state = run([{type: 'room-invite', invite: {room: 'dev', from: 'alice', time: 9}}, {type: 'room-invite', invite: {room: 'ops', from: 'carol', time: 9}}], loggedIn());
		// The notice is of #ops, the last: my add to #dev leaves it.
		state = run([{type: 'room-change', change: {room: 'dev', index: 1, seq: 1, author: 'alice', action: 'add', member: 'me1', time: 10}}], state);
		expect(state.notice?.text).toBe('carol invites you to #ops — /accept #ops or /decline #ops');
		state = run([{type: 'room-change', change: {room: 'ops', index: 1, seq: 1, author: 'carol', action: 'add', member: 'me1', time: 11}}], state);
		expect(state.notice).toBeUndefined();
	});

	test('invitations listed at login are marked too', () => {
		const state = run([{type: 'rooms', rooms: [], invites: [{room: 'ops', from: 'carol', time: 3}], time: 4}], loggedIn());
		expect(sidebar(state)).toContain('#ops [invited]');
	});

	test('my message to a room: … while sending, · stored, then ✓ 1/2 and ✓ 2/2', () => {
		let state = run([{type: 'rooms', rooms: [view('dev')], time: 2}, {type: 'select', key: '#dev'}], loggedIn());
		state = run([{type: 'outgoing', id: 'r1', to: '#dev', recipients: [], text: 'hello room', time: 3}], state);
		const mine = () => state.conversations.get('#dev')!.at(-1) as MessageLine;
		const mark = () => deliveryMark(mine().delivery!, mine().receipts, mine().roomDelivery)[0];
		expect(mark()).toBe(' …');
		state = run([{type: 'room-accepted', accepted: {room: 'dev', id: 'r1', seq: 7, time: 4}}], state);
		expect(mark()).toBe(' · stored');
		state = run([{type: 'room-delivered', delivered: {room: 'dev', id: 'r1', delivered: 1, of: 2}}], state);
		expect(mark()).toBe(' ✓ 1/2');
		state = run([{type: 'room-delivered', delivered: {room: 'dev', id: 'r1', delivered: 2, of: 2}}], state);
		expect(mark()).toBe(' ✓ 2/2');
		// Counts that make no sense are dropped.
		state = run([{type: 'room-delivered', delivered: {room: 'dev', id: 'r1', delivered: 3, of: 2}}], state);
		expect(mark()).toBe(' ✓ 2/2');
		expect(deliveryMark({state: 'stored', time: 1}, undefined, {delivered: 0, of: 4})[0]).toBe(' · stored 0/4');
	});

	test('a refused room message and a relay error are lines in the room; what the client retries by itself is not', () => {
		let state = run([{type: 'rooms', rooms: [view('dev')], time: 2}, {type: 'outgoing', id: 'r1', to: '#dev', recipients: [], text: 'x', time: 3}], loggedIn());
		state = run(
			[
				{type: 'room-rejected', rejection: {room: 'dev', from: 'carol', code: 'forged', reason: 'its signature is not carol\u2019s'}, time: 4},
				{type: 'room-rejected', rejection: {room: 'dev', from: 'bob', code: 'replay', reason: 'seen'}, time: 4},
				{type: 'room-error', error: {room: 'dev', code: 'room_stale', message: 'sealed in an old epoch', id: 'r1'}, time: 5},
				{type: 'room-error', error: {room: 'dev', code: 'not_room_member', message: 'you are not a member of dev', id: 'r1'}, time: 5},
			],
			state,
		);
		expect(texts(state, '#dev')).toEqual([
			'<me1> x',
			'warning A message from carol in #dev was refused: its signature is not carol\u2019s',
			'error #dev: you are not a member of dev (not_room_member)',
		]);
		expect((state.conversations.get('#dev')![0] as MessageLine).delivery).toEqual({state: 'failed', code: 'not_room_member', message: 'you are not a member of dev'});
	});

	test('a room that stalls gets a warning line, and a line when it can be read again', () => {
		let state = run([{type: 'rooms', rooms: [view('dev')], time: 2}], loggedIn());
		state = run(
			[
				{type: 'room-error', error: {room: 'dev', code: 'room_stalled', message: '#dev is stalled: a key for change 4 did not open'}, time: 3},
				{type: 'rooms', rooms: [view('dev', {status: 'stalled', note: 'a key for change 4 did not open'})], time: 3},
			],
			state,
		);
		expect(sidebar(state)).toContain('#dev [stalled]');
		expect(sidebarEntries(state).find(entry => entry.key === '#dev')?.keyChanged).toBe(true);
		state = run([{type: 'rooms', rooms: [view('dev', {status: 'stalled'})], time: 4}, {type: 'rooms', rooms: [view('dev')], time: 5}], state);
		expect(texts(state, '#dev')).toEqual([
			"warning #dev is stalled: a key for change 4 did not open. It is read again from the next change that renews the room's keys.",
			'info #dev can be read again.',
		]);
	});

	test('the status line summary: members and topic', () => {
		const state = run([{type: 'rooms', rooms: [view('dev', {topic: 'ship it'}), view('ops', {status: 'left'})], time: 2}], loggedIn());
		expect(roomSummary(state, '#dev')).toBe('#dev: 2 members · ship it');
		expect(roomSummary(state, '#ops')).toBe('#ops: you left');
		expect(roomSummary(state, 'bob')).toBeUndefined();
	});

	test('hostile names are dropped: a room name outside the rule, an author who is no username', () => {
		const before = run([{type: 'rooms', rooms: [view('dev'), view('Bad Room'), view('everyone'), view('__proto__')], time: 2}], loggedIn());
		expect(conversationList(before)).toEqual(['*status', '#everyone', '#__proto__', '#dev', 'bob', 'carol']);
		const state = run(
			[
				roomMessage('../x', 'bob', 'hi'),
				roomMessage('dev', 'Not A Name', 'hi'),
				{type: 'room-change', change: {room: 'dev', index: 1, seq: 1, author: 'b\u001Bob', action: 'add', member: 'x', time: 5}},
				{type: 'room-invite', invite: {room: 'everyone', from: 'alice', time: 1}},
			],
			before,
		);
		expect([...state.conversations.keys()].filter(key => key.startsWith('#'))).toEqual([]);
		const lines: ChatLine[] = [...state.conversations.values()].flat();
		expect(lines.some(line => line.text === 'hi')).toBe(false);
	});

	test('kept room messages: addressed to the room, mine with their counts as last known; kept rooms are listed after a restart', () => {
		const mine = entryLine({seq: 4, conversation: '#dev', direction: 'out', id: 'r1', author: 'me1', text: 'hi', sent: 1, time: 1, delivery: {state: 'stored', time: 2}, roomDelivery: {delivered: 2, of: 3}}, 'me1', 5);
		expect(mine).toMatchObject({to: '#dev', roomDelivery: {delivered: 2, of: 3}});
		expect(deliveryMark(mine.delivery!, mine.receipts, mine.roomDelivery)[0]).toBe(' ✓ 2/3');
		expect(entryLine({seq: 5, conversation: '#dev', direction: 'in', id: 'b1', author: 'bob', text: 'yo', sent: 1, time: 1}, 'me1', 5).to).toBe('#dev');
		const state = chatReducer(createChatState({status: 'online'}), {type: 'kept', kept: [['#dev', 5], ['#b@d', 6], ['bob', 3]]});
		expect([...state.kept.keys()]).toEqual(['#dev', 'bob']);
		expect(conversationList(state)).toEqual(['*status', '#everyone', '#dev', 'bob']);
	});
});
