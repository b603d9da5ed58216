import {isValidUsername} from '../../net/usernames.js';
import {isRoomKey} from './room-keys.js';
import {everyone, type ChatLine, type ChatState, type ConversationKey} from './types.js';
import {addSystemLine} from './lines.js';

/**
 * The history kept on this device, as the state knows it: which conversations have some and up to
 * which history seq (read once, at the first welcome). The messages themselves stay in the
 * database; the log reads them a page at a time (message-log/kept-source.ts).
 */

export function keptLoaded(state: ChatState, kept: ReadonlyArray<[ConversationKey, number]>): ChatState {
	if (state.keptLoaded) return state;
	const map = new Map<ConversationKey, number>();
	for (const [key, newest] of kept) {
		if ((key === everyone || isRoomKey(key) || (isValidUsername(key) && key !== state.me)) && Number.isSafeInteger(newest) && newest > 0) map.set(key, newest);
	}

	return {...state, kept: map, keptLoaded: true};
}

/**
 * A receipt or a refusal for message `id` that this run does not follow: a message of an earlier
 * run, whose state the database now holds anew. `before` is the state before the action.
 */
export function touchKept(next: ChatState, before: ChatState, id: string): ChatState {
	if (before.kept.size === 0 || before.tracking.has(id)) return next;
	return {...next, keptRevision: next.keptRevision + 1};
}

/** Conversation `key`'s messages were deleted from this device: the kept ones and those of this run go from the screen. */
export function forgotten(state: ChatState, key: ConversationKey, count: number, time: number): ChatState {
	const kept = new Map(state.kept);
	kept.delete(key);
	const lines = state.conversations.get(key) ?? [];
	const gone = lines.filter(line => line.kind === 'message');
	const ids = new Set(gone.map(line => (line as Extract<ChatLine, {kind: 'message'}>).id));
	const tracking = new Map([...state.tracking].filter(([id, conversation]) => conversation !== key || !ids.has(id)));
	const left = lines.filter(line => line.kind !== 'message');
	const chars = gone.reduce((sum, line) => sum + line.text.length, 0);
	const held = {lines: state.held.lines - gone.length, chars: state.held.chars - chars};
	const next: ChatState = {...state, kept, tracking, held, conversations: new Map(state.conversations).set(key, left)};
	const what = count === 1 ? '1 message' : `${count.toLocaleString('en-US')} messages`;
	const theirs = key === everyone || isRoomKey(key) ? "the others' copies are theirs" : `${key}'s copy is theirs`;
	const text = `Deleted ${what} of ${key === everyone ? 'everyone' : key} from this device; ${theirs}.`;
	return {...addSystemLine(next, key, 'info', text, time), notice: {tone: 'info', text}};
}
