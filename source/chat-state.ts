import type {ClientStatus, Contact, IncomingMessage, RejectionCode, RelayInfo} from './client/client-events.js';
import {isValidUsername} from './net/usernames.js';
import {sanitizeLines} from './sanitize.js';

/**
 * The chat as the UI sees it: a pure reducer over the ChatConnection events plus the user's own
 * actions. No React, no I/O, no clock: every action that needs a time carries it.
 * Text is kept as received; the views sanitize it when they draw it.
 */

/** The key of the conversation with everyone online. Never a username: '#' is not allowed in one. */
export const everyone = '#everyone';

/** `everyone`, or the other person's username. */
export type ConversationKey = string;

export type Delivery =
	| {state: 'sending'}
	/** Waiting in the outbox while the client is offline; it goes out once it is back. */
	| {state: 'queued'}
	/** The relay committed it to its database. */
	| {state: 'stored'; time: number}
	/** The recipient's client confirmed it end to end (for everyone: every recipient did). */
	| {state: 'delivered'}
	| {state: 'failed'; code: string; message: string};

export type MessageLine = {
	kind: 'message';
	/** Arrival order across all lines (messages and system lines). */
	seq: number;
	id: string;
	from: string;
	to: ConversationKey;
	text: string;
	time: number;
	/** Set on the messages this user sent. */
	delivery?: Delivery;
	/** On this user's messages to everyone: who was sent a copy, and who confirmed it. */
	receipts?: {recipients: readonly string[]; by: readonly string[]};
};

export type SystemTone = 'info' | 'error' | 'warning' | 'announcement';

export type SystemLine = {kind: 'system'; seq: number; tone: SystemTone; text: string; time: number; tag?: 'held'};

export type ChatLine = MessageLine | SystemLine;

export type Notice = {tone: 'info' | 'error'; text: string};

/** The /verify view: the safety number shared with one contact. */
export type Verification = {username: string; safetyNumber: string; keyChanged: boolean};

export type ChatState = {
	status: ClientStatus;
	relay: RelayInfo | undefined;
	me: string | undefined;
	/** Every registered user but me, keyed by name. A Map, because "__proto__" is a valid username. */
	contacts: ReadonlyMap<string, Contact>;
	selected: ConversationKey | undefined;
	conversations: ReadonlyMap<ConversationKey, ChatLine[]>;
	/** Lines shown in every conversation (joins, announcements, command output). */
	system: SystemLine[];
	unread: ReadonlyMap<ConversationKey, number>;
	/** Id → conversation of my messages still waiting for the relay or for receipts. */
	tracking: ReadonlyMap<string, ConversationKey>;
	notice: Notice | undefined;
	/** The relay is unknown and waits for the user to trust it. */
	verify: RelayInfo | undefined;
	/** The relay showed a key that differs from the pinned one. */
	keyChanged: {relay: RelayInfo; pinnedFingerprint: string} | undefined;
	verification: Verification | undefined;
	login: {requested: boolean; pending: string | undefined; error: string | undefined};
	/** The connection dropped and the client is reconnecting: the attempt due next, and when. */
	reconnect: {attempt: number; at: number} | undefined;
	closed: {code: string; message: string} | undefined;
	counter: number;
	maxLines: number;
};

