import {allOffline} from './contacts.js';
import {addStatus} from './lines.js';
import {queueWaiting} from './sent-messages.js';
import type {ChatState} from './types.js';

/** The connection's ups and downs as the screen tells them: a drop, a reconnect, the end, a refused login. */

export function closed(state: ChatState, reason: NonNullable<ChatState['closed']>, time: number): ChatState {
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
export function reconnecting(state: ChatState, reconnect: {attempt: number; at: number; code: string; message: string}, time: number): ChatState {
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
