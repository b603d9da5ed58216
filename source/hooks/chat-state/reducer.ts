import type {IncomingMessage} from '../../client/client-events.js';
import {isValidUsername} from '../../net/usernames.js';
import {sanitizeLines} from '../../sanitize.js';
import {allOffline, presence, updateContact, welcome} from './contacts.js';
import {conversationList, nextUnread, select, step} from './conversations.js';
import {found, lookupFailed, whoOnline} from './lookups.js';
import {addLine, addStatus, addSystemLine, hasMessage, markUnread, replaceLast} from './lines.js';
import {outgoing, queueWaiting, receipt, relayError, stored, unsent} from './sent-messages.js';
import {everyone, statusView, type ChatAction, type ChatState, type MessageLine, type SystemTone} from './types.js';

/**
 * The chat as the UI sees it: a pure reducer over the ChatConnection events plus the user's own
 * actions. No React, no I/O, no clock: every action that needs a time carries it.
 * Text is kept as received; the views sanitize it when they draw it.
 */


export const defaultMaxLines = 10_000;
/** About 100 MB of lines at most, whoever sends them: 50,000 lines, 16 Mi characters of text. */
export const defaultMaxTotalLines = 50_000;
export const defaultMaxTotalChars = 16 * 1024 * 1024;

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

export function createChatState(
	connection: {status: ChatState['status']; relay?: ChatState['relay']; username?: string | undefined},
	options: {maxLines?: number; maxTotalLines?: number; maxTotalChars?: number} = {},
): ChatState {
	return {
		status: connection.status,
		relay: connection.relay,
		me: connection.username,
		contacts: new Map(),
		who: {names: [], total: 0},
		selected: undefined,
		conversations: new Map(),
		unread: new Map(),
		tracking: new Map(),
		notice: undefined,
		bells: 0,
		verify: undefined,
		keyChanged: undefined,
		verification: undefined,
		login: {requested: false, pending: undefined, error: undefined},
		reconnect: undefined,
		closed: undefined,
		counter: 0,
		maxLines: options.maxLines ?? defaultMaxLines,
		maxTotalLines: options.maxTotalLines ?? defaultMaxTotalLines,
		maxTotalChars: options.maxTotalChars ?? defaultMaxTotalChars,
		held: {lines: 0, chars: 0},
	};
}

