import type {Contact, WelcomeInfo} from '../../client/client-events.js';
import {isValidUsername} from '../../net/usernames.js';
import {sanitizeLines} from '../../sanitize.js';
import {hasConversation, select} from './conversations.js';
import {addStatus, addSystemLine, markUnread} from './lines.js';
import {everyone, statusView, type ChatState} from './types.js';

/** Who is there: the welcome, contacts' state and presence. */

export function welcome(state: ChatState, welcome: WelcomeInfo, time: number): ChatState {
	const me = welcome.username;
	let next: ChatState = {
		...state,
		me,
		closed: undefined,
		reconnect: undefined,
		login: {requested: false, pending: undefined, error: undefined},
		notice: undefined,
		who: whoView(welcome.online, welcome.onlineCount, me),
	};
	// One copy of the contacts for the whole directory, not one per user: thousands of users would
	// make that quadratic (10,000 took 9 s).
	const updated = new Map(next.contacts);
	for (const contact of welcome.users) {
		if (isValidUsername(contact.username) && contact.username !== me) next = updateContact(next, contact, time, updated);
	}

	const online = [...next.contacts.values()].filter(contact => contact.online).map(contact => contact.username).sort(byName);
	const news = `${othersOnline(welcome.onlineCount)}; ${waitingText(welcome.waiting)}`;
	if (welcome.reconnected) return addStatus(next, 'info', `Back online. ${news}.`, time);
	next = addStatus(next, 'info', `Logged in as ${me}. ${news}. Type /help for help.`, time);
	const motd = sanitizeLines(welcome.motd ?? '');
	for (const line of motd) next = addStatus(next, 'announcement', line, time);
	if (motd.length > 0) next = markUnread(next, statusView);
	// The conversation kept from before that was the most recent opens first, as it was left.
	const recent = [...next.kept.keys()][0];
	return next.selected === undefined ? select(next, recent ?? online[0] ?? everyone) : next;
}

/**
 * Records a contact's new state and says in its conversation what changed that matters. `contacts`:
 * a copy of state.contacts that the caller owns and this may change, for many updates in a row.
 */
export function updateContact(state: ChatState, contact: Contact, time: number, contacts = new Map(state.contacts)): ChatState {
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
export function presence(state: ChatState, name: string, tone: 'join' | 'leave', time: number): ChatState {
	const text = tone === 'join' ? `${name} joined` : `${name} left`;
	return hasConversation(state, name) ? addSystemLine(state, name, tone, text, time) : addStatus(state, tone, text, time);
}

export function allOffline(state: ChatState): ChatState {
	return {...state, contacts: new Map([...state.contacts].map(([name, contact]) => [name, {...contact, online: false}]))};
}

/** The who-is-online view as kept: valid names, not me, no repeats, at most maxWhoShown. */
export function whoView(names: readonly string[], total: number, me: string | undefined): ChatState['who'] {
	const kept = [...new Set(names.filter(name => isValidUsername(name) && name !== me))].slice(0, maxWhoShown);
	return {names: kept, total: Number.isSafeInteger(total) && total >= 0 ? total : 0};
}

/** The most names of the who-is-online view shown (the client keeps at most as many). */
export const maxWhoShown = 100;

/** `onlineCount` counts me. */
function othersOnline(onlineCount: number): string {
	const others = Math.max(0, (Number.isSafeInteger(onlineCount) ? onlineCount : 0) - 1);
	return others === 1 ? '1 other person is online' : `${others} other people are online`;
}

function waitingText(waiting: number): string {
	if (!Number.isSafeInteger(waiting) || waiting <= 0) return 'no messages were waiting for you';
	return waiting === 1 ? '1 message was waiting for you' : `${waiting} messages were waiting for you`;
}

function byName(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

