import {useEffect, useMemo, useRef, useSyncExternalStore} from 'react';
import {chatReducer, createChatState} from './chat-state/reducer.js';
import {everyone, statusView, type ChatAction, type ChatState, type ConversationKey, type SystemTone} from './chat-state/types.js';
import type {ChatConnection, ClientEvents, HistoryEntry} from '../client/client-events.js';
import type {KeptReader} from '../components/message-log/kept-source.js';
import {contactActions, type ContactActions} from './contact-actions.js';
import {loginActions, type LoginActions} from './login-actions.js';
import {lookupActions, type LookupActions} from './lookup-actions.js';
import {errorText} from './error-text.js';
import {isRoomKey} from './chat-state/room-keys.js';
import {roomActions, type RoomActions} from './room-actions.js';
import {listenToRooms, listRooms} from './rooms/room-events.js';

/** PROTOCOL.md section 10: a message's text is at most 8,192 bytes of UTF-8. */
export const maxTextBytes = 8192;

/** The history kept on this device, read through the connection; a read that fails reads nothing. */
export type KeptHistory = KeptReader & {
	search(words: string, limit?: number): HistoryEntry[];
};

/** Conversations read at login for the sidebar, at most (the most recent first). */
export const maxKeptConversations = 1000;

export type ChatActions = ContactActions & LookupActions & Omit<LoginActions, 'refused'> & Pick<RoomActions, 'room'> & {
	history: KeptHistory;
	/** Deletes conversation `key`'s kept messages from this device; they go from the screen, and a line says how many went. */
	forget(key: ConversationKey): void;
	/** Sends text to the selected conversation; false (with a system line saying why) if it was not sent. */
	send(text: string): boolean;
	selectNext(): void;
	selectPrevious(): void;
	select(key: ConversationKey): void;
	/** The next conversation with unread messages. */
	selectUnread(): void;
	/** The state as it is now, every action so far applied (a render may not have caught up yet). */
	snapshot(): ChatState;
	/** Answers relay-unknown. */
	trustRelay(yes: boolean): void;
	/** Adds a local system line (command output, a refusal): in the selected conversation, or the one named. */
	note(text: string, tone?: SystemTone, conversation?: ConversationKey): void;
};

export type UseChatOptions = {
	/**
	 * Sent as soon as the relay asks for a username, again if it asks again before a welcome (a drop),
	 * until it is refused. A name the person enters later is kept the same way.
	 */
	username?: string;
	/** A passphrase was given (--passphrase-file, IM_TUI_PASSPHRASE): none is asked for unless it is wrong. */
	passphraseGiven?: boolean;
	now?: () => number;
};

function listen<E extends keyof ClientEvents>(
	connection: ChatConnection,
	event: E,
	listener: (...args: ClientEvents[E]) => void,
): () => void {
	connection.on(event, listener);
	return () => {
		connection.off(event, listener);
	};
}

function reading<A extends unknown[], T>(read: (...args: A) => T[]): (...args: A) => T[] {
	return (...args) => {
		try {
			return read(...args);
		} catch {
			return [];
		}
	};
}

/** The conversations kept on this device as this run logs in, each with its newest history seq. */
function keptAtLogin(connection: ChatConnection, me: string): Array<[ConversationKey, number]> {
	try {
		const kept = connection.historyConversations().filter(({conversation}) => conversation !== me);
		return kept.slice(0, maxKeptConversations).map(({conversation, newest}) => [conversation, newest]);
	} catch {
		return [];
	}
}

type ChatStore = {getState: () => ChatState; dispatch: (action: ChatAction) => void; subscribe: (listener: () => void) => () => void};

/**
 * The chat state outside React, so that every action sees the one before it at once: a burst of
 * keys (Down, then a message, then Enter) arrives before React renders.
 */
function createChatStore(connection: ChatConnection): ChatStore {
	let state = createChatState(connection);
	const listeners = new Set<() => void>();
	return {
		getState: () => state,
		dispatch(action) {
			const next = chatReducer(state, action);
			if (next === state) return;
			state = next;
			for (const listener of [...listeners]) listener();
		},
		subscribe(listener) {
			listeners.add(listener);
			return () => {
				listeners.delete(listener);
			};
		},
	};
}