// eslint-disable-next-line complexity
export function chatReducer(state: ChatState, action: ChatAction): ChatState {
	switch (action.type) {
		case 'sync': {
			return {...state, status: action.status, relay: action.relay ?? state.relay, me: action.username ?? state.me};
		}

		case 'status': {
			return {...state, status: action.status};
		}

		case 'relay-unknown': {
			return {...state, relay: action.relay, verify: action.relay};
		}

		case 'relay-changed': {
			const {relay, pinnedFingerprint} = action;
			return {...state, relay, verify: undefined, keyChanged: {relay, pinnedFingerprint}};
		}

		case 'relay-trusted': {
			return {...state, relay: action.relay, verify: undefined};
		}

		case 'trust-decided': {
			return {...state, verify: undefined};
		}

		case 'login-request': {
			// A login sent on a connection that dropped before its welcome is not pending any more.
			return {...state, login: {...state.login, requested: true, pending: undefined}};
		}

		case 'login-sent': {
			return {...state, login: {requested: false, pending: action.username, error: undefined}};
		}

		case 'passphrase-needed': {
			return {...state, login: {requested: false, pending: undefined, error: undefined, passphrase: action.ask}};
		}

		case 'passphrase-cancel': {
			return {...state, login: {requested: true, pending: undefined, error: undefined}};
		}

		case 'login-error': {
			const {pending} = state.login;
			if (pending !== undefined && (action.error.code === 'wrong_passphrase' || action.error.code === 'passphrase_required')) {
				const error = action.error.code === 'wrong_passphrase' ? 'Wrong passphrase, nothing was changed.' : undefined;
				return {...state, login: {requested: false, pending: undefined, error: undefined, passphrase: {username: pending, mode: 'unlock', error}}};
			}

			const message = loginErrorText(action.error);
			return {
				...state,
				login: {requested: true, pending: undefined, error: message},
				notice: {tone: 'error', text: message},
			};
		}

		case 'welcome': {
			return welcome(state, action.welcome, action.time);
		}

		case 'found': {
			return found(state, action.found, action.time);
		}

		case 'lookup-failed': {
			return lookupFailed(state, action.failure, action.time);
		}

		case 'online': {
			return whoOnline(state, action.online, action.time);
		}

		case 'user-joined': {
			const {contact, time} = action;
			const known = state.contacts.get(contact.username);
			if (!isValidUsername(contact.username) || contact.username === state.me || known?.online) return state;
			let next = presence(updateContact(state, {...contact, online: true}, time), contact.username, 'join', time);
			if (next.notice?.reason === 'offline' && next.notice.about === contact.username) next = {...next, notice: undefined};
			return next.selected === undefined ? select(next, contact.username) : next;
		}

		case 'user-left': {
			const {username, time} = action;
			const known = state.contacts.get(username);
			if (!known?.online) return state;
			return presence(updateContact(state, {...known, online: false}, time), username, 'leave', time);
		}

		case 'contact-updated': {
			const {contact, time} = action;
			if (!isValidUsername(contact.username) || contact.username === state.me) return state;
			return updateContact(state, contact, time);
		}

		case 'message': {
			return incoming(state, action.message);
		}

		case 'outgoing': {
			return outgoing(state, action);
		}

		case 'accepted': {
			return stored(state, action.ack.id, action.ack.time);
		}

		case 'delivered': {
			return receipt(state, action.receipt.id, action.receipt.by);
		}

		case 'gap': {
			const {from, missing} = action.gap;
			if (!Number.isSafeInteger(missing) || missing < 1) return state;
			const what = missing === 1 ? '1 message' : `${missing} messages`;
			return addAbout(state, from, 'error', `${what} from ${from} never arrived: the relay withheld or lost them`, action.time);
		}

		case 'rejected': {
			const {from, code, reason} = action.rejection;
			// A replay is what a harmless redelivery after a lost ack looks like: nothing to alarm anyone about.
			if (code === 'replay') return state;
			const who = isValidUsername(from) ? from : 'an unknown sender';
			const what = code === 'invalid_identity' ? `The identity the relay served for ${who} was rejected` : `A message from ${who} was rejected`;
			return addAbout(state, from, 'error', `${what}: ${reason}`, action.time);
		}

		case 'held': {
			return held(state, action.held.from, action.held.count, action.time);
		}

		case 'relay-error': {
			return relayError(state, action.error, action.time);
		}

		case 'local-error': {
			const next = addStatus(state, 'error', action.error.message, action.time);
			return {...next, notice: {tone: 'error', text: action.error.message}};
		}

		case 'announcement': {
			const {text, time} = action.announcement;
			const lines = sanitizeLines(text);
			if (lines.length === 0) return state;
			const next = markUnread(
				lines.reduce((next, line) => addStatus(next, 'announcement', line, time), state),
				statusView,
			);
			return {...next, notice: {tone: 'info', text: `relay: ${lines.join(' ')}`}};
		}

		case 'reconnecting': {
			return reconnecting(state, action.reconnect, action.time);
		}

		case 'unsent': {
			return unsent(state, action.unsent, action.time);
		}

		case 'closed': {
			return closed(state, action.reason, action.time);
		}

		case 'select-next': {
			return step(state, 1);
		}

		case 'select-previous': {
			return step(state, -1);
		}

		case 'select': {
			return conversationList(state).includes(action.key) ? select(state, action.key) : state;
		}

		case 'select-unread': {
			return nextUnread(state);
		}

		case 'verify-open': {
			const {username, safetyNumber} = action;
			const keyChanged = state.contacts.get(username)?.keyChanged ?? false;
			return {...state, verification: {username, safetyNumber, keyChanged}};
		}

		case 'verify-close': {
			return {...state, verification: undefined};
		}

		case 'local': {
			const {conversation, tone, text, time} = action;
			return addSystemLine(state, conversation ?? state.selected ?? statusView, tone, text, time);
		}
	}
}

function incoming(state: ChatState, message: IncomingMessage): ChatState {
	const {id, from, text} = message;
	if (!isValidUsername(from)) return state;
	const key = message.kind === 'everyone' ? everyone : from;
	// A message is shown once, however often it arrives (the client already drops replays).
	if (hasMessage(state, key, id, from)) return state;
	const line: MessageLine = {kind: 'message', seq: state.counter, id, from, to: key === everyone ? everyone : message.to, text, time: shownTime(message), arrived: message.time};
	const next = addLine(state, key, line);
	if (next.selected === undefined) return select(next, key);
	if (next.selected === key) return next;
	// The bell rings when a conversation gets something unread, not for each message after it:
	// a sender cannot keep it ringing.
	const first = (next.unread.get(key) ?? 0) === 0;
	return {...markUnread(next, key), bells: next.bells + (first ? 1 : 0)};
}

