import type {Dispatch} from 'react';
import {statusView, type ChatAction, type ChatState, type SystemTone} from './chat-state/types.js';
import {whoText} from './chat-state/lookups.js';
import type {ChatConnection, ClientEvents} from '../client/client-events.js';
import {checkUsername} from '../net/usernames.js';
import {errorText} from './error-text.js';

export type LookupActions = {
	/**
	 * Opens the conversation with `name` (/msg, the sidebar search, a message to someone shown
	 * online): at once for a contact, after a lookup for anyone else. `text` is sent once the
	 * person's record is pinned. Every refusal is a system line.
	 */
	openConversation(name: string, text?: string): void;
	/** /who: asks the relay again; the answer is listed in the status view. */
	who(): void;
	/** The connection's 'found' and 'lookup-failed', after the reducer has taken them. */
	found(found: ClientEvents['found'][0]): void;
	lookupFailed(failure: ClientEvents['lookup-failed'][0]): void;
};

type Context = {
	connection: ChatConnection;
	state: () => ChatState;
	dispatch: Dispatch<ChatAction>;
	now: () => number;
	/** Sends text to a contact, as Enter does (false, with a line saying why, when it was not sent). */
	sendTo: (to: string, text: string) => boolean;
};

/** Conversations waiting for a lookup at once; more is refused with a line, not queued. */
export const maxPendingOpens = 16;

/** A lookup unanswered this long (a session gone, a relay that never answers) no longer holds a place. */
export const pendingOpenExpiryMs = 60_000;

export function nobodyText(name: string): string {
	return `Nobody is registered as ${name} on this relay.`;
}

/** /msg, /who and the search's lookups over the connection. */
export function lookupActions({connection, state, dispatch, now, sendTo}: Context): LookupActions {
	const note = (text: string, tone: SystemTone = 'info', conversation?: string) => {
		dispatch({type: 'local', tone, text, time: now(), ...(conversation === undefined ? {} : {conversation})});
	};

	/** Lookup id → the conversation to open and the text to send once found. */
	const pending = new Map<string, {name: string; text: string | undefined; since: number}>();
	const forgetStale = () => {
		for (const [id, asked] of pending) if (now() - asked.since >= pendingOpenExpiryMs) pending.delete(id);
	};

	const open = (name: string, text: string | undefined) => {
		dispatch({type: 'select', key: name});
		if (text !== undefined) sendTo(name, text);
	};

	return {
		openConversation(raw, text) {
			const check = checkUsername(raw);
			if (!check.ok) {
				note(check.code === 'reserved_username' ? nobodyText(raw.toLowerCase()) : `"${raw}" is not a username (1 to 32 of a-z, 0-9, _ and -).`, 'error');
				return;
			}

			const name = check.username;
			const {me, contacts} = state();
			if (name === me) {
				note(`${name} is you: choose someone else to write to.`, 'error');
				return;
			}

			if (contacts.has(name)) {
				open(name, text);
				return;
			}

			if (pending.size >= maxPendingOpens) forgetStale();
			if (pending.size >= maxPendingOpens) {
				note(`${pending.size} people are being looked up already; try again once they are found.`, 'error');
				return;
			}

			try {
				const [id] = connection.lookup([name]);
				if (id !== undefined) pending.set(id, {name, text, since: now()});
				note(`Looking up ${name} on the relay…`);
			} catch (error) {
				note(`Could not look up ${name}: ${errorText(error)}`, 'error');
			}
		},
		who() {
			dispatch({type: 'select', key: statusView});
			if (state().status === 'online') {
				connection.who();
				return;
			}

			note(`You are offline. Last heard: ${whoText(state().who)}`, 'info', statusView);
		},
		found({id, users, missing}) {
			const asked = pending.get(id);
			if (asked === undefined) return;
			pending.delete(id);
			const {name, text} = asked;
			if (users.some(user => user.username === name)) open(name, text);
			else if (missing.includes(name)) note(nobodyText(name) + (text === undefined ? '' : ' Your message was not sent.'), 'error');
			else note(`The identity the relay served for ${name} was rejected; nothing was sent.`, 'error');
		},
		lookupFailed({id, code, message}) {
			const asked = pending.get(id);
			if (asked === undefined) return;
			pending.delete(id);
			const {name, text} = asked;
			const unsent = text === undefined ? '' : ' Your message was not sent.';
			if (code === 'invalid_username') note(`The relay does not take "${name}" as a username.${unsent}`, 'error');
			else if (code === 'lookup_throttled') note(`Could not look up ${name} now, you looked up too many people: ${message}${unsent}`, 'error');
			else note(`Could not look up ${name}: ${message} (${code}).${unsent}`, 'error');
		},
	};
}
