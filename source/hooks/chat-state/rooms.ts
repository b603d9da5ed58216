import {isValidUsername} from '../../net/usernames.js';
import type {ChangeLine, RoomEvents, RoomInvite, RoomView} from '../rooms/room-api.js';
import {touchKept} from './kept.js';
import {addStatus, addSystemLine, hasMessage, markUnread} from './lines.js';
import {arrive, shownTime} from './received.js';
import {isRoomName, roomKey} from './room-keys.js';
import {stored} from './sent-messages.js';
import type {ChatLine, ChatState, ConversationKey, MessageLine, SystemTone} from './types.js';

/**
 * Rooms as the screen shows them: the list the client gives, their messages, their changes as
 * lines, invitations, and my messages' delivery counts. Names, topics and texts stay raw here:
 * the views sanitize what they draw. A room name that breaks the rule is dropped whole.
 */

/** Codes the client handles by itself (it sends again, or reads the stream and tries again): nothing to show. */
const handledCodes: ReadonlySet<string> = new Set(['rate_limited', 'storage_failed', 'room_stale', 'room_conflict']);

export function roomsListed(state: ChatState, views: readonly RoomView[], invited: readonly RoomInvite[] | undefined, time: number): ChatState {
	const rooms = new Map<ConversationKey, RoomView>();
	for (const view of views) if (isRoomName(view.room)) rooms.set(roomKey(view.room), view);
	const invites = new Map(state.invites);
	for (const invite of invited ?? []) {
		if (isRoomName(invite.room) && isValidUsername(invite.from)) invites.set(roomKey(invite.room), {from: invite.from, time: invite.time});
	}

	let next: ChatState = {...state, rooms, invites};
	for (const [key, view] of rooms) {
		if (view.status === 'member' || view.status === 'stalled') invites.delete(key);
		// The stall itself is said by its room-error (room_stalled), with the reason.
		if (state.rooms.get(key)?.status === 'stalled' && view.status === 'member') next = addSystemLine(next, key, 'info', `${key} can be read again.`, time);
	}

	return next;
}

export function roomMessage(state: ChatState, message: RoomEvents['room-message'][0]): ChatState {
	const {room, id, from, text} = message;
	if (!isRoomName(room) || !isValidUsername(from)) return state;
	const key = roomKey(room);
	if (hasMessage(state, key, id, from)) return state;
	const line: MessageLine = {kind: 'message', seq: state.counter, id, from, to: key, text, time: shownTime(message), arrived: message.time};
	return arrive(state, key, line);
}

/** The words of a change line: "alice added bob". */
export function changeText(change: ChangeLine): string {
	const {author, action, room} = change;
	const member = change.member ?? '?';
	switch (action) {
		case 'create': {
			return change.topic === undefined || change.topic === '' ? `${author} created #${room}` : `${author} created #${room} (topic: ${change.topic})`;
		}

		case 'add': {
			return `${author} added ${member}`;
		}

		case 'remove': {
			return `${author} removed ${member}`;
		}

		case 'leave': {
			return `${author} left`;
		}

		case 'admin': {
			return `${author} made ${member} an admin`;
		}

		case 'topic': {
			return change.topic === undefined || change.topic === '' ? `${author} cleared the topic` : `${author} set the topic: ${change.topic}`;
		}

		case 'rekey': {
			return `${author} renewed the room's keys`;
		}
	}
}

const changeTone: Record<ChangeLine['action'], SystemTone> = {create: 'join', add: 'join', remove: 'leave', leave: 'leave', admin: 'info', topic: 'info', rekey: 'info'};

export function roomChange(state: ChatState, change: RoomEvents['room-change'][0]): ChatState {
	const {room, author, member} = change;
	if (!isRoomName(room) || !isValidUsername(author) || (member !== undefined && !isValidUsername(member)) || !Object.hasOwn(changeTone, change.action)) return state;
	const key = roomKey(room);
	const next = addSystemLine(state, key, changeTone[change.action], changeText(change), change.time);
	if (change.action === 'remove' && member === state.me) return {...next, notice: {tone: 'error', text: `${author} removed you from ${key}`, about: key}};
	if (change.action === 'add' && member === state.me) return withoutInvitationNotice(next, key);
	return next;
}

export function roomInvite(state: ChatState, {room, from, time}: RoomEvents['room-invite'][0]): ChatState {
	if (!isRoomName(room) || !isValidUsername(from)) return state;
	const key = roomKey(room);
	const text = `${from} invites you to ${key} — /accept ${key} or /decline ${key}`;
	const next = addSystemLine({...state, invites: new Map(state.invites).set(key, {from, time})}, key, 'info', text, time);
	if (next.selected === key) return next;
	const first = (next.unread.get(key) ?? 0) === 0;
	return {...markUnread(next, key), bells: next.bells + (first ? 1 : 0), notice: {tone: 'info', text, invitation: key}};
}

