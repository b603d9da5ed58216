import {maxAckDeliveries} from '../net/messages.js';
import type {EndToEnd} from './end-to-end.js';
import type {Settlement} from './inbox-ledger.js';
import type {Outbox} from './outbox.js';

/** The receipts a session owes: for whom, and how they are sealed, saved and marked paid. */
export class OwedReceipts {
	/** Contacts whose owed receipts (contact store) go out at the next flush, unless their key changed. */
	private readonly owedToPay = new Set<string>();

	constructor(
		private readonly e2e: EndToEnd,
		private readonly outbox: Outbox,
		/** The contact store or the outbox failed. */
		private readonly localError: (what: string, error: unknown) => void,
		/** There is no session with `name` yet: its receipts wait for one. */
		private readonly needSession: (name: string) => void,
	) {}

	/** `name` is owed receipts (see the contact store): they go out at the next settle(). */
	add(name: string): void {
		this.owedToPay.add(name);
	}

	/**
	 * Seals the receipts owed (for what was shown, and earlier ones), saves them in the outbox, then
	 * marks them paid in the contact store, in one update that also carries what is still deferred.
	 * A contact whose key changed gets no receipt: its ids stay owed to the pinned keys. What fails
	 * is tried again later.
	 */
	settle(): boolean {
		const settlements: Settlement[] = [];
		let failed = false;
		for (const name of this.owedToPay) {
			try {
				if (this.e2e.hasChangedKey(name)) {
					this.owedToPay.delete(name);
					continue;
				}
				const owed = this.e2e.owedReceipts(name);
				if (owed.length > 0 && !this.e2e.hasSession(name)) {
					this.owedToPay.delete(name);
					this.needSession(name);
					continue;
				}
				this.sendReceipts(name, owed);
				settlements.push({name, shown: [], owe: [], paid: owed});
			} catch (error) {
				this.localError(`could not send receipts to ${name}`, error);
				failed = true;
			}
		}
		// The receipts are saved before they are marked paid; unsaved, they stay owed (a receipt sent twice is harmless).
		const saved = this.outbox.flush();
		if (!saved) this.localError('could not save the receipts it sends', new Error('the outbox could not be saved'));
		try {
			this.e2e.settle(saved ? settlements : settlements.map(settlement => ({...settlement, paid: []})));
		} catch (error) {
			this.localError('could not save which messages were shown', error);
			return false;
		}
		if (saved) for (const {name} of settlements) this.owedToPay.delete(name);
		return saved && !failed;
	}

	/** Seals receipts for `ids`, at most maxAckDeliveries each; a full outbox drops the rest. */
	private sendReceipts(to: string, ids: readonly string[]): void {
		for (let start = 0; start < ids.length; start += maxAckDeliveries) {
			// A full outbox drops the receipt before it spends a counter: the sender just sees no tick.
			if (!this.outbox.hasRoom(1)) return;
			const receipt = this.e2e.receipt(to, ids.slice(start, start + maxAckDeliveries));
			if (receipt !== undefined) this.outbox.add(receipt, true);
		}
	}
}
