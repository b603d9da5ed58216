import type {RoomStatus} from '../rooms/room-api.js';
import {isRoomKey} from './room-keys.js';
import {everyone, statusView, type ChatState, type ConversationKey} from './types.js';

function byName(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/** The sidebar row above the names shown online who are not contacts. Never a username. */
export const onlineNowHeader = '~online-now';

/** The sidebar row above the rooms. Never a username nor a room. */
export const roomsHeader = '~rooms';

/**
 * What the sidebar lists: the status view, `everyone`, the rooms, your contacts and anyone you
 * talked with, then the names the who-is-online view shows that are none of those, in the relay's order.
 */
export function conversationList(state: ChatState): ConversationKey[] {
	const names = knownNames(state);
	return [statusView, everyone, ...roomKeys(state), ...[...names].sort(byName), ...onlineNow(state, names)];
}

/** The rooms: those the client knows, invitations, and conversations kept of rooms since left, by name. */
export function roomKeys(state: ChatState): ConversationKey[] {
	const keys = new Set([...state.rooms.keys(), ...state.invites.keys()]);
	for (const key of [...state.conversations.keys(), ...state.kept.keys(), state.selected]) if (key !== undefined && isRoomKey(key)) keys.add(key);
	return [...keys].sort(byName);
}

function knownNames(state: ChatState): Set<string> {
	const names = new Set([...state.contacts.keys(), ...state.conversations.keys(), ...state.kept.keys()]);
	if (state.selected !== undefined) names.add(state.selected);
	names.delete(everyone);
	names.delete(statusView);
	for (const name of names) if (isRoomKey(name)) names.delete(name);
	return names;
}

/** The names shown online who are not contacts, nor anyone you talked with. */
export function onlineNow(state: ChatState, known = knownNames(state)): string[] {
	return state.who.names.filter(name => !known.has(name) && name !== state.me);
}

/** Whether there is a conversation with `name`: something was said in it (in this run, or kept from before). */
export function hasConversation(state: ChatState, name: string): boolean {
	return (state.conversations.get(name)?.length ?? 0) > 0 || state.kept.has(name);
}

export type SidebarEntry = {
	key: ConversationKey;
	online: boolean;
	verified: boolean;
	keyChanged: boolean;
	unread: number;
	selected: boolean;
	/** The "online now" heading (key onlineNowHeader): a row that is no conversation. */
	header?: true;
	/** One of the names shown online who is not a contact yet. */
	stranger?: true;
	/** A room: its state here ('invited' while an invitation waits for an answer). */
	room?: RoomStatus;
};

export function sidebarEntries(state: ChatState): SidebarEntry[] {
	const strangers = new Set(onlineNow(state));
	const entries: SidebarEntry[] = [];
	const header = (key: string): SidebarEntry => ({key, online: false, verified: false, keyChanged: false, unread: 0, selected: false, header: true});
	for (const key of conversationList(state)) {
		const stranger = strangers.has(key);
		if (stranger && !entries.at(-1)?.stranger) entries.push(header(onlineNowHeader));
		if (isRoomKey(key)) {
			if (entries.at(-1)?.room === undefined) entries.push(header(roomsHeader));
			entries.push(roomEntry(state, key));
			continue;
		}

		const contact = state.contacts.get(key);
		entries.push({
			key,
			online: key === everyone || key === statusView || stranger ? true : (contact?.online ?? false),
			verified: contact?.verified ?? false,
			keyChanged: contact?.keyChanged ?? false,
			unread: state.unread.get(key) ?? 0,
			selected: key === state.selected,
			...(stranger ? {stranger: true as const} : {}),
		});
	}
	return entries;
}

/** Where I stand in room `key`: an invitation waiting for an answer counts over having left before. */
export function roomStatus(state: ChatState, key: ConversationKey): RoomStatus {
	const view = state.rooms.get(key);
	if (view?.status === 'member' || view?.status === 'stalled') return view.status;
	if (state.invites.has(key)) return 'invited';
	return view?.status ?? 'left';
}

function roomEntry(state: ChatState, key: ConversationKey): SidebarEntry {
	const room = roomStatus(state, key);
	return {key, online: room === 'member' || room === 'invited', verified: false, keyChanged: room === 'stalled', unread: state.unread.get(key) ?? 0, selected: key === state.selected, room};
}

/** Shows conversation `key`: its unread count goes, and so does a notice about another conversation. */
export function select(state: ChatState, key: ConversationKey): ChatState {
	const unread = new Map(state.unread);
	unread.delete(key);
	const notice = state.notice?.about !== undefined && state.notice.about !== key ? undefined : state.notice;
	return {...state, selected: key, unread, notice};
}

export function step(state: ChatState, delta: 1 | -1): ChatState {
	const list = conversationList(state);
	const index = state.selected === undefined ? -1 : list.indexOf(state.selected);
	const nextIndex = index === -1 ? (delta === 1 ? 0 : list.length - 1) : (index + delta + list.length) % list.length;
	const key = list[nextIndex];
	return key === undefined ? state : select(state, key);
}

/** The next conversation after the selected one with unread lines, in sidebar order; the state as it is if none. */
export function nextUnread(state: ChatState): ChatState {
	const list = conversationList(state);
	const start = state.selected === undefined ? -1 : list.indexOf(state.selected);
	for (let offset = 1; offset <= list.length; offset++) {
		const key = list[(start + offset + list.length) % list.length]!;
		if ((state.unread.get(key) ?? 0) > 0) return select(state, key);
	}

	return state;
}