export type ChatAction =
	| {type: 'sync'; status: ClientStatus; relay: RelayInfo | undefined; username: string | undefined}
	| {type: 'status'; status: ClientStatus}
	| {type: 'relay-unknown'; relay: RelayInfo}
	| {type: 'relay-changed'; relay: RelayInfo; pinnedFingerprint: string}
	| {type: 'relay-trusted'; relay: RelayInfo}
	| {type: 'trust-decided'; trust: boolean}
	| {type: 'login-request'}
	| {type: 'login-sent'; username: string}
	| {type: 'login-error'; error: {code: string; message: string}}
	| {type: 'welcome'; welcome: {username: string; users: Contact[]; motd: string | null; reconnected?: boolean}; time: number}
	| {type: 'user-joined'; contact: Contact; time: number}
	| {type: 'user-left'; username: string; time: number}
	| {type: 'contact-updated'; contact: Contact; time: number}
	| {type: 'message'; message: IncomingMessage}
	| {type: 'accepted'; ack: {id: string; time: number}}
	| {type: 'delivered'; receipt: {id: string; by: string}}
	| {type: 'gap'; gap: {from: string; missing: number}; time: number}
	| {type: 'rejected'; rejection: {from: string; code: RejectionCode; reason: string}; time: number}
	| {type: 'held'; held: {from: string; count: number}; time: number}
	| {type: 'relay-error'; error: {code: string; message: string; ref: string | null}; time: number}
	| {type: 'local-error'; error: {message: string}; time: number}
	| {type: 'announcement'; announcement: {text: string; time: number}}
	| {type: 'reconnecting'; reconnect: {attempt: number; at: number; code: string; message: string}; time: number}
	| {type: 'unsent'; unsent: {id: string; to: string; reason: string}; time: number}
	| {type: 'closed'; reason: {code: string; message: string}; time: number}
	/** I sent `text` as message `id` to one person, or to everyone (`recipients` got a copy). */
	| {type: 'outgoing'; id: string; to: ConversationKey; recipients: string[]; text: string; time: number}
	| {type: 'select-next'}
	| {type: 'select-previous'}
	| {type: 'select'; key: ConversationKey}
	| {type: 'verify-open'; username: string; safetyNumber: string}
	| {type: 'verify-close'}
	| {type: 'local'; tone: SystemTone; text: string; time: number; conversation?: ConversationKey};

export const defaultMaxLines = 500;

export function createChatState(
	connection: {status: ClientStatus; relay?: RelayInfo | undefined; username?: string | undefined},
	options: {maxLines?: number} = {},
): ChatState {
	return {
		status: connection.status,
		relay: connection.relay,
		me: connection.username,
		contacts: new Map(),
		selected: undefined,
		conversations: new Map(),
		system: [],
		unread: new Map(),
		tracking: new Map(),
		notice: undefined,
		verify: undefined,
		keyChanged: undefined,
		verification: undefined,
		login: {requested: false, pending: undefined, error: undefined},
		reconnect: undefined,
		closed: undefined,
		counter: 0,
		maxLines: options.maxLines ?? defaultMaxLines,
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
			const next = addSystem(updateContact(state, {...contact, online: true}, time), 'info', `${contact.username} joined`, time);
			return next.selected === undefined ? select(next, contact.username) : next;
		}

		case 'user-left': {
			const {username, time} = action;
			const known = state.contacts.get(username);
			if (!known?.online) return state;
			return addSystem(updateContact(state, {...known, online: false}, time), 'info', `${username} left`, time);
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
			const next = addSystem(state, 'error', action.error.message, action.time);
			return {...next, notice: {tone: 'error', text: action.error.message}};
		}

		case 'announcement': {
			const {text, time} = action.announcement;
			return sanitizeLines(text).reduce((next, line) => addSystem(next, 'announcement', line, time), state);
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
			return conversation === undefined ? addSystem(state, tone, text, time) : addLine(state, conversation, {kind: 'system', seq: state.counter, tone, text, time});
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
	if (welcome.reconnected) return addSystem(next, 'info', `Back online. ${others} online${registered}.`, time);
	next = addSystem(next, 'info', `Logged in as ${me}. ${others} online${registered}. Type /help for help.`, time);
	for (const line of sanitizeLines(welcome.motd ?? '')) next = addSystem(next, 'announcement', line, time);
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
		next = addLine(next, name, {
			kind: 'system',
			seq: next.counter,
			tone: 'warning',
			time,
			text:
				`WARNING: ${name}'s identity key changed. ${name} may have reinstalled, or someone may be impersonating ${name}. ` +
				`Nothing is sent to ${name} and messages from the new key are held; ` +
				`compare safety numbers with /verify ${name}, then /trust ${name} to accept.`,
		});
		return {...next, notice: {tone: 'error', text: `${name}'s identity key changed: /verify ${name}, then /trust ${name}`}};
	}

	if (before?.keyChanged && !contact.keyChanged) {
		return addLine(next, name, {kind: 'system', seq: next.counter, tone: 'info', time, text: `You accepted ${name}'s new identity key; held messages follow.`});
	}

	if (before !== undefined && before.verified !== contact.verified) {
		const text = contact.verified ? `${name} is verified: you compared safety numbers.` : `${name} is no longer marked verified.`;
		return addLine(next, name, {kind: 'system', seq: next.counter, tone: 'info', time, text});
	}

	return next;
}

