import type {Contact, IncomingMessage} from './client/client-events.js';
import {isValidUsername} from './net/usernames.js';
import {sanitizeLines} from './sanitize.js';
import {conversationList, hasConversation, nextUnread, select, step} from './chat/conversations.js';
import {addLine, addStatus, addSystemLine, hasMessage, markUnread, replaceLast, untrack, updateOwn} from './chat/lines.js';
import {everyone, statusView, type ChatAction, type ChatLine, type ChatState, type MessageLine, type SystemTone} from './chat/types.js';

/**
 * The chat as the UI sees it: a pure reducer over the ChatConnection events plus the user's own
 * actions. No React, no I/O, no clock: every action that needs a time carries it.
 * Text is kept as received; the views sanitize it when they draw it.
 */

export * from './chat/types.js';
export {conversationList, sidebarEntries, type SidebarEntry} from './chat/conversations.js';

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
			return {...state, login: {...state.login, requested: true}};
		}

		case 'login-sent': {
			return {...state, login: {requested: false, pending: action.username, error: undefined}};
		}

		case 'login-error': {
			const {message} = action.error;
			return {
				...state,
				login: {requested: true, pending: undefined, error: message},
				notice: {tone: 'error', text: message},
			};
		}

		case 'welcome': {
			return welcome(state, action.welcome, action.time);
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
			const {id, time} = action.ack;
			return updateOwn(state, id, line => (waiting(line) ? {...line, delivery: {state: 'stored', time}} : line));
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

function welcome(state: ChatState, welcome: {username: string; users: Contact[]; motd: string | null; reconnected?: boolean}, time: number): ChatState {
	const me = welcome.username;
	let next: ChatState = {
		...state,
		me,
		closed: undefined,
		reconnect: undefined,
		login: {requested: false, pending: undefined, error: undefined},
		notice: undefined,
	};
	// One copy of the contacts for the whole directory, not one per user: thousands of users would
	// make that quadratic (10,000 took 9 s).
	const updated = new Map(next.contacts);
	for (const contact of welcome.users) {
		if (isValidUsername(contact.username) && contact.username !== me) next = updateContact(next, contact, time, updated);
	}

	const contacts = [...next.contacts.values()];
	const online = contacts.filter(contact => contact.online).map(contact => contact.username).sort(byName);
	const others = online.length === 1 ? '1 other person is' : `${online.length} other people are`;
	const registered = contacts.length === online.length ? '' : ` (${contacts.length} registered)`;
	if (welcome.reconnected) return addStatus(next, 'info', `Back online. ${others} online${registered}.`, time);
	next = addStatus(next, 'info', `Logged in as ${me}. ${others} online${registered}. Type /help for help.`, time);
	const motd = sanitizeLines(welcome.motd ?? '');
	for (const line of motd) next = addStatus(next, 'announcement', line, time);
	if (motd.length > 0) next = markUnread(next, statusView);
	return next.selected === undefined ? select(next, online[0] ?? everyone) : next;
}

/**
 * Records a contact's new state and says in its conversation what changed that matters. `contacts`:
 * a copy of state.contacts that the caller owns and this may change, for many updates in a row.
 */
function updateContact(state: ChatState, contact: Contact, time: number, contacts = new Map(state.contacts)): ChatState {
	const name = contact.username;
	const before = state.contacts.get(name);
	let next: ChatState = {...state, contacts: contacts.set(name, {...contact})};
	if (contact.keyChanged && !before?.keyChanged) {
		next = addSystemLine(
			next,
			name,
			'warning',
			`WARNING: ${name}'s identity key changed. ${name} may have reinstalled, or someone may be impersonating ${name}. ` +
				`Nothing is sent to ${name} and messages from the new key are held; ` +
				`compare safety numbers with /verify ${name}, then /trust ${name} to accept.`,
			time,
		);
		return {...next, notice: {tone: 'error', text: `${name}'s identity key changed: /verify ${name}, then /trust ${name}`}};
	}

	if (before?.keyChanged && !contact.keyChanged) {
		return addSystemLine(next, name, 'info', `You accepted ${name}'s new identity key; held messages follow.`, time);
	}

	if (before !== undefined && before.verified !== contact.verified) {
		const text = contact.verified ? `${name} is verified: you compared safety numbers.` : `${name} is no longer marked verified.`;
		return addSystemLine(next, name, 'info', text, time);
	}

	return next;
}

/** A join or leave: in the conversation with that person if there is one, else in the status view. */
function presence(state: ChatState, name: string, tone: 'join' | 'leave', time: number): ChatState {
	const text = tone === 'join' ? `${name} joined` : `${name} left`;
	return hasConversation(state, name) ? addSystemLine(state, name, tone, text, time) : addStatus(state, tone, text, time);
}

function incoming(state: ChatState, message: IncomingMessage): ChatState {
	const {id, from, text} = message;
	if (!isValidUsername(from)) return state;
	const key = message.kind === 'everyone' ? everyone : from;
	// A message is shown once, however often it arrives (the client already drops replays).
	if (hasMessage(state, key, id, from)) return state;
	const line: MessageLine = {kind: 'message', seq: state.counter, id, from, to: key === everyone ? everyone : message.to, text, time: shownTime(message)};
	const next = addLine(state, key, line);
	if (next.selected === undefined) return select(next, key);
	if (next.selected === key) return next;
	return {...markUnread(next, key), bells: next.bells + 1};
}

function outgoing(state: ChatState, action: Extract<ChatAction, {type: 'outgoing'}>): ChatState {
	const {id, to, recipients, text, time} = action;
	const offline = state.reconnect !== undefined;
	const line: MessageLine = {kind: 'message', seq: state.counter, id, from: state.me ?? '', to, text, time, delivery: {state: offline ? 'queued' : 'sending'}};
	if (to === everyone) line.receipts = {recipients: [...recipients], by: []};
	const next = addLine(state, to, line);
	const tracked = {...next, tracking: new Map(next.tracking).set(id, to)};
	if (offline) return {...tracked, notice: {tone: 'info', text: 'you are offline: it goes out once you are back online'}};
	const contact = state.contacts.get(to);
	if (contact !== undefined && !contact.online) {
		return {...tracked, notice: {tone: 'info', text: `${to} is offline: the relay keeps it until ${to} logs in`, about: to, reason: 'offline'}};
	}

	return tracked;
}

function receipt(state: ChatState, id: string, by: string): ChatState {
	const key = state.tracking.get(id);
	if (key === undefined) return state;
	let done = false;
	const next = updateOwn(state, id, line => {
		if (line.receipts === undefined) {
			if (line.to !== by) return line;
			done = true;
			return {...line, delivery: {state: 'delivered'}};
		}

		const {recipients, by: confirmed} = line.receipts;
		if (!recipients.includes(by) || confirmed.includes(by)) return line;
		const receipts = {recipients, by: [...confirmed, by]};
		done = receipts.by.length === recipients.length;
		return {...line, receipts, delivery: done ? {state: 'delivered'} : line.delivery};
	});
	return done ? untrack(next, id) : next;
}

function relayError(state: ChatState, error: {code: string; message: string; ref: string | null}, time: number): ChatState {
	const {code, message, ref} = error;
	// Not taken for now: the client sends the same envelope again after a pause, by itself.
	if (code === 'rate_limited') return {...state, notice: {tone: 'info', text: 'the relay asks to slow down: sending again in a moment'}};
	if (code === 'storage_failed') return {...state, notice: {tone: 'error', text: 'the relay could not store a message: sending it again in a moment'}};
	const key = ref === null ? undefined : state.tracking.get(ref);
	if (ref === null || key === undefined) {
		const next = addStatus(state, 'error', `relay error (${code}): ${message}`, time);
		return {...next, notice: {tone: 'error', text: message}};
	}

	if (key === everyone) {
		// One copy among several was refused; the relay does not say whose.
		const next = addSystemLine(state, everyone, 'error', `A copy of your message to everyone was refused by the relay: ${message} (${code})`, time);
		return {...next, notice: {tone: 'error', text: `a copy to everyone was refused: ${message}`, about: everyone}};
	}

	const failed = untrack(
		updateOwn(state, ref, line => ({...line, delivery: {state: 'failed', code, message}})),
		ref,
	);
	return {...failed, notice: {tone: 'error', text: `not sent to ${key}: ${message}`, about: key}};
}

/** A message that waited in the outbox was dropped for one recipient (their key changed). */
function unsent(state: ChatState, {id, to, reason}: {id: string; to: string; reason: string}, time: number): ChatState {
	const key = state.tracking.get(id);
	if (key === undefined) return state;
	if (key === everyone) return addSystemLine(state, everyone, 'error', `Your message to everyone was not sent to ${to}: ${reason}.`, time);
	return untrack(
		updateOwn(state, id, line => ({...line, delivery: {state: 'failed', code: 'key_changed', message: reason}})),
		id,
	);
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
	return {...allOffline(next), status: 'closed', reconnect: undefined, verify: undefined, verification: undefined, closed: reason, notice: {tone: 'error', text}};
}

/**
 * The connection dropped, or the relay could not be reached yet; the client tries again at `at`.
 * Said once per outage, not per attempt.
 */
function reconnecting(state: ChatState, reconnect: {attempt: number; at: number; code: string; message: string}, time: number): ChatState {
	const {attempt, at, code, message} = reconnect;
	const next: ChatState = {...state, status: 'reconnecting', reconnect: {attempt, at}};
	if (state.reconnect !== undefined) return next;
	if (state.me === undefined) {
		const why = `Could not reach the relay: ${message} (${code})`;
		return {...addStatus(next, 'error', `${why}. Trying again by itself; Ctrl+C leaves.`, time), notice: {tone: 'error', text: why}};
	}

	const why = code === 'shutdown' ? `Disconnected, the relay went down: ${message}` : `Connection lost: ${message} (${code})`;
	const text = `${why}. Reconnecting by itself; what you send meanwhile goes out once it is back.`;
	return {...addStatus(allOffline(queueWaiting(next)), 'error', text, time), notice: {tone: 'error', text: why}};
}

function waiting(line: MessageLine): boolean {
	return line.delivery?.state === 'sending' || line.delivery?.state === 'queued';
}

/** My messages the relay has not taken yet now wait in the outbox. */
function queueWaiting(state: ChatState): ChatState {
	let next = state;
	for (const id of state.tracking.keys()) {
		next = updateOwn(next, id, line => (line.delivery?.state === 'sending' ? {...line, delivery: {state: 'queued'}} : line));
	}

	return next;
}

function allOffline(state: ChatState): ChatState {
	return {...state, contacts: new Map([...state.contacts].map(([name, contact]) => [name, {...contact, online: false}]))};
}

/** Puts a line about a user in their conversation, or in the status view if the name is not valid. */
function addAbout(state: ChatState, from: string, tone: SystemTone, text: string, time: number): ChatState {
	return addSystemLine(state, isValidUsername(from) ? from : statusView, tone, text, time);
}

function byName(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/** The lines of the selected conversation, oldest first. */
export function selectedLines(state: ChatState): readonly ChatLine[] {
	return state.conversations.get(state.selected ?? statusView) ?? [];
}
