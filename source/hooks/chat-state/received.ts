import type {IncomingMessage} from '../../client/client-events.js';
import {isValidUsername} from '../../net/usernames.js';
import {select} from './conversations.js';
import {addLine, addSystemLine, hasMessage, markUnread, replaceLast} from './lines.js';
import {everyone, statusView, type ChatAction, type ChatState, type MessageLine, type SystemTone} from './types.js';

/** What reaches the screen from other people: their messages, and what was held, lost or rejected on the way. */

/**
 * A received message shows the time its author wrote it (their clock, inside the encryption), so
 * that both sides show the same time even when it waited in an outbox. A clock more than a minute
 * ahead of the relay's, or a time older than the longest a message may wait (30 days), is not
 * believed: the relay's time is shown instead.
 */
export function shownTime(message: Pick<IncomingMessage, 'sent' | 'time'>): number {
	const {sent, time} = message;
	return sent > time + 60_000 || sent < time - 30 * 24 * 3600 * 1000 ? time : sent;
}

export function incoming(state: ChatState, message: IncomingMessage): ChatState {
	const {id, from, text} = message;
	if (!isValidUsername(from)) return state;
	const key = message.kind === 'everyone' ? everyone : from;
	// A message is shown once, however often it arrives (the client already drops replays).
	if (hasMessage(state, key, id, from)) return state;
	const line: MessageLine = {kind: 'message', seq: state.counter, id, from, to: key === everyone ? everyone : message.to, text, time: shownTime(message), arrived: message.time};
	return arrive(state, key, line);
}

/** Someone else's message in conversation `key`: shown, or counted unread (and the bell rung) when not on screen. */
export function arrive(state: ChatState, key: string, line: MessageLine): ChatState {
	const next = addLine(state, key, line);
	if (next.selected === undefined) return select(next, key);
	if (next.selected === key) return next;
	// The bell rings when a conversation gets something unread, not for each message after it:
	// a sender cannot keep it ringing.
	const first = (next.unread.get(key) ?? 0) === 0;
	return {...markUnread(next, key), bells: next.bells + (first ? 1 : 0)};
}

export function held(state: ChatState, from: string, count: number, time: number): ChatState {
	if (!isValidUsername(from) || !Number.isSafeInteger(count) || count < 1) return state;
	const what = count === 1 ? '1 message' : `${count} messages`;
	const text = `${what} from ${from} ${count === 1 ? 'is' : 'are'} held behind the key warning until you /trust ${from}.`;
	const lines = state.conversations.get(from) ?? [];
	const last = lines.at(-1);
	// Replace the count rather than stacking one line per envelope.
	if (last?.kind === 'system' && last.tag === 'held') return replaceLast(state, from, {...last, text, time});

	return addLine(state, from, {kind: 'system', seq: state.counter, tone: 'warning', text, time, tag: 'held'});
}

export function gap(state: ChatState, {from, missing}: Extract<ChatAction, {type: 'gap'}>['gap'], time: number): ChatState {
	if (!Number.isSafeInteger(missing) || missing < 1) return state;
	const what = missing === 1 ? '1 message' : `${missing} messages`;
	return addAbout(state, from, 'error', `${what} from ${from} never arrived: the relay withheld or lost them`, time);
}

export function rejected(state: ChatState, {from, code, reason}: Extract<ChatAction, {type: 'rejected'}>['rejection'], time: number): ChatState {
	// A replay is what a harmless redelivery after a lost ack looks like: nothing to alarm anyone about.
	if (code === 'replay') return state;
	const who = isValidUsername(from) ? from : 'an unknown sender';
	const what = code === 'invalid_identity' ? `The identity the relay served for ${who} was rejected` : `A message from ${who} was rejected`;
	return addAbout(state, from, 'error', `${what}: ${reason}`, time);
}

/** A rebuilt session, said in the conversation: nothing was read by anyone else, but the user should know. */
export function sessionReset(state: ChatState, reset: Extract<ChatAction, {type: 'session-reset'}>['reset'], time: number): ChatState {
	const {with: name, by, resent} = reset;
	const again = resent === 0 ? '' : resent === 1 ? ` 1 message ${name} had not confirmed was sent again.` : ` ${resent} messages ${name} had not confirmed were sent again.`;
	const text =
		by === 'me'
			? `Started a new secure session with ${name}: this device could not read their messages (its session was lost, or restored from an older copy). ${name} sends again what this device did not confirm.${again}`
			: `${name} started a new secure session: their device lost its session or was restored from an older copy.${again}`;
	return addAbout(state, name, 'warning', text, time);
}

/** Puts a line about a user in their conversation, or in the status view if the name is not valid. */
function addAbout(state: ChatState, from: string, tone: SystemTone, text: string, time: number): ChatState {
	return addSystemLine(state, isValidUsername(from) ? from : statusView, tone, text, time);
}