function incoming(state: ChatState, message: IncomingMessage): ChatState {
	const {id, from, text, time} = message;
	if (!isValidUsername(from)) return state;
	const key = message.kind === 'everyone' ? everyone : from;
	// A message is shown once, however often it arrives (the client already drops replays).
	if ((state.conversations.get(key) ?? []).some(line => line.kind === 'message' && line.id === id && line.from === from)) return state;
	const next = addLine(state, key, {kind: 'message', seq: state.counter, id, from, to: key === everyone ? everyone : message.to, text, time});
	if (next.selected === undefined) return select(next, key);
	if (next.selected === key) return next;
	return {...next, unread: new Map(next.unread).set(key, (next.unread.get(key) ?? 0) + 1)};
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
		return {...tracked, notice: {tone: 'info', text: `${to} is offline: the relay keeps it until ${to} logs in`}};
	}

	return tracked;
}

function receipt(state: ChatState, id: string, by: string): ChatState {
	const key = state.tracking.get(id);
	if (key === undefined) return state;
	const next = updateOwn(state, id, line => {
		if (line.receipts === undefined) return line.to === by ? {...line, delivery: {state: 'delivered'}} : line;
		const {recipients, by: confirmed} = line.receipts;
		if (!recipients.includes(by) || confirmed.includes(by)) return line;
		const receipts = {recipients, by: [...confirmed, by]};
		return {...line, receipts, delivery: receipts.by.length === recipients.length ? {state: 'delivered'} : line.delivery};
	});
	const done = (next.conversations.get(key) ?? []).some(line => line.kind === 'message' && line.id === id && line.delivery?.state === 'delivered');
	return done ? untrack(next, id) : next;
}

function relayError(state: ChatState, error: {code: string; message: string; ref: string | null}, time: number): ChatState {
	const {code, message, ref} = error;
	// Not taken for now: the client sends the same envelope again after a pause, by itself.
	if (code === 'rate_limited') return {...state, notice: {tone: 'info', text: 'the relay asks to slow down: sending again in a moment'}};
	if (code === 'storage_failed') return {...state, notice: {tone: 'error', text: 'the relay could not store a message: sending it again in a moment'}};
	const key = ref === null ? undefined : state.tracking.get(ref);
	if (ref === null || key === undefined) {
		const next = addSystem(state, 'error', `relay error (${code}): ${message}`, time);
		return {...next, notice: {tone: 'error', text: message}};
	}

	if (key === everyone) {
		// One copy among several was refused; the relay does not say whose.
		const next = addLine(state, everyone, {kind: 'system', seq: state.counter, tone: 'error', time, text: `A copy of your message to everyone was refused by the relay: ${message} (${code})`});
		return {...next, notice: {tone: 'error', text: `a copy to everyone was refused: ${message}`}};
	}

	const failed = untrack(
		updateOwn(state, ref, line => ({...line, delivery: {state: 'failed', code, message}})),
		ref,
	);
	return {...failed, notice: {tone: 'error', text: `not sent to ${key}: ${message}`}};
}

/** A message that waited in the outbox was dropped for one recipient (their key changed). */
function unsent(state: ChatState, {id, to, reason}: {id: string; to: string; reason: string}, time: number): ChatState {
	const key = state.tracking.get(id);
	if (key === undefined) return state;
	if (key === everyone) {
		return addLine(state, everyone, {kind: 'system', seq: state.counter, tone: 'error', time, text: `Your message to everyone was not sent to ${to}: ${reason}.`});
	}

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
	if (last?.kind === 'system' && last.tag === 'held') {
		// Replace the count rather than stacking one line per envelope.
		const replaced: SystemLine = {...last, text, time};
		return {...state, conversations: new Map(state.conversations).set(from, [...lines.slice(0, -1), replaced])};
	}

	return addLine(state, from, {kind: 'system', seq: state.counter, tone: 'warning', text, time, tag: 'held'});
}

function closed(state: ChatState, reason: {code: string; message: string}, time: number): ChatState {
	// Messages the relay stored are still delivered later; the others wait in the outbox on disk
	// and go out the next time this account logs in to this relay.
	let next = queueWaiting(state);
	const text = reason.code === 'shutdown' ? `Disconnected, the relay went down: ${reason.message}` : `Connection closed: ${reason.message} (${reason.code})`;
	next = addSystem(next, 'error', text, time);
	return {...allOffline(next), status: 'closed', reconnect: undefined, verify: undefined, verification: undefined, closed: reason, notice: {tone: 'error', text}};
}

