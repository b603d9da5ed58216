import type {NumberedEnvelope} from './relay-store.js';

/**
 * Envelopes handed to a recipient who was online and caught up, before any disk write, that the
 * recipient has not acknowledged yet. Each one leaves by exactly one way: the recipient acks it
 * (it never touches the disk), or it is committed to the queue because the recipient went away or
 * took too long. Only then does its sender hear `accepted`.
 */
export class ForwardedEnvelopes {
	/** Insertion order is round order (takeOverdue). */
	private readonly byDelivery = new Map<number, Entry>();
	/**
	 * Recipient -> message id -> entry, then a chain of entries from other senders with the same id
	 * for the same recipient (rare: ids are random). No key string is built per message, and a
	 * recipient with nothing here (most who leave) has no map at all.
	 */
	private readonly byRecipient = new Map<string, Map<string, Entry>>();
	private round = 0;

	get size(): number {
		return this.byDelivery.size;
	}

	add(envelope: NumberedEnvelope): void {
		let ids = this.byRecipient.get(envelope.to);
		if (ids === undefined) {
			ids = new Map();
			this.byRecipient.set(envelope.to, ids);
		}
		const entry: Entry = {envelope, round: this.round, sameId: ids.get(envelope.id)};
		this.byDelivery.set(envelope.delivery, entry);
		ids.set(envelope.id, entry);
	}

	/** Whether a copy with this sender, id and recipient is waiting here (the envelope is a resend). */
	holds(from: string, id: string, to: string): boolean {
		for (let entry = this.byRecipient.get(to)?.get(id); entry !== undefined; entry = entry.sameId) {
			if (entry.envelope.from === from) return true;
		}
		return false;
	}

	/** The envelope `delivery`, if it waits here for `recipient`; it leaves. */
	take(recipient: string, delivery: number): NumberedEnvelope | undefined {
		const entry = this.byDelivery.get(delivery);
		if (entry === undefined || entry.envelope.to !== recipient) return undefined;
		this.remove(entry);
		return entry.envelope;
	}

	/** Every envelope waiting for `recipient`, oldest first; they leave. */
	takeFor(recipient: string): NumberedEnvelope[] {
		const ids = this.byRecipient.get(recipient);
		if (ids === undefined) return [];
		const entries: Entry[] = [];
		for (const head of ids.values()) {
			for (let entry: Entry | undefined = head; entry !== undefined; entry = entry.sameId) entries.push(entry);
		}
		entries.sort((a, b) => a.envelope.delivery - b.envelope.delivery);
		return this.removeAll(entries);
	}

	/**
	 * Everything added before the previous call, oldest first; they leave. Called on a timer, so an
	 * envelope waits at least one period and less than two.
	 */
	takeOverdue(): NumberedEnvelope[] {
		const before = this.round++;
		const taken: Entry[] = [];
		for (const entry of this.byDelivery.values()) {
			if (entry.round >= before) break;
			taken.push(entry);
		}
		return this.removeAll(taken);
	}

	takeAll(): NumberedEnvelope[] {
		return this.removeAll([...this.byDelivery.values()]);
	}

	forEach(visit: (envelope: NumberedEnvelope) => void): void {
		for (const {envelope} of this.byDelivery.values()) visit(envelope);
	}

	private removeAll(entries: Entry[]): NumberedEnvelope[] {
		for (const entry of entries) this.remove(entry);
		return entries.map(entry => entry.envelope);
	}

	private remove(entry: Entry): void {
		const {delivery, to, id} = entry.envelope;
		this.byDelivery.delete(delivery);
		const ids = this.byRecipient.get(to)!;
		const head = ids.get(id);
		if (head === entry) {
			if (entry.sameId === undefined) ids.delete(id);
			else ids.set(id, entry.sameId);
		} else {
			let before = head;
			while (before !== undefined && before.sameId !== entry) before = before.sameId;
			if (before !== undefined) before.sameId = entry.sameId;
		}
		if (ids.size === 0) this.byRecipient.delete(to);
	}
}

type Entry = {envelope: NumberedEnvelope; round: number; sameId: Entry | undefined};
