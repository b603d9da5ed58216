import type {Envelope} from '../net/messages.js';

/**
 * Envelopes sealed but not yet taken by the relay, oldest first (PROTOCOL.md section 11). Each is
 * sent again, byte for byte, on every connection until the relay answers for it: a resent
 * envelope keeps its id and its counter, so the relay drops it as a resend while it is queued and
 * the recipient drops it as a replay once it was read. No sockets, no files: the client says what
 * went out and what came back; `persist` is told what changed, once per turn of the event loop.
 */
export type OutboxLimits = {
	/** Envelopes held at most; sending more is refused before a counter is spent on them. */
	maxOutboxMessages: number;
	/** Bytes of envelope bodies held at most (one more message may pass it). */
	maxOutboxBytes: number;
};

export const defaultOutboxLimits: OutboxLimits = {maxOutboxMessages: 1000, maxOutboxBytes: 4 * 1024 * 1024};

/** What changed since the last call: envelopes to keep, and the keys (outboxKey) of those to forget. */
export type OutboxChanges = {added: Envelope[]; removed: string[]};

type Entry = {envelope: Envelope; bytes: number; sent: boolean};

/** One envelope per id and recipient (the copies of a message to everyone share the id). */
export function outboxKey(envelope: Pick<Envelope, 'id' | 'to'>): string {
	return `${envelope.id} ${envelope.to}`;
}

export class Outbox {
	#entries: Entry[] = [];
	#bytes = 0;
	#inFlight = 0;
	#added: Envelope[] = [];
	#removed: string[] = [];
	#scheduled = false;

	constructor(
		private readonly limits: OutboxLimits,
		private readonly persist: (changes: OutboxChanges) => void = () => {},
		initial: readonly Envelope[] = [],
	) {
		for (const envelope of initial) this.#push(envelope);
	}

	get size(): number {
		return this.#entries.length;
	}

	/** Envelopes sent on this connection and not answered yet. */
	get inFlight(): number {
		return this.#inFlight;
	}

	envelopes(): Envelope[] {
		return this.#entries.map(entry => entry.envelope);
	}

	/** Whether `count` more envelopes may be sealed now: checked before a counter is spent on them. */
	hasRoom(count: number): boolean {
		return this.#entries.length + count <= this.limits.maxOutboxMessages && this.#bytes < this.limits.maxOutboxBytes;
	}

	/** How many more envelopes may be sealed now. */
	room(): number {
		return this.#bytes < this.limits.maxOutboxBytes ? Math.max(0, this.limits.maxOutboxMessages - this.#entries.length) : 0;
	}

	/** `saved`: already on disk, written in the transaction that sealed it; only its removal is persisted. */
	add(envelope: Envelope, saved = false): void {
		this.#push(envelope);
		if (saved) return;
		this.#added.push(envelope);
		this.#schedule();
	}

	/**
	 * Up to `limit` envelopes that `ready` lets go and that did not go out on this connection yet,
	 * oldest first; now marked sent.
	 */
	takeUnsent(ready: (envelope: Envelope) => boolean = () => true, limit = Number.POSITIVE_INFINITY): Envelope[] {
		const taken: Envelope[] = [];
		for (const entry of this.#entries) {
			if (taken.length >= limit) break;
			if (entry.sent || !ready(entry.envelope)) continue;
			entry.sent = true;
			taken.push(entry.envelope);
		}
		this.#inFlight += taken.length;
		return taken;
	}

	/** The relay dropped `id` unprocessed (rate_limited): its oldest sent copy is to go out again, unchanged. */
	resend(id: string): boolean {
		const entry = this.#entries.find(waiting => waiting.sent && waiting.envelope.id === id);
		if (entry === undefined) return false;
		entry.sent = false;
		this.#inFlight--;
		return true;
	}

	/**
	 * The relay answered for `id` (accepted it, or refused it): the oldest copy with that id sent on
	 * this connection leaves, the one to `to` when the answer names it. An error names only the id,
	 * so of the copies of a message to everyone it is the oldest one; they all go out together and
	 * are all answered.
	 */
	settle(id: string, to?: string): Envelope | undefined {
		const index = this.#entries.findIndex(entry => entry.sent && entry.envelope.id === id && (to === undefined || entry.envelope.to === to));
		if (index === -1) return undefined;
		return this.#remove(index);
	}

	/** The connection is gone: what was sent on it and not answered goes out again on the next one. */
	unsend(): void {
		for (const entry of this.#entries) entry.sent = false;
		this.#inFlight = 0;
	}

	/** Forgets every envelope to `to` (their keys are no longer the contact's), or those `which` picks; returns them. */
	removeTo(to: string, which: (envelope: Envelope) => boolean = () => true): Envelope[] {
		const removed: Envelope[] = [];
		for (let index = this.#entries.length - 1; index >= 0; index--) {
			const {envelope} = this.#entries[index]!;
			if (envelope.to === to && which(envelope)) removed.unshift(this.#remove(index));
		}
		return removed;
	}

	/**
	 * Hands what changed to `persist` now rather than at the end of this turn. If it throws (a full
	 * disk), the changes are kept and handed over again with the next ones:
	 * the envelopes are still sent meanwhile, only not yet safe from a restart of the client.
	 */
	flush(): boolean {
		this.#scheduled = false;
		if (this.#added.length === 0 && this.#removed.length === 0) return true;
		const changes = {added: this.#added, removed: this.#removed};
		this.#added = [];
		this.#removed = [];
		try {
			this.persist(changes);
			return true;
		} catch {
			this.#added = [...changes.added, ...this.#added];
			this.#removed = [...changes.removed, ...this.#removed];
			return false;
		}
	}

	#push(envelope: Envelope): void {
		const bytes = envelope.body.length + (envelope.ephemeral ?? envelope.ratchet ?? '').length + envelope.id.length + envelope.to.length;
		this.#entries.push({envelope, bytes, sent: false});
		this.#bytes += bytes;
	}

	#remove(index: number): Envelope {
		const [entry] = this.#entries.splice(index, 1);
		this.#bytes -= entry!.bytes;
		if (entry!.sent) this.#inFlight--;
		const key = outboxKey(entry!.envelope);
		const unsaved = this.#added.findIndex(envelope => outboxKey(envelope) === key);
		if (unsaved === -1) this.#removed.push(key);
		else this.#added.splice(unsaved, 1);
		this.#schedule();
		return entry!.envelope;
	}

	#schedule(): void {
		if (this.#scheduled) return;
		this.#scheduled = true;
		queueMicrotask(() => {
			if (this.#scheduled) this.flush();
		});
	}
}
