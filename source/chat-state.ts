import type {ClientStatus, IncomingMessage, RelayInfo} from './net/client-events.js';
import {isValidUsername} from './net/usernames.js';
import {sanitizeLines} from './sanitize.js';

/**
 * The chat as the UI sees it: a pure reducer over the ChatConnection events plus the user's own
 * actions. No React, no I/O, no clock: every action that needs a time carries it.
 * Text is kept as received; the views sanitize it when they draw it.
 */

export type Delivery =
	| {state: 'sending'}
	| {state: 'sent'; time: number}
	| {state: 'failed'; code: string; message: string};

export type MessageLine = {
	kind: 'message';
	/** Arrival order across all lines (messages and system lines). */
	seq: number;
	id: string;
	from: string;
	to: string;
	text: string;
	time: number;
	/** Set on the messages this user sent. */
	delivery?: Delivery;
};

export type SystemTone = 'info' | 'error' | 'announcement';

export type SystemLine = {kind: 'system'; seq: number; tone: SystemTone; text: string; time: number};

export type ChatLine = MessageLine | SystemLine;

export type Notice = {tone: 'info' | 'error'; text: string};

export type ChatState = {
	status: ClientStatus;
	relay: RelayInfo | undefined;
	me: string | undefined;
	/** Other users online, sorted. */
	online: string[];
	selected: string | undefined;
	/** Keyed by the other person's name. A Map, because "__proto__" is a valid username. */
	conversations: ReadonlyMap<string, MessageLine[]>;
	system: SystemLine[];
	unread: ReadonlyMap<string, number>;
	/** Message id → peer, for messages still "sending". */
	pending: ReadonlyMap<string, string>;
	notice: Notice | undefined;
	/** The relay is unknown and waits for the user to trust it. */
	verify: RelayInfo | undefined;
	/** The relay showed a key that differs from the pinned one. */
	keyChanged: {relay: RelayInfo; pinnedFingerprint: string} | undefined;
	login: {requested: boolean; pending: string | undefined; error: string | undefined};
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
	| {type: 'welcome'; welcome: {username: string; users: string[]; motd: string | null}; time: number}
	| {type: 'user-joined'; username: string; time: number}
	| {type: 'user-left'; username: string; time: number}
	| {type: 'message'; message: IncomingMessage}
	| {type: 'sent'; ack: {id: string; time: number}}
	| {type: 'relay-error'; error: {code: string; message: string; ref: string | null}; time: number}
	| {type: 'announcement'; announcement: {text: string; time: number}}
	| {type: 'closed'; reason: {code: string; message: string}; time: number}
	| {type: 'outgoing'; id: string; to: string; text: string; time: number}
	| {type: 'select-next'}
	| {type: 'select-previous'}
	| {type: 'select'; username: string}
	| {type: 'local'; tone: SystemTone; text: string; time: number};

export const defaultMaxLines = 500;

export function createChatState(
	connection: {status: ClientStatus; relay?: RelayInfo | undefined; username?: string | undefined},
	options: {maxLines?: number} = {},
): ChatState {
	return {
		status: connection.status,
		relay: connection.relay,
		me: connection.username,
		online: [],
		selected: undefined,
		conversations: new Map(),
		system: [],
		unread: new Map(),
		pending: new Map(),
		notice: undefined,
		verify: undefined,
		keyChanged: undefined,
		login: {requested: false, pending: undefined, error: undefined},
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
			const {username, time} = action;
			if (!isValidUsername(username) || username === state.me || state.online.includes(username)) return state;
			const online = [...state.online, username].sort(byName);
			const next = addSystem({...state, online}, 'info', `${username} joined`, time);
			return next.selected === undefined ? select(next, username) : next;
		}

		case 'user-left': {
			const {username, time} = action;
			if (!isValidUsername(username) || !state.online.includes(username)) return state;
			const online = state.online.filter(name => name !== username);
			return addSystem({...state, online}, 'info', `${username} left`, time);
		}

		case 'message': {
			return incoming(state, action.message);
		}

		case 'outgoing': {
			const {id, to, text, time} = action;
			const line: MessageLine = {kind: 'message', seq: state.counter, id, from: state.me ?? '', to, text, time, delivery: {state: 'sending'}};
			const next = addToConversation(state, to, line);
			return {...next, pending: new Map(next.pending).set(id, to)};
		}

		case 'sent': {
			return settle(state, action.ack.id, {state: 'sent', time: action.ack.time});
		}

		case 'relay-error': {
			const {code, message, ref} = action.error;
			const peer = ref === null ? undefined : state.pending.get(ref);
			if (ref !== null && peer !== undefined) {
				const settled = settle(state, ref, {state: 'failed', code, message});
				return {...settled, notice: {tone: 'error', text: `not delivered to ${peer}: ${message}`}};
			}

			const next = addSystem(state, 'error', `relay error (${code}): ${message}`, action.time);
			return {...next, notice: {tone: 'error', text: message}};
		}

		case 'announcement': {
			const {text, time} = action.announcement;
			return sanitizeLines(text).reduce((next, line) => addSystem(next, 'announcement', line, time), state);
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
			return peerList(state).includes(action.username) ? select(state, action.username) : state;
		}

		case 'local': {
			return addSystem(state, action.tone, action.text, action.time);
		}
	}
}

