import {useEffect, useMemo, useReducer, useRef} from 'react';
import {chatReducer, createChatState, type ChatState, type SystemTone} from '../chat-state.js';
import type {ChatConnection, ClientEvents} from '../net/client-events.js';

/** PROTOCOL.md section 6: the relay refuses longer text, so do not send it. */
export const maxTextBytes = 8192;

export type ChatActions = {
	/** Sends text to the selected person; false (with a system line saying why) if it was not sent. */
	send(text: string): boolean;
	selectNext(): void;
	selectPrevious(): void;
	login(username: string): void;
	/** Answers relay-unknown. */
	trust(yes: boolean): void;
	/** Adds a local system line (command output, local errors). */
	note(text: string, tone?: SystemTone): void;
};

export type UseChatOptions = {
	/** Sent once, as soon as the relay asks for a username. */
	username?: string;
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

/** The chat over one ChatConnection: subscribes to its events for as long as the component lives. */
export function useChat(connection: ChatConnection, options: UseChatOptions = {}): {state: ChatState; actions: ChatActions} {
	const [state, dispatch] = useReducer(chatReducer, connection, createChatState);
	const stateRef = useRef(state);
	stateRef.current = state;
	const nowRef = useRef(options.now ?? Date.now);
	nowRef.current = options.now ?? Date.now;
	const autoLogin = useRef(options.username);
	const decideRef = useRef<((trust: boolean) => void) | undefined>(undefined);

	const actions = useMemo<ChatActions>(() => {
		const now = () => nowRef.current();
		const note = (text: string, tone: SystemTone = 'info') => {
			dispatch({type: 'local', tone, text, time: now()});
		};

		return {
			note,
			send(text) {
				const to = stateRef.current.selected;
				if (to === undefined) {
					note('Nobody is selected: press Up or Down to choose who to write to.', 'error');
					return false;
				}

				if (Buffer.byteLength(text, 'utf8') > maxTextBytes) {
					note(`Not sent: a message is at most ${maxTextBytes} bytes.`, 'error');
					return false;
				}

				try {
					const id = connection.send(to, text);
					dispatch({type: 'outgoing', id, to, text, time: now()});
					return true;
				} catch (error) {
					note(`Not sent: ${(error as Error).message}`, 'error');
					return false;
				}
			},
			selectNext() {
				dispatch({type: 'select-next'});
			},
			selectPrevious() {
				dispatch({type: 'select-previous'});
			},
			login(username) {
				try {
					connection.login(username);
					dispatch({type: 'login-sent', username});
				} catch (error) {
					note(`Could not log in: ${(error as Error).message}`, 'error');
				}
			},
			trust(yes) {
				const decide = decideRef.current;
				decideRef.current = undefined;
				dispatch({type: 'trust-decided', trust: yes});
				decide?.(yes);
			},
		};
	}, [connection]);

	useEffect(() => {
		const now = () => nowRef.current();
		dispatch({type: 'sync', status: connection.status, relay: connection.relay, username: connection.username});
		const unsubscribe = [
			listen(connection, 'status', status => dispatch({type: 'status', status})),
			listen(connection, 'relay-unknown', (relay, decide) => {
				decideRef.current = decide;
				dispatch({type: 'relay-unknown', relay});
			}),
			listen(connection, 'relay-changed', (relay, pinnedFingerprint) => dispatch({type: 'relay-changed', relay, pinnedFingerprint})),
			listen(connection, 'relay-trusted', relay => dispatch({type: 'relay-trusted', relay})),
			listen(connection, 'login-request', () => {
				dispatch({type: 'login-request'});
				const username = autoLogin.current;
				autoLogin.current = undefined;
				if (username !== undefined) actions.login(username);
			}),
			listen(connection, 'login-error', error => dispatch({type: 'login-error', error})),
			listen(connection, 'welcome', welcome => dispatch({type: 'welcome', welcome, time: now()})),
			listen(connection, 'user-joined', username => dispatch({type: 'user-joined', username, time: now()})),
			listen(connection, 'user-left', username => dispatch({type: 'user-left', username, time: now()})),
			listen(connection, 'message', message => dispatch({type: 'message', message})),
			listen(connection, 'sent', ack => dispatch({type: 'sent', ack})),
			listen(connection, 'relay-error', error => dispatch({type: 'relay-error', error, time: now()})),
			listen(connection, 'announcement', announcement => dispatch({type: 'announcement', announcement})),
			listen(connection, 'closed', reason => dispatch({type: 'closed', reason, time: now()})),
		];
		return () => {
			for (const off of unsubscribe) off();
		};
	}, [connection, actions]);

	return {state, actions};
}