export function inviteAnswered(state: ChatState, room: string): ChatState {
	const key = roomKey(room);
	if (!state.invites.has(key)) return state;
	const invites = new Map(state.invites);
	invites.delete(key);
	return withoutInvitationNotice({...state, invites}, key);
}

/** The status line no longer asks to answer an invitation to `key` once it is answered. */
function withoutInvitationNotice(state: ChatState, key: ConversationKey): ChatState {
	return state.notice?.invitation === key ? {...state, notice: undefined} : state;
}

export function roomDeclined(state: ChatState, {room, username}: RoomEvents['room-declined'][0], time: number): ChatState {
	if (!isRoomName(room) || !isValidUsername(username)) return state;
	return addSystemLine(state, roomKey(room), 'info', `${username} declined the invitation to ${roomKey(room)}`, time);
}

export function roomRejected(state: ChatState, {room, from, reason, code}: RoomEvents['room-rejected'][0], time: number): ChatState {
	// A replay is what a redelivery after a lost ack looks like.
	if (code === 'replay' || !isRoomName(room)) return state;
	const who = isValidUsername(from) ? from : 'an unknown sender';
	return addSystemLine(state, roomKey(room), 'warning', `A message from ${who} in ${roomKey(room)} was refused: ${reason}`, time);
}

export function roomError(state: ChatState, error: RoomEvents['room-error'][0], time: number): ChatState {
	const {room, code, message, id} = error;
	if (handledCodes.has(code)) return state;
	const key = isRoomName(room) ? roomKey(room) : undefined;
	if (key === undefined) return {...addStatus(state, 'error', `relay error (${code}): ${message}`, time), notice: {tone: 'error', text: message}};
	// This device's own words: a room it cannot follow, a member whose key differs from the one pinned.
	if (code === 'room_stalled') {
		const text = `${message}. It is read again from the next change that renews the room's keys.`;
		return {...addSystemLine(state, key, 'warning', text, time), notice: {tone: 'error', text: `${key} is stalled`, about: key}};
	}

	if (code === 'key_changed') return {...addSystemLine(state, key, 'warning', message, time), notice: {tone: 'error', text: message, about: key}};

	let next = state;
	if (id !== undefined) next = updateRoomLine(next, key, id, line => (line.delivery?.state === 'failed' ? line : {...line, delivery: {state: 'failed', code, message}}));
	next = addSystemLine(next, key, 'error', `${key}: ${message} (${code})`, time);
	return {...next, notice: {tone: 'error', text: `${key}: ${message}`, about: key}};
}

export function roomAccepted(state: ChatState, {id, time}: RoomEvents['room-accepted'][0]): ChatState {
	return touchKept(stored(state, id, time), state, id);
}

export function roomDelivered(state: ChatState, {room, id, delivered, of}: RoomEvents['room-delivered'][0]): ChatState {
	if (!isRoomName(room) || !Number.isSafeInteger(delivered) || !Number.isSafeInteger(of) || delivered < 0 || of < delivered) return state;
	const key = roomKey(room);
	const next = updateRoomLine(state, key, id, line => {
		const before = line.roomDelivery;
		if (before !== undefined && before.delivered >= delivered && before.of === of) return line;
		const delivery = line.delivery?.state === 'sending' || line.delivery?.state === 'queued' ? {state: 'stored' as const, time: line.time} : line.delivery;
		return {...line, roomDelivery: {delivered, of}, ...(delivery === undefined ? {} : {delivery})};
	});
	// A message of an earlier run: the database has its counts, the log reads it again.
	if (next === state && state.kept.has(key)) return {...state, keptRevision: state.keptRevision + 1};
	return next;
}

/** Applies `update` to my message `id` in room conversation `key` (searched from the end, tracked or not). */
function updateRoomLine(state: ChatState, key: ConversationKey, id: string, update: (line: MessageLine) => MessageLine): ChatState {
	const lines = state.conversations.get(key) ?? [];
	for (let index = lines.length - 1; index >= 0; index--) {
		const line = lines[index]!;
		if (line.kind !== 'message' || line.id !== id || line.from !== state.me) continue;
		const changed = update(line);
		if (changed === line) return state;
		const copy: ChatLine[] = [...lines];
		copy[index] = changed;
		return {...state, conversations: new Map(state.conversations).set(key, copy)};
	}

	return state;
}

/** The words the status line says about room `key`: its members and topic. */
export function roomSummary(state: ChatState, key: ConversationKey): string | undefined {
	const view = state.rooms.get(key);
	if (view === undefined) {
		const invite = state.invites.get(key);
		return invite === undefined ? undefined : `${key}: invited by ${invite.from}`;
	}

	const count = view.members.length;
	const members = view.status === 'member' || view.status === 'stalled' ? `${count} ${count === 1 ? 'member' : 'members'}` : view.status === 'left' ? 'you left' : 'you were removed';
	const stalled = view.status === 'stalled' ? ', stalled' : '';
	return `${key}: ${members}${stalled}${view.topic === '' ? '' : ` · ${view.topic}`}`;
}