function welcome(state: ChatState, welcome: {username: string; users: string[]; motd: string | null}, time: number): ChatState {
	const me = welcome.username;
	const online = [...new Set(welcome.users)].filter(name => isValidUsername(name) && name !== me).sort(byName);
	let next: ChatState = {
		...state,
		me,
		online,
		closed: undefined,
		login: {requested: false, pending: undefined, error: undefined},
		notice: undefined,
	};
	const others = online.length === 1 ? '1 other person is' : `${online.length} other people are`;
	next = addSystem(next, 'info', `Logged in as ${me}. ${others} online. Type /help for help.`, time);
	for (const line of sanitizeLines(welcome.motd ?? '')) next = addSystem(next, 'announcement', line, time);
	const first = online[0];
	return next.selected === undefined && first !== undefined ? select(next, first) : next;
}

function incoming(state: ChatState, message: IncomingMessage): ChatState {
	const peer = message.from;
	if (!isValidUsername(peer)) return state;
	const {id, from, to, text, time} = message;
	const next = addToConversation(state, peer, {kind: 'message', seq: state.counter, id, from, to, text, time});
	if (next.selected === undefined) return select(next, peer);
	if (next.selected === peer) return next;
	return {...next, unread: new Map(next.unread).set(peer, (next.unread.get(peer) ?? 0) + 1)};
}

function closed(state: ChatState, reason: {code: string; message: string}, time: number): ChatState {
	let next: ChatState = state;
	for (const id of state.pending.keys()) {
		next = settle(next, id, {state: 'failed', code: reason.code, message: 'the connection closed'});
	}

	const text = reason.code === 'shutdown' ? `Disconnected, the relay went down: ${reason.message}` : `Connection closed: ${reason.message} (${reason.code})`;
	next = addSystem(next, 'error', text, time);
	return {...next, status: 'closed', online: [], verify: undefined, closed: reason, notice: {tone: 'error', text}};
}

function settle(state: ChatState, id: string, delivery: Delivery): ChatState {
	const peer = state.pending.get(id);
	if (peer === undefined) return state;
	const lines = (state.conversations.get(peer) ?? []).map(line => (line.id === id && line.delivery ? {...line, delivery} : line));
	const pending = new Map(state.pending);
	pending.delete(id);
	return {...state, pending, conversations: new Map(state.conversations).set(peer, lines)};
}

function addToConversation(state: ChatState, peer: string, line: MessageLine): ChatState {
	const lines = [...(state.conversations.get(peer) ?? []), line].slice(-state.maxLines);
	return {...state, counter: state.counter + 1, conversations: new Map(state.conversations).set(peer, lines)};
}

function addSystem(state: ChatState, tone: SystemTone, text: string, time: number): ChatState {
	const line: SystemLine = {kind: 'system', seq: state.counter, tone, text, time};
	return {...state, counter: state.counter + 1, system: [...state.system, line].slice(-state.maxLines)};
}

function select(state: ChatState, username: string): ChatState {
	const unread = new Map(state.unread);
	unread.delete(username);
	return {...state, selected: username, unread};
}

function step(state: ChatState, delta: 1 | -1): ChatState {
	const list = peerList(state);
	if (list.length === 0) return state;
	const index = state.selected === undefined ? -1 : list.indexOf(state.selected);
	const nextIndex = index === -1 ? (delta === 1 ? 0 : list.length - 1) : (index + delta + list.length) % list.length;
	const name = list[nextIndex];
	return name === undefined ? state : select(state, name);
}

function byName(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/** Who the sidebar lists: everyone online, anyone you talked with, and the selected person. */
export function peerList(state: ChatState): string[] {
	const names = new Set([...state.online, ...state.conversations.keys()]);
	if (state.selected !== undefined) names.add(state.selected);
	return [...names].sort(byName);
}

export type PeerEntry = {name: string; online: boolean; unread: number; selected: boolean};

export function peerEntries(state: ChatState): PeerEntry[] {
	const online = new Set(state.online);
	return peerList(state).map(name => ({
		name,
		online: online.has(name),
		unread: state.unread.get(name) ?? 0,
		selected: name === state.selected,
	}));
}

/** The selected conversation merged with the system lines, in arrival order. */
export function visibleLines(state: ChatState): ChatLine[] {
	const conversation = state.selected === undefined ? [] : (state.conversations.get(state.selected) ?? []);
	return [...conversation, ...state.system].sort((a, b) => a.seq - b.seq);
}