/** The chat over one ChatConnection: subscribes to its events for as long as the component lives. */
export function useChat(connection: ChatConnection, options: UseChatOptions = {}): {state: ChatState; actions: ChatActions} {
	const store = useMemo(() => createChatStore(connection), [connection]);
	const state = useSyncExternalStore(store.subscribe, store.getState);
	const {dispatch, getState} = store;
	const nowRef = useRef(options.now ?? Date.now);
	nowRef.current = options.now ?? Date.now;
	const autoLogin = useRef(options.username);
	const decideRef = useRef<((trust: boolean) => void) | undefined>(undefined);
	const passphraseGiven = useRef(options.passphraseGiven ?? false);
	passphraseGiven.current = options.passphraseGiven ?? false;
	const logins = useRef<LoginActions | undefined>(undefined);

	const actions = useMemo<ChatActions>(() => {
		const now = () => nowRef.current();
		const note = (text: string, tone: SystemTone = 'info', conversation?: ConversationKey) => {
			dispatch({type: 'local', tone, text, time: now(), ...(conversation === undefined ? {} : {conversation})});
		};

		const contacts = contactActions({connection, state: getState, dispatch, now});

		const sendToEveryone = (text: string): boolean => {
			const {id, recipients} = connection.sendToEveryone(text);
			if (recipients.length === 0) {
				note('Not sent: nobody else is online (messages to everyone go only to people online).', 'error');
				return false;
			}

			dispatch({type: 'outgoing', id, to: everyone, recipients, text, time: now()});
			const skipped = [...getState().contacts.values()].filter(contact => contact.online && !recipients.includes(contact.username));
			for (const contact of skipped) {
				const why = contact.keyChanged ? `${contact.username}'s identity key changed (/verify ${contact.username}, then /trust ${contact.username})` : 'the client did not send a copy';
				dispatch({type: 'local', tone: 'error', text: `Not sent to ${contact.username}: ${why}.`, time: now(), conversation: everyone});
			}

			return true;
		};

		const sendTo = (to: string, text: string): boolean => {
			if (Buffer.byteLength(text, 'utf8') > maxTextBytes) {
				note(`Not sent: a message is at most ${maxTextBytes} bytes.`, 'error');
				return false;
			}

			const contact = getState().contacts.get(to);
			if (contact?.keyChanged) {
				const text = `Not sent: ${to}'s identity key changed. Compare safety numbers with /verify ${to}, then /trust ${to} to accept the new key.`;
				dispatch({type: 'local', tone: 'error', text, time: now(), conversation: to});
				return false;
			}

			try {
				if (to === everyone) return sendToEveryone(text);
				const id = connection.send(to, text);
				dispatch({type: 'outgoing', id, to, recipients: [to], text, time: now()});
				return true;
			} catch (error) {
				note(`Not sent: ${errorText(error)}`, 'error');
				return false;
			}
		};

		const lookups = lookupActions({connection, state: getState, dispatch, now, sendTo});
		const rooms = roomActions({connection, state: getState, dispatch, now});
		const login = loginActions({connection, dispatch, note, autoLogin, passphraseGiven: () => passphraseGiven.current});
		logins.current = login;

		const history: KeptHistory = {
			history: reading((conversation: string, options: {before?: number; limit: number}) => connection.history(conversation, options)),
			historyFrom: reading((conversation: string, seq: number, limit: number) => connection.historyFrom(conversation, seq, limit)),
			search: reading((words: string, limit?: number) => connection.search(words, limit)),
		};

		return {
			...contacts,
			...lookups,
			...login,
			note,
			history,
			room: rooms.room,
			forget(key) {
				try {
					const count = connection.forget(key);
					dispatch({type: 'forgotten', key, count, time: now()});
				} catch (error) {
					note(`Could not delete the messages kept of ${key}: ${errorText(error)}`, 'error');
				}
			},
			send(text) {
				const to = getState().selected;
				if (to === undefined || to === statusView) {
					note(`${to === undefined ? 'Nobody is selected' : 'This is the status view, not a conversation'}: press Up or Down to choose who to write to.`, 'error');
					return false;
				}

				if (isRoomKey(to)) return rooms.sendToRoom(to, text);
				// Someone shown online who is not a contact yet: looked up first, then sent to.
				if (to !== everyone && !getState().contacts.has(to)) {
					lookups.openConversation(to, text);
					return true;
				}

				return sendTo(to, text);
			},
			selectNext() {
				dispatch({type: 'select-next'});
			},
			selectPrevious() {
				dispatch({type: 'select-previous'});
			},
			select(key) {
				dispatch({type: 'select', key});
			},
			selectUnread() {
				dispatch({type: 'select-unread'});
			},
			snapshot: getState,
			trustRelay(yes) {
				const decide = decideRef.current;
				decideRef.current = undefined;
				dispatch({type: 'trust-decided', trust: yes});
				decide?.(yes);
			},
		};
	}, [connection, getState, dispatch]);

	useEffect(() => {
		const now = () => nowRef.current();
		const on = <E extends keyof ClientEvents>(event: E, toAction: (...args: ClientEvents[E]) => ChatAction) =>
			listen(connection, event, (...args) => {
				dispatch(toAction(...args));
			});
		dispatch({type: 'sync', status: connection.status, relay: connection.relay, username: connection.username});
		const unsubscribe = [
			on('status', status => ({type: 'status', status})),
			listen(connection, 'relay-unknown', (relay, decide) => {
				decideRef.current = decide;
				dispatch({type: 'relay-unknown', relay});
			}),
			on('relay-changed', (relay, pinnedFingerprint) => ({type: 'relay-changed', relay, pinnedFingerprint})),
			on('relay-trusted', relay => ({type: 'relay-trusted', relay})),
			listen(connection, 'login-request', () => {
				dispatch({type: 'login-request'});
				// Asked again after a drop before the first welcome: the same name again.
				const username = autoLogin.current;
				if (username !== undefined) actions.login(username);
			}),
			listen(connection, 'login-error', error => {
				// Refused: the person chooses a name now (or types the passphrase again).
				logins.current?.refused(error.code);
				dispatch({type: 'login-error', error});
			}),
			listen(connection, 'welcome', welcome => {
				autoLogin.current = undefined;
				if (!getState().keptLoaded) dispatch({type: 'kept', kept: keptAtLogin(connection, welcome.username)});
				dispatch({type: 'welcome', welcome, time: now()});
				listRooms(connection, dispatch, now);
			}),
			listen(connection, 'found', found => {
				dispatch({type: 'found', found, time: now()});
				actions.found(found);
			}),
			listen(connection, 'lookup-failed', failure => {
				dispatch({type: 'lookup-failed', failure, time: now()});
				actions.lookupFailed(failure);
			}),
			on('online', online => ({type: 'online', online, time: now()})),
			on('user-joined', contact => ({type: 'user-joined', contact, time: now()})),
			on('user-left', username => ({type: 'user-left', username, time: now()})),
			on('contact-updated', contact => ({type: 'contact-updated', contact, time: now()})),
			on('message', message => ({type: 'message', message})),
			on('accepted', ack => ({type: 'accepted', ack})),
			on('delivered', receipt => ({type: 'delivered', receipt})),
			on('gap', gap => ({type: 'gap', gap, time: now()})),
			on('rejected', rejection => ({type: 'rejected', rejection, time: now()})),
			on('held', held => ({type: 'held', held, time: now()})),
			on('session-reset', reset => ({type: 'session-reset', reset, time: now()})),
			on('relay-error', error => ({type: 'relay-error', error, time: now()})),
			on('local-error', error => ({type: 'local-error', error, time: now()})),
			on('announcement', announcement => ({type: 'announcement', announcement})),
			on('reconnecting', reconnect => ({type: 'reconnecting', reconnect, time: now()})),
			on('unsent', unsent => ({type: 'unsent', unsent, time: now()})),
			on('closed', reason => ({type: 'closed', reason, time: now()})),
			listenToRooms(connection, dispatch, now),
		];
		return () => {
			for (const off of unsubscribe) off();
		};
	}, [connection, actions, dispatch, getState]);

	return {state, actions};
}
