import {sameIdentity, type PublicIdentity} from '../crypto/identity.js';
import {copyAccepted, type ContactLedger} from './inbox-ledger.js';
import {newCounterState, type CounterState} from './receive-counter.js';

/** What this client knows of one contact (PROTOCOL.md sections 10 and 12). */
export type Contact = {
	/** The record messages are opened with and sent to. */
	pinned: PublicIdentity;
	/** A different record the relay served since, held until the user runs /trust. */
	pending?: PublicIdentity;
	verified: boolean;
	/** The counter the next envelope to this contact uses. */
	sendCounter: number;
	/** Replay and gap state of the envelopes from this contact under `pinned`, in the version 2 scheme. */
	receive: CounterState;
	/**
	 * Set when the first ratchet envelope from this contact is accepted (PROTOCOL.md section 14.6):
	 * from then on, a version 2 envelope is accepted only with a counter below it.
	 */
	staticBelow?: number;
};

/**
 * The counters of a record that was pinned before. Counters are per key pair (the envelope key
 * depends on both sides' keys), so re-trusting a record that was pinned earlier resumes its
 * counters instead of starting over, which would reopen replays of its old envelopes. The receipts
 * still owed to that key pair go with it: they are for texts its holder sent, and nobody else.
 */
export type RetiredPin = {identity: Buffer; x25519: Buffer; sendCounter: number; receiveNext: number; owed: string[]};

/** A contact as the contact store keeps it (one row of the contacts table). */
export type StoredContact = Contact & ContactLedger & {retired: RetiredPin[]};

/** Re-trusting a record retired longer ago than this many key changes starts its counters over. */
export const maxRetiredPins = 32;

/** A contact seen for the first time: `record` pinned, unverified, counting from 0 both ways. */
export function newContact(record: PublicIdentity): StoredContact {
	return {
		pinned: copyIdentity(record),
		verified: false,
		sendCounter: 0,
		receive: newCounterState(),
		retired: [],
		inbox: [],
		owed: [],
	};
}

/** Whether `contact` is still as newContact() made it: a pin and nothing else. */
export function isFirstSight(contact: StoredContact): boolean {
	return (
		contact.pending === undefined &&
		!contact.verified &&
		contact.sendCounter === 0 &&
		contact.receive.next === 0 &&
		contact.receive.missing.length === 0 &&
		contact.retired.length === 0 &&
		contact.inbox.length === 0 &&
		contact.owed.length === 0
	);
}

/**
 * Makes `pending` the pin, unverified. Counters and owed receipts belong to a key pair: new keys
 * count from 0 both ways, keys pinned before resume where they stopped (see RetiredPin).
 */
export function trustPending(contact: StoredContact, pending: PublicIdentity): void {
	if (!sameKeys(contact.pinned, pending)) {
		const retired = contact.retired.filter(entry => !sameKeys(entry, contact.pinned));
		retired.push({
			identity: contact.pinned.identity,
			x25519: contact.pinned.x25519,
			sendCounter: contact.sendCounter,
			// The skipped counters are not kept: late envelopes of a retired pin count as replays.
			receiveNext: contact.receive.next,
			// Never sent to other keys: their holder did not send those texts.
			owed: contact.owed,
		});
		const earlier = retired.find(entry => sameKeys(entry, pending));
		contact.retired = retired.filter(entry => entry !== earlier).slice(-maxRetiredPins);
		contact.sendCounter = earlier?.sendCounter ?? 0;
		contact.receive = earlier === undefined ? newCounterState() : {next: earlier.receiveNext, missing: []};
		contact.owed = earlier?.owed ?? [];
		// Another client: it switches to ratchet sessions on its own schedule.
		delete contact.staticBelow;
	}
	// Same keys under another binding signature: the same counter space, kept as it is.
	contact.pinned = pending;
	delete contact.pending;
	contact.verified = false;
}

function sameKeys(a: {identity: Buffer; x25519: Buffer}, b: {identity: Buffer; x25519: Buffer}): boolean {
	return sameIdentity({...a, binding: Buffer.alloc(0)}, {...b, binding: Buffer.alloc(0)});
}

export function copyIdentity(record: PublicIdentity): PublicIdentity {
	return {identity: Buffer.from(record.identity), x25519: Buffer.from(record.x25519), binding: Buffer.from(record.binding)};
}

/** The part of a stored contact callers see, copied so they cannot change the store's. */
export function publicCopy(contact: StoredContact): Contact {
	const copy: Contact = {
		pinned: copyIdentity(contact.pinned),
		verified: contact.verified,
		sendCounter: contact.sendCounter,
		receive: {next: contact.receive.next, missing: [...contact.receive.missing]},
	};
	if (contact.pending !== undefined) copy.pending = copyIdentity(contact.pending);
	if (contact.staticBelow !== undefined) copy.staticBelow = contact.staticBelow;
	return copy;
}

export function structuredCopy(contact: StoredContact): StoredContact {
	return {
		...publicCopy(contact),
		retired: contact.retired.map(entry => ({...entry, identity: Buffer.from(entry.identity), x25519: Buffer.from(entry.x25519), owed: [...entry.owed]})),
		inbox: contact.inbox.map(entry => copyAccepted(entry)),
		owed: [...contact.owed],
	};
}
