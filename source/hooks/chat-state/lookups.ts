import type {ClientEvents} from '../../client/client-events.js';
import {isValidUsername} from '../../net/usernames.js';
import {updateContact, whoView} from './contacts.js';
import {addStatus} from './lines.js';
import type {ChatState} from './types.js';

/** What lookups and the who-is-online view change in the chat (the person's own lookups are answered by lookup-actions.ts). */

/** The users a lookup found become contacts; what it was for is for the caller that asked. */
export function found(state: ChatState, {users}: ClientEvents['found'][0], time: number): ChatState {
	const contacts = new Map(state.contacts);
	let next = state;
	for (const contact of users) {
		if (isValidUsername(contact.username) && contact.username !== state.me) next = updateContact(next, contact, time, contacts);
	}
	return next;
}

/** Only the carry-over is said here: a lookup the person made is answered where they made it. */
export function lookupFailed(state: ChatState, {names, reason, message}: ClientEvents['lookup-failed'][0], time: number): ChatState {
	if (reason !== 'carry-over') return state;
	const who = names.length === 1 ? '1 person' : `${names.length} people`;
	return addStatus(state, 'error', `Could not look up ${who} you knew before on this relay: ${message}`, time);
}

/** A new who-is-online view; when the person asked (/who), it is also listed in the status view. */
export function whoOnline(state: ChatState, {names, total, asked}: ClientEvents['online'][0], time: number): ChatState {
	const who = whoView(names, total, state.me);
	const next = {...state, who};
	if (!asked) return next;
	return addStatus(next, 'info', whoText(who), time);
}

export function whoText({names, total}: ChatState['who']): string {
	const count = total === 1 ? '1 person is online' : `${total} people are online`;
	if (names.length === 0) return `${count}, you included; the relay lists nobody else.`;
	return `${count}, you included. Logged in last: ${names.join(', ')}.`;
}
