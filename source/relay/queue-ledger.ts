/** What waits for one recipient: envelopes and body bytes. */
export type QueueTotals = {count: number; bytes: number};

export type QueueSnapshot = {recipients: Map<string, QueueTotals>; senders: Map<string, number>};

export type QueueQuotas = {
	maxQueuedPerUser: number;
	maxStoredBytesPerRecipient: number;
	maxStoredBytesPerSender: number;
	maxStoredBytes: number;
};

export type QuotaVerdict = 'ok' | 'queue_full' | 'quota_exceeded';

/**
 * Counts what the relay holds for delivery (on disk, or forwarded and not yet acknowledged): per
 * recipient in envelopes and bytes, per sender in bytes, and in all; and decides whether one more
 * envelope fits. Bytes are body bytes (the rest of a row is a small constant). Kept in memory from
 * the database at start, and set again from it after a bulk delete (expiry, a lapsed name).
 */
export class QueueLedger {
	private recipients = new Map<string, QueueTotals>();
	private senders = new Map<string, number>();
	private total = 0;

	constructor(private readonly quotas: QueueQuotas) {}

	reset(snapshot: QueueSnapshot): void {
		this.recipients = snapshot.recipients;
		this.senders = snapshot.senders;
		this.total = 0;
		for (const bytes of snapshot.senders.values()) this.total += bytes;
	}

	/**
	 * queue_full: the recipient has all it may hold; quota_exceeded: the sender has all it may
	 * store, or the relay is full (for a sender without priority, when half full).
	 */
	check(to: string, from: string, bytes: number, priority: boolean): QuotaVerdict {
		const waiting = this.recipients.get(to);
		const {maxQueuedPerUser, maxStoredBytesPerRecipient, maxStoredBytesPerSender, maxStoredBytes} = this.quotas;
		if (waiting !== undefined && (waiting.count >= maxQueuedPerUser || waiting.bytes + bytes > maxStoredBytesPerRecipient)) return 'queue_full';
		if ((this.senders.get(from) ?? 0) + bytes > maxStoredBytesPerSender) return 'quota_exceeded';
		if (this.total + bytes > (priority ? maxStoredBytes : maxStoredBytes / 2)) return 'quota_exceeded';
		return 'ok';
	}

	add(to: string, from: string, bytes: number): void {
		const waiting = this.recipients.get(to);
		if (waiting === undefined) this.recipients.set(to, {count: 1, bytes});
		else {
			waiting.count += 1;
			waiting.bytes += bytes;
		}
		this.senders.set(from, (this.senders.get(from) ?? 0) + bytes);
		this.total += bytes;
	}

	remove(to: string, from: string, bytes: number): void {
		const waiting = this.recipients.get(to);
		if (waiting !== undefined) {
			waiting.count -= 1;
			waiting.bytes -= bytes;
			if (waiting.count <= 0) this.recipients.delete(to);
		}
		const sent = (this.senders.get(from) ?? 0) - bytes;
		if (sent <= 0) this.senders.delete(from);
		else this.senders.set(from, sent);
		this.total = Math.max(0, this.total - bytes);
	}

	queued(to: string): number {
		return this.recipients.get(to)?.count ?? 0;
	}

	storedBy(from: string): number {
		return this.senders.get(from) ?? 0;
	}

	get storedBytes(): number {
		return this.total;
	}
}