/** The connection dropped; the client tries again at `at`. Said once per outage, not per attempt. */
function reconnecting(state: ChatState, reconnect: {attempt: number; at: number; code: string; message: string}, time: number): ChatState {
	const {attempt, at, code, message} = reconnect;
	const next: ChatState = {...state, status: 'reconnecting', reconnect: {attempt, at}};
	if (state.reconnect !== undefined) return next;
	const why = code === 'shutdown' ? `Disconnected, the relay went down: ${message}` : `Connection lost: ${message} (${code})`;
	const text = `${why}. Reconnecting by itself; what you send meanwhile goes out once it is back.`;
	return {...addSystem(allOffline(queueWaiting(next)), 'error', text, time), notice: {tone: 'error', text: why}};
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

/** Puts a line about a user in their conversation, or in the system lines if the name is not valid. */
function addAbout(state: ChatState, from: string, tone: SystemTone, text: string, time: number): ChatState {
	if (!isValidUsername(from)) return addSystem(state, tone, text, time);
	return addLine(state, from, {kind: 'system', seq: state.counter, tone, text, time});
}

function updateOwn(state: ChatState, id: string, update: (line: MessageLine) => MessageLine): ChatState {
	const key = state.tracking.get(id);
	if (key === undefined) return state;
	const lines = (state.conversations.get(key) ?? []).map(line => (line.kind === 'message' && line.id === id && line.delivery ? update(line) : line));
	return {...state, conversations: new Map(state.conversations).set(key, lines)};
}

function untrack(state: ChatState, id: string): ChatState {
	const tracking = new Map(state.tracking);
	tracking.delete(id);
	return {...state, tracking};
}

function addLine(state: ChatState, key: ConversationKey, line: ChatLine): ChatState {
	const all = [...(state.conversations.get(key) ?? []), line];
	const kept = all.slice(-state.maxLines);
	// A message that scrolls out of memory is no longer followed.
	const dropped = new Set(all.slice(0, all.length - kept.length).flatMap(old => (old.kind === 'message' ? [old.id] : [])));
	const tracking = dropped.size === 0 ? state.tracking : new Map([...state.tracking].filter(([id]) => !dropped.has(id)));
	return {...state, tracking, counter: state.counter + 1, conversations: new Map(state.conversations).set(key, kept)};
}

function addSystem(state: ChatState, tone: SystemTone, text: string, time: number): ChatState {
	const line: SystemLine = {kind: 'system', seq: state.counter, tone, text, time};
	return {...state, counter: state.counter + 1, system: [...state.system, line].slice(-state.maxLines)};
}

function select(state: ChatState, key: ConversationKey): ChatState {
	const unread = new Map(state.unread);
	unread.delete(key);
	return {...state, selected: key, unread};
}

function step(state: ChatState, delta: 1 | -1): ChatState {
	const list = conversationList(state);
	const index = state.selected === undefined ? -1 : list.indexOf(state.selected);
	const nextIndex = index === -1 ? (delta === 1 ? 0 : list.length - 1) : (index + delta + list.length) % list.length;
	const key = list[nextIndex];
	return key === undefined ? state : select(state, key);
}

function byName(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/** What the sidebar lists: `everyone` first, then every registered user and anyone you talked with. */
export function conversationList(state: ChatState): ConversationKey[] {
	const names = new Set([...state.contacts.keys(), ...state.conversations.keys()]);
	if (state.selected !== undefined) names.add(state.selected);
	names.delete(everyone);
	return [everyone, ...[...names].sort(byName)];
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
			online: key === everyone ? true : (contact?.online ?? false),
			verified: contact?.verified ?? false,
			keyChanged: contact?.keyChanged ?? false,
			unread: state.unread.get(key) ?? 0,
			selected: key === state.selected,
		};
	});
}

/** The selected conversation merged with the system lines, in arrival order. */
export function visibleLines(state: ChatState): ChatLine[] {
	const conversation = state.selected === undefined ? [] : (state.conversations.get(state.selected) ?? []);
	return [...conversation, ...state.system].sort((a, b) => a.seq - b.seq);
}
