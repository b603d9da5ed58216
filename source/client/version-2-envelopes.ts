import {fromBase64Url} from '../crypto/base64url.js';
import {EnvelopeError, openEnvelope, type Party} from '../crypto/envelope.js';
import type {IdentityKeys, PublicIdentity} from '../crypto/identity.js';
import {parsePayload, payloadCounter} from '../net/e2e-payload.js';
import type {DeliveredEnvelope} from '../net/messages.js';
import type {Contact} from './contact-record.js';
import type {ContactStore} from './contact-store.js';
import type {Opened} from './end-to-end.js';
import type {AcceptedContent} from './inbox-ledger.js';

/** This account as the recipient of an envelope: its name and keys, with its X25519 secret. */
export type Recipient = Party & {x25519Secret: IdentityKeys['x25519']['privateKey']};

/**
 * A version 2 envelope (sealed to the static keys, before ratchet sessions) from a known contact:
 * opened under its pin, or held when it opens only under a pending change; its counter is spent
 * in the contact store with what it shows.
 */
export function openVersion2(envelope: DeliveredEnvelope, contact: Contact, me: Recipient, contacts: ContactStore): Opened {
	const {from} = envelope;
	const plaintext = tryOpen(me, envelope, contact.pinned);
	if (plaintext === undefined) {
		if (contact.pending && tryOpen(me, envelope, contact.pending) !== undefined) return {type: 'held', from};
		return {type: 'rejected', from, code: 'unauthenticated', reason: 'it did not authenticate (forged, or damaged in transit)'};
	}
	let payload;
	try {
		payload = parsePayload(plaintext);
		if (payload.type === 'reset') throw new Error('a session reset in a version 2 envelope');
		if (payload.type === 'room_key') throw new Error('a room key outside a room change');
	} catch (error) {
		return malformed(contacts, from, plaintext, (error as Error).message);
	}
	if (contact.staticBelow !== undefined && payload.counter >= contact.staticBelow) {
		return {type: 'rejected', from, code: 'old_scheme', reason: `${from} uses ratchet sessions now: a version 2 envelope sealed after the switch is refused`};
	}
	const content: AcceptedContent =
		payload.type === 'receipt'
			? {type: 'receipt', id: envelope.id, ids: payload.ids, time: envelope.time}
			: {type: 'text', id: envelope.id, kind: envelope.kind, text: payload.text, sent: payload.sent, time: envelope.time};
	// The counter and what the envelope shows are saved together: see ChatSession for why.
	const verdict = contacts.receive(from, payload.counter, content);
	if (verdict.verdict === 'replay') return replayed(from);
	const gap = verdict.verdict === 'new' ? verdict.gap : 0;
	if (payload.type === 'receipt') return {type: 'receipt', from, ids: payload.ids, gap};
	return {type: 'text', from, id: envelope.id, kind: envelope.kind, text: payload.text, sent: payload.sent, gap};
}

/**
 * An authenticated plaintext that is not a valid payload. Its counter, when it can be read, is
 * spent like a good one's (on disk, nothing to show), so the next envelope does not report it as
 * withheld; the counters it skipped are a gap all the same. A counter spent already is a replay.
 */
function malformed(contacts: ContactStore, from: string, plaintext: Buffer, reason: string): Opened {
	const counter = payloadCounter(plaintext);
	if (counter === undefined) return {type: 'rejected', from, code: 'malformed', reason};
	const verdict = contacts.receive(from, counter);
	if (verdict.verdict === 'replay') return replayed(from);
	return {type: 'rejected', from, code: 'malformed', reason, gap: verdict.verdict === 'new' ? verdict.gap : 0};
}

function replayed(from: string): Opened {
	return {type: 'rejected', from, code: 'replay', reason: 'it repeats a message already received'};
}

function tryOpen(me: Recipient, envelope: DeliveredEnvelope, keys: PublicIdentity): Buffer | undefined {
	try {
		return openEnvelope({
			recipient: me,
			sender: {name: envelope.from, identity: keys.identity, x25519: keys.x25519},
			id: envelope.id,
			kind: envelope.kind,
			// a ratchet envelope has none: it does not open here (the throw below)
			ephemeral: fromBase64Url(envelope.ephemeral ?? '', 32),
			body: envelope.body,
		});
	} catch (error) {
		if (error instanceof EnvelopeError || error instanceof TypeError) return undefined;
		throw error;
	}
}
