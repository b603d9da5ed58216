import type {NumberedEnvelope} from './relay-store.js';

/**
 * Envelopes handed to a recipient who was online and caught up, before any disk write, that the
 * recipient has not acknowledged yet. Each one leaves by exactly one way: the recipient acks it
 * (it never touches the disk), or it is committed to the queue because the recipient went away or
 * took too long. Only then does its sender hear `accepted`.
 */
export class ForwardedEnvelopes {
	private readonly byDelivery = new Map<number, Entry>();
	private readonly deliveryByResendKey = new Map<string, number>();
	/** So that a recipient with nothing here (most who leave) costs no scan. */
	private readonly countByRecipient = new Map<string, number>();
	private round = 0;

	get size(): number {
		return this.byDelivery.size;
	}

	add(envelope: NumberedEnvelope): void {
		const key = resendKey(envelope);
		this.byDelivery.set(envelope.delivery, {envelope, round: this.round, key});
		this.deliveryByResendKey.set(key, envelope.delivery);
		this.countByRecipient.set(envelope.to, (this.countByRecipient.get(envelope.to) ?? 0) + 1);
	}

	/** Whether a copy with this sender, id and recipient is waiting here (the envelope is a resend). */
	holds(from: string, id: string, to: string): boolean {
		return this.deliveryByResendKey.has(resendKey({from, id, to}));
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
		if (!this.countByRecipient.has(recipient)) return [];
		return this.takeWhere(entry => entry.envelope.to === recipient);
	}

	/**
	 * Everything added before the previous call, oldest first; they leave. Called on a timer, so an
	 * envelope waits at least one period and less than two.
	 */
	takeOverdue(): NumberedEnvelope[] {
		const before = this.round++;
		const taken: Entry[] = [];
		// Insertion order is round order: the overdue ones are at the front.
		for (const entry of this.byDelivery.values()) {
			if (entry.round >= before) break;
			taken.push(entry);
		}
		return this.removeAll(taken);
	}

	takeAll(): NumberedEnvelope[] {
		return this.takeWhere(() => true);
	}

	/** Adds how many envelopes wait here for each recipient to `counts`. */
	addCountsTo(counts: Map<string, number>): void {
		for (const {envelope} of this.byDelivery.values()) counts.set(envelope.to, (counts.get(envelope.to) ?? 0) + 1);
	}

	private takeWhere(wanted: (entry: Entry) => boolean): NumberedEnvelope[] {
		return this.removeAll([...this.byDelivery.values()].filter(entry => wanted(entry)));
	}

	private removeAll(entries: Entry[]): NumberedEnvelope[] {
		for (const entry of entries) this.remove(entry);
		return entries.map(entry => entry.envelope);
	}

	private remove(entry: Entry): void {
		this.byDelivery.delete(entry.envelope.delivery);
		this.deliveryByResendKey.delete(entry.key);
		const left = (this.countByRecipient.get(entry.envelope.to) ?? 1) - 1;
		if (left > 0) this.countByRecipient.set(entry.envelope.to, left);
		else this.countByRecipient.delete(entry.envelope.to);
	}
}

type Entry = {envelope: NumberedEnvelope; round: number; key: string};

function resendKey(envelope: Pick<NumberedEnvelope, 'from' | 'id' | 'to'>): string {
	return `${envelope.from}\n${envelope.id}\n${envelope.to}`;
}
