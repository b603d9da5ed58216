import {isValidUsername} from '../../net/usernames.js';
import {sanitizeLines} from '../../sanitize.js';
import {closed, loginErrorText, reconnecting} from './connection-events.js';
import {presence, updateContact, welcome} from './contacts.js';
import {conversationList, nextUnread, select, step} from './conversations.js';
import {forgotten, keptLoaded, touchKept} from './kept.js';
import {found, lookupFailed, whoOnline} from './lookups.js';
import {addStatus, addSystemLine, markUnread} from './lines.js';
import {gap, held, incoming, rejected, sessionReset} from './received.js';
import {outgoing, receipt, relayError, stored, unsent} from './sent-messages.js';
import {inviteAnswered, roomAccepted, roomChange, roomDeclined, roomDelivered, roomError, roomInvite, roomMessage, roomRejected, roomsListed} from './rooms.js';
import {statusView, type ChatAction, type ChatState} from './types.js';

/**
 * The chat as the UI sees it: a pure reducer over the ChatConnection events plus the user's own
 * actions. No React, no I/O, no clock: every action that needs a time carries it.
 * Text is kept as received; the views sanitize it when they draw it.
 */

export const defaultMaxLines = 10_000;
/** About 100 MB of lines at most, whoever sends them: 50,000 lines, 16 Mi characters of text. */
export const defaultMaxTotalLines = 50_000;
export const defaultMaxTotalChars = 16 * 1024 * 1024;

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
		kept: new Map(),
		keptLoaded: false,
		keptRevision: 0,
		rooms: new Map(),
		invites: new Map(),
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
			return touchKept(stored(state, action.ack.id, action.ack.time), state, action.ack.id);
		}

		case 'delivered': {
			return touchKept(receipt(state, action.receipt.id, action.receipt.by), state, action.receipt.id);
		}

		case 'gap': {
			return gap(state, action.gap, action.time);
		}

		case 'rejected': {
			return rejected(state, action.rejection, action.time);
		}

		case 'session-reset': {
			return sessionReset(state, action.reset, action.time);
		}

		case 'held': {
			return held(state, action.held.from, action.held.count, action.time);
		}

		case 'relay-error': {
			const {ref} = action.error;
			return ref === null ? relayError(state, action.error, action.time) : touchKept(relayError(state, action.error, action.time), state, ref);
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
			return touchKept(unsent(state, action.unsent, action.time), state, action.unsent.id);
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

		case 'kept': {
			return keptLoaded(state, action.kept);
		}

		case 'forgotten': {
			return forgotten(state, action.key, action.count, action.time);
		}

		case 'rooms': {
			return roomsListed(state, action.rooms, action.invites, action.time);
		}

		case 'room-message': {
			return roomMessage(state, action.message);
		}

		case 'room-change': {
			return roomChange(state, action.change);
		}

		case 'room-accepted': {
			return roomAccepted(state, action.accepted);
		}

		case 'room-delivered': {
			return roomDelivered(state, action.delivered);
		}

		case 'room-invite': {
			return roomInvite(state, action.invite);
		}

		case 'room-declined': {
			return roomDeclined(state, action.declined, action.time);
		}

		case 'room-error': {
			return roomError(state, action.error, action.time);
		}

		case 'room-rejected': {
			return roomRejected(state, action.rejection, action.time);
		}

		case 'invite-answered': {
			return inviteAnswered(state, action.room);
		}

		case 'local': {
			const {conversation, tone, text, time} = action;
			return addSystemLine(state, conversation ?? state.selected ?? statusView, tone, text, time);
		}
	}
}
