import {statusView, type ChatLine, type ChatState, type ConversationKey, type MessageLine, type SystemTone} from './types.js';

/** Appends a line to a conversation; past maxLines the oldest scroll out of memory. */
export function addLine(state: ChatState, key: ConversationKey, line: ChatLine): ChatState {
	const before = state.conversations.get(key) ?? [];
	const all = [...before, line];
	const excess = all.length - state.maxLines;
	const kept = excess > 0 ? all.slice(excess) : all;
	// A message that scrolls out of memory is no longer followed.
	const dropped = new Set(all.slice(0, Math.max(excess, 0)).flatMap(old => (old.kind === 'message' ? [old.id] : [])));
	const tracking = dropped.size === 0 ? state.tracking : new Map([...state.tracking].filter(([id]) => !dropped.has(id)));
	return {...state, tracking, counter: state.counter + 1, conversations: new Map(state.conversations).set(key, kept)};
}

/** A system line in conversation `key`. */
export function addSystemLine(state: ChatState, key: ConversationKey, tone: SystemTone, text: string, time: number): ChatState {
	return addLine(state, key, {kind: 'system', seq: state.counter, tone, text, time});
}

/** A line for the status view: what belongs to no conversation. */
export function addStatus(state: ChatState, tone: SystemTone, text: string, time: number): ChatState {
	return addSystemLine(state, statusView, tone, text, time);
}

/** Counts a line that arrived in a conversation not on screen. */
export function markUnread(state: ChatState, key: ConversationKey): ChatState {
	if (state.selected === key) return state;
	return {...state, unread: new Map(state.unread).set(key, (state.unread.get(key) ?? 0) + 1)};
}

/** Applies `update` to my message `id` (found from the end: recent messages are the ones updated). */
export function updateOwn(state: ChatState, id: string, update: (line: MessageLine) => MessageLine): ChatState {
	const key = state.tracking.get(id);
	if (key === undefined) return state;
	const lines = state.conversations.get(key) ?? [];
	let changed: ChatLine[] | undefined;
	for (let index = lines.length - 1; index >= 0; index--) {
		const line = lines[index]!;
		if (line.kind !== 'message' || line.id !== id || !line.delivery) continue;
		const next = update(line);
		if (next === line) continue;
		changed ??= [...lines];
		changed[index] = next;
	}

	return changed === undefined ? state : {...state, conversations: new Map(state.conversations).set(key, changed)};
}

export function untrack(state: ChatState, id: string): ChatState {
	const tracking = new Map(state.tracking);
	tracking.delete(id);
	return {...state, tracking};
}

/** Whether conversation `key` holds message `id` from `from`. */
export function hasMessage(state: ChatState, key: ConversationKey, id: string, from: string): boolean {
	const lines = state.conversations.get(key) ?? [];
	for (let index = lines.length - 1; index >= 0; index--) {
		const line = lines[index]!;
		if (line.kind === 'message' && line.id === id && line.from === from) return true;
	}

	return false;
}
