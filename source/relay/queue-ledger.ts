/** What waits for one recipient: envelopes and stored bytes. */
export type QueueTotals = {count: number; bytes: number};

/** What waits, per recipient and sender: what the database holds, as queueTotals() reads it. */
export type QueueSnapshot = Array<{recipient: string; sender: string; count: number; bytes: number}>;

export type QueueQuotas = {
	maxQueuedPerUser: number;
	maxQueuedPerSender: number;
	maxStoredBytesPerRecipient: number;
	maxStoredBytesPerSender: number;
	maxStoredBytes: number;
};

export type QuotaVerdict = 'ok' | 'queue_full' | 'quota_exceeded';

/**
 * Bytes an envelope costs to store: its body, ephemeral key or ratchet header and id, and the id
 * again and the rest of its row and index entries (about 190 bytes: a one-byte body with a
 * 64-character id takes about 320 bytes of database). sqlite-store.ts sums the same expression.
 */
export function storedBytes(envelope: {body: string; id: string; ephemeral?: string; ratchet?: string}): number {
	return envelope.body.length + 2 * envelope.id.length + (envelope.ephemeral?.length ?? 0) + (envelope.ratchet?.length ?? 0) + storedRowOverhead;
}

export const storedRowOverhead = 192;

/**
 * Counts what the relay holds for delivery (on disk, or forwarded and not yet acknowledged): per
 * recipient in envelopes and bytes, per recipient and sender in envelopes, per sender in bytes,
 * and in all; and decides whether one more envelope fits. Kept in memory from the database at
 * start, and set again from it after a bulk delete (expiry, a lapsed name).
 */
export class QueueLedger {
	private recipients = new Map<string, QueueTotals & {senders: Map<string, number>}>();
	private senders = new Map<string, number>();
	private total = 0;

	constructor(private readonly quotas: QueueQuotas) {}

	/** `rooms`: the bytes of room items waiting, per sender (stored once, counted against no recipient). */
	reset(snapshot: QueueSnapshot, rooms: ReadonlyArray<{sender: string; bytes: number}> = []): void {
		this.recipients = new Map();
		this.senders = new Map();
		this.total = 0;
		for (const {recipient, sender, count, bytes} of snapshot) this.add(recipient, sender, bytes, count);
		for (const {sender, bytes} of rooms) this.addRoomItem(sender, bytes);
	}

	/** Whether a room item of `bytes` fits the sender's quota and the relay's total (half of it without priority). */
	checkRoomItem(from: string, bytes: number, priority: boolean): 'ok' | 'quota_exceeded' {
		const {maxStoredBytesPerSender, maxStoredBytes} = this.quotas;
		if ((this.senders.get(from) ?? 0) + bytes > maxStoredBytesPerSender) return 'quota_exceeded';
		if (this.total + bytes > (priority ? maxStoredBytes : maxStoredBytes / 2)) return 'quota_exceeded';
		return 'ok';
	}

	addRoomItem(from: string, bytes: number): void {
		this.senders.set(from, (this.senders.get(from) ?? 0) + bytes);
		this.total += bytes;
	}

	removeRoomItem(from: string, bytes: number): void {
		const sent = (this.senders.get(from) ?? 0) - bytes;
		if (sent <= 0) this.senders.delete(from);
		else this.senders.set(from, sent);
		this.total = Math.max(0, this.total - bytes);
	}

	/**
	 * queue_full: the recipient has all it may hold, or all it may hold from this sender (a share,
	 * so that one sender cannot fill someone's mailbox for everyone); quota_exceeded: the sender has
	 * all it may store, or the relay is full (for a sender without priority, when half full).
	 */
	check(to: string, from: string, bytes: number, priority: boolean): QuotaVerdict {
		const waiting = this.recipients.get(to);
		const {maxQueuedPerUser, maxQueuedPerSender, maxStoredBytesPerRecipient, maxStoredBytesPerSender, maxStoredBytes} = this.quotas;
		if (
			waiting !== undefined &&
			(waiting.count >= maxQueuedPerUser ||
				waiting.bytes + bytes > maxStoredBytesPerRecipient ||
				(waiting.senders.get(from) ?? 0) >= maxQueuedPerSender)
		) {
			return 'queue_full';
		}
		if ((this.senders.get(from) ?? 0) + bytes > maxStoredBytesPerSender) return 'quota_exceeded';
		if (this.total + bytes > (priority ? maxStoredBytes : maxStoredBytes / 2)) return 'quota_exceeded';
		return 'ok';
	}

	add(to: string, from: string, bytes: number, count = 1): void {
		let waiting = this.recipients.get(to);
		if (waiting === undefined) {
			waiting = {count: 0, bytes: 0, senders: new Map()};
			this.recipients.set(to, waiting);
		}
		waiting.count += count;
		waiting.bytes += bytes;
		waiting.senders.set(from, (waiting.senders.get(from) ?? 0) + count);
		this.senders.set(from, (this.senders.get(from) ?? 0) + bytes);
		this.total += bytes;
	}

	remove(to: string, from: string, bytes: number): void {
		const waiting = this.recipients.get(to);
		if (waiting !== undefined) {
			waiting.count -= 1;
			waiting.bytes -= bytes;
			const fromSender = (waiting.senders.get(from) ?? 0) - 1;
			if (fromSender <= 0) waiting.senders.delete(from);
			else waiting.senders.set(from, fromSender);
			if (waiting.count <= 0) this.recipients.delete(to);
		}
		const sent = (this.senders.get(from) ?? 0) - bytes;
		if (sent <= 0) this.senders.delete(from);
		else this.senders.set(from, sent);
		this.total = Math.max(0, this.total - bytes);
	}

	/** What the store says `from` has waiting, across relays: counted if more than this relay knows of (never less). */
	raiseSender(from: string, bytes: number): void {
		const known = this.senders.get(from) ?? 0;
		if (bytes <= known) return;
		this.senders.set(from, bytes);
		this.total += bytes - known;
	}

	queued(to: string): number {
		return this.recipients.get(to)?.count ?? 0;
	}

	get storedBytes(): number {
		return this.total;
	}
}
