import {everyone, statusView, type ChatState, type ConversationKey} from './types.js';

function byName(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/** What the sidebar lists: the status view, `everyone`, then every user the relay told of and anyone you talked with. */
export function conversationList(state: ChatState): ConversationKey[] {
	const names = new Set([...state.contacts.keys(), ...state.conversations.keys()]);
	if (state.selected !== undefined) names.add(state.selected);
	names.delete(everyone);
	names.delete(statusView);
	return [statusView, everyone, ...[...names].sort(byName)];
}

/** Whether there is a conversation with `name`: something was said in it. */
export function hasConversation(state: ChatState, name: string): boolean {
	return (state.conversations.get(name)?.length ?? 0) > 0;
}

export type SidebarEntry = {
	key: ConversationKey;
	online: boolean;
	verified: boolean;
	keyChanged: boolean;
	unread: number;
	selected: boolean;
};

export function sidebarEntries(state: ChatState): SidebarEntry[] {
	return conversationList(state).map(key => {
		const contact = state.contacts.get(key);
		return {
			key,
			online: key === everyone || key === statusView ? true : (contact?.online ?? false),
			verified: contact?.verified ?? false,
			keyChanged: contact?.keyChanged ?? false,
			unread: state.unread.get(key) ?? 0,
			selected: key === state.selected,
		};
	});
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