function held(state: ChatState, from: string, count: number, time: number): ChatState {
	if (!isValidUsername(from) || !Number.isSafeInteger(count) || count < 1) return state;
	const what = count === 1 ? '1 message' : `${count} messages`;
	const text = `${what} from ${from} ${count === 1 ? 'is' : 'are'} held behind the key warning until you /trust ${from}.`;
	const lines = state.conversations.get(from) ?? [];
	const last = lines.at(-1);
	// Replace the count rather than stacking one line per envelope.
	if (last?.kind === 'system' && last.tag === 'held') return replaceLast(state, from, {...last, text, time});

	return addLine(state, from, {kind: 'system', seq: state.counter, tone: 'warning', text, time, tag: 'held'});
}

function closed(state: ChatState, reason: NonNullable<ChatState['closed']>, time: number): ChatState {
	// Messages the relay stored are still delivered later; the others wait in the outbox on disk
	// and go out the next time this account logs in to this relay.
	let next = queueWaiting(state);
	const text = reason.code === 'shutdown' ? `Disconnected, the relay went down: ${reason.message}` : `Connection closed: ${reason.message} (${reason.code})`;
	next = addStatus(next, 'error', text, time);
	return {...allOffline(next), status: 'closed', reconnect: undefined, verify: undefined, verification: undefined, closed: {code: reason.code, message: reason.message}, notice: {tone: 'error', text}};
}

/**
 * The connection dropped, or the relay could not be reached yet; the client tries again at `at`.
 * Said once per outage, not per attempt.
 */
function reconnecting(state: ChatState, reconnect: {attempt: number; at: number; code: string; message: string}, time: number): ChatState {
	const {attempt, at, code, message} = reconnect;
	// The relay stopped waiting for a name, or closed while the person compared its fingerprint (the
	// question stays up): they took their time, nothing failed, and the client is back in a moment.
	// Not an outage: nothing is said.
	if (state.me === undefined && (code === 'login_timeout' || state.verify !== undefined)) {
		return {...state, status: 'reconnecting', reconnect: state.reconnect && {attempt, at}};
	}

	const next: ChatState = {...state, status: 'reconnecting', reconnect: {attempt, at}};
	if (state.reconnect !== undefined) return next;
	if (state.me === undefined) {
		const why =
			code === 'connect_failed'
				? `Could not reach the relay: ${message} (${code})`
				: code === 'unverified_refusal'
					? `Could not get in: ${message}`
					: `The connection ended before you were logged in: ${message} (${code})`;
		return {...addStatus(next, 'error', `${why}. Trying again by itself; Ctrl+C leaves.`, time), notice: {tone: 'error', text: why}};
	}

	const why =
		code === 'shutdown'
			? `Disconnected, the relay went down: ${message}`
			: code === 'unverified_refusal'
				? `Disconnected, and could not get back in: ${message}`
				: loginAgainRefused.has(code)
					? `Disconnected, and logging in again was refused for now: ${message} (${code})`
					: `Connection lost: ${message} (${code})`;
	const text = `${why}. Reconnecting by itself; what you send meanwhile goes out once it is back.`;
	return {...addStatus(allOffline(queueWaiting(next)), 'error', text, time), notice: {tone: 'error', text: why}};
}

/** Refusals of the client's own login after a drop that pass with time: it tries again later. */
const loginAgainRefused: ReadonlySet<string> = new Set(['registration_closed', 'login_throttled', 'directory_too_large']);

/**
 * What the name prompt says about a refused login: the relay's words; for a relay that takes no
 * new names, also that an existing account is not affected.
 */
export function loginErrorText({code, message}: {code: string; message: string}): string {
	if (code === 'account_in_use') return 'Another im-tui is using this account: quit it first.';
	if (code === 'registration_closed') return `${message.replace(/[.\s]+$/, '')}. A name this device registered before still logs in.`;
	return message;
}

/** Puts a line about a user in their conversation, or in the status view if the name is not valid. */
function addAbout(state: ChatState, from: string, tone: SystemTone, text: string, time: number): ChatState {
	return addSystemLine(state, isValidUsername(from) ? from : statusView, tone, text, time);
}
