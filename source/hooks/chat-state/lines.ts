import {statusView, type ChatLine, type ChatState, type ConversationKey, type MessageLine, type SystemTone} from './types.js';

/** What a line costs memory, counted in characters of text (the rest of a line is about the same for all). */
function size(line: ChatLine): number {
	return line.text.length;
}

/**
 * Appends a line to a conversation. Past maxLines in that conversation its oldest lines scroll out
 * of memory; past maxTotalLines or maxTotalChars in all conversations together, the oldest lines of
 * the conversation that holds the most text go, so that no sender, however many conversations
 * they open or however long their messages, can make the client hold more than the budget.
 */
export function addLine(state: ChatState, key: ConversationKey, line: ChatLine): ChatState {
	const conversations = new Map(state.conversations);
	conversations.set(key, [...(conversations.get(key) ?? []), line]);
	const held = {lines: state.held.lines + 1, chars: state.held.chars + size(line)};
	const dropped: ChatLine[] = [];
	const evict = (from: ConversationKey, count: number) => {
		const lines = conversations.get(from) ?? [];
		const gone = lines.slice(0, count);
		conversations.set(from, lines.slice(count));
		for (const old of gone) {
			dropped.push(old);
			held.lines--;
			held.chars -= size(old);
		}
	};

	const excess = (conversations.get(key)?.length ?? 0) - state.maxLines;
	if (excess > 0) evict(key, excess);
	while (held.lines > state.maxTotalLines || held.chars > state.maxTotalChars) {
		let largest: ConversationKey = key;
		let most = -1;
		for (const [name, lines] of conversations) {
			const chars = lines.reduce((sum, each) => sum + size(each), 0);
			if (lines.length > 0 && chars > most) [largest, most] = [name, chars];
		}

		if (most === -1) break;

		// A tenth of it at a time: one scan of the conversations pays for many lines.
		evict(largest, Math.max(1, Math.ceil((conversations.get(largest)?.length ?? 0) / 10)));
	}

	// A message that scrolls out of memory is no longer followed.
	const ids = new Set(dropped.flatMap(old => (old.kind === 'message' ? [old.id] : [])));
	const tracking = ids.size === 0 ? state.tracking : new Map([...state.tracking].filter(([id]) => !ids.has(id)));
	return {...state, tracking, held, counter: state.counter + 1, conversations};
}

/** Replaces the last line of a conversation, keeping the count of what is held right. */
export function replaceLast(state: ChatState, key: ConversationKey, line: ChatLine): ChatState {
	const lines = state.conversations.get(key) ?? [];
	const last = lines.at(-1);
	if (last === undefined) return addLine(state, key, line);
	const held = {lines: state.held.lines, chars: state.held.chars - size(last) + size(line)};
	return {...state, held, conversations: new Map(state.conversations).set(key, [...lines.slice(0, -1), line])};
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
