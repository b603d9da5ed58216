import type {Party} from '../../source/crypto/envelope.js';
import {toBase64Url} from '../../source/crypto/base64url.js';
import type {RatchetSessions} from '../../source/client/ratchet/ratchet-sessions.js';
import type {DeliveredEnvelope, EnvelopeKind} from '../../source/net/messages.js';
import {bundle, delivered, type RatchetUser} from '../helpers/ratchet-pair.js';

/** The attacker's own RatchetSessions (a hostile peer runs whatever code it likes). */
export function sessionsOf(user: RatchetUser): RatchetSessions {
	return (user.e2e as unknown as {ratchet: {sessions: RatchetSessions}}).ratchet.sessions;
}

export function partyOf(user: RatchetUser, name: string): Party {
	return (user.e2e as unknown as {peer(name: string): Party}).peer(name);
}

/** `from` seals arbitrary payload bytes to `to` in its active session (a new one from `to`'s bundle when `fresh` or none). */
export function craft(from: RatchetUser, to: RatchetUser, payload: (counter: number) => Buffer | object, options: {fresh?: boolean; id?: string; kind?: EnvelopeKind; oneTime?: boolean} = {}): DeliveredEnvelope {
	const sessions = sessionsOf(from);
	const peer = partyOf(from, to.name);
	if (options.fresh || !sessions.hasSession(to.name)) sessions.start(peer, bundle(to, options.oneTime ?? false));
	const id = options.id ?? `x${Math.random().toString(36).slice(2, 12)}`;
	const sealed = sessions.seal(peer, options.kind ?? 'direct', id, counter => {
		const value = payload(counter);
		return Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value));
	})!;
	return delivered(from.name, {id, to: to.name, kind: options.kind ?? 'direct', ratchet: toBase64Url(sealed.ratchet), body: sealed.body});
}
