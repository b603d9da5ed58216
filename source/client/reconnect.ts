import type {ReconnectOptions} from './client-events.js';

/** 0.5 s, doubling to 30 s; the step starts over after every successful login (and at connect()). */
export const defaultReconnect: ReconnectOptions = {initialDelayMs: 500, maxDelayMs: 30_000, random: Math.random};

/**
 * Why a client tries again, logged in or not yet (a relay that is down when the client starts is
 * tried again the same way): the network or the relay went away or could not be reached (a relay
 * restart sends `shutdown` first, or nothing when it was killed), one side was too slow, the relay
 * was full (for everyone or for our address), or refused us for now: logging in again by itself
 * was throttled or found registration closed, or the directory is larger than this client takes
 * (directory_too_large: the relay may shrink it). A plaintext error before relay_hello is
 * unauthenticated (anyone holding the port can send one), so whatever code it claims it is trusted
 * for nothing but "not now": unverified_refusal. Anything else is final: the relay's key changed
 * or was not trusted (refused_relay), our name or identity was refused, a newer session of this
 * account took over (session_replaced, said inside the encrypted channel: trying again would throw
 * that one out in turn), one side broke the protocol, or the user quit.
 */
export const reconnectCodes: ReadonlySet<string> = new Set([
	'closed',
	'connection_lost',
	'connect_failed',
	'shutdown',
	'handshake_timeout',
	'idle_timeout',
	'login_timeout',
	'server_full',
	'too_many_connections',
	'unverified_refusal',
	'directory_too_large',
	'registration_closed',
	'login_throttled',
]);

/**
 * Milliseconds to wait before attempt `attempt` (1 for the first after a drop): a step of
 * initialDelayMs doubling up to maxDelayMs, of which a random half to all is taken, so that the
 * clients of a relay that restarts do not all come back in the same instant.
 */
export function reconnectDelay(attempt: number, {initialDelayMs, maxDelayMs, random}: ReconnectOptions): number {
	const step = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
	return Math.round(step * (0.5 + random() / 2));
}
