import type {EnvelopeKind} from '../net/messages.js';

/**
 * What an accepted envelope has the client show: a text, or a receipt for texts it sent. It is
 * written in the same file update that spends the envelope's counter, so a client killed after
 * that update and before it showed the envelope still has it (the relay's copy is now a replay).
 */
export type AcceptedContent =
	| {type: 'text'; id: string; kind: EnvelopeKind; text: string; sent: number; time: number}
	| {type: 'receipt'; id: string; ids: string[]; time: number};

/** An AcceptedContent with the number of envelopes skipped before it (section 10; 0 for a late one). */
export type Accepted = AcceptedContent & {gap: number};

/** Which stored Accepted entry of one contact a settle() removes: the first one that matches. */
export type AcceptedKey = {type: Accepted['type']; id: string};

/** What became of what was accepted from one contact (see settle() and defer()). */
export type Settlement = {
	name: string;
	/** Inbox entries that were shown: forgotten. */
	shown: AcceptedKey[];
	/** Ids of texts shown whose receipt is owed to the pinned keys until it is sealed. */
	owe: string[];
	/** Owed receipt ids whose receipt is sealed and saved in the outbox: forgotten. */
	paid: string[];
};

/** One contact's part of the ledger: what waits to be shown, and the receipts owed for what was. */
export type ContactLedger = {
	/** Accepted from this contact and not known to be shown yet, oldest first. */
	inbox: Accepted[];
	/**
	 * Ids of texts from the pinned keys, shown, whose receipt is not sealed yet: until the end of
	 * the turn, or, while a key change is pending, until these keys are trusted again.
	 */
	owed: string[];
};

/**
 * Inbox entries kept per contact. The client marks each one shown in its next write, so only
 * repeated failures to write come near it; past it, receive() refuses the envelope, which then
 * stays unacknowledged on the relay.
 */
export const maxInboxEntries = 1024;
/**
 * Receipts owed per key pair (more than one turn of the event loop can show: a frame holds at most
 * 1,024 messages); the oldest are forgotten past it, and their senders just see no tick.
 */
export const maxOwedReceipts = 4096;

/** Applies settlements to `contacts` (unknown names are skipped); whether anything changed. */
export function applySettlements(contacts: ReadonlyMap<string, ContactLedger>, settlements: readonly Settlement[]): boolean {
	let changed = false;
	for (const {name, shown, owe, paid} of settlements) {
		const contact = contacts.get(name);
		if (contact === undefined) continue;
		for (const key of shown) {
			const index = contact.inbox.findIndex(entry => entry.type === key.type && entry.id === key.id);
			if (index === -1) continue;
			contact.inbox.splice(index, 1);
			changed = true;
		}
		const gone = new Set(paid);
		const owed = new Set(contact.owed.filter(id => !gone.has(id)));
		for (const id of owe) owed.add(id);
		const next = [...owed].slice(-maxOwedReceipts);
		if (next.length !== contact.owed.length || next.some((id, index) => id !== contact.owed[index])) {
			contact.owed = next;
			changed = true;
		}
	}
	return changed;
}

export function copySettlement(settlement: Settlement): Settlement {
	return {name: settlement.name, shown: settlement.shown.map(({type, id}) => ({type, id})), owe: [...settlement.owe], paid: [...settlement.paid]};
}

export function copyAccepted(entry: Accepted): Accepted {
	return entry.type === 'receipt' ? {...entry, ids: [...entry.ids]} : {...entry};
}
