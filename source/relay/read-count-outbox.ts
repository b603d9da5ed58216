import type {RoomReadCount} from './cluster.js';
import type {Logger} from './logger.js';
import {realTimer, type Timer} from './presence-batcher.js';
import {guardStorage} from './storage-guard.js';

/** How long read counts for senders on other relays gather before they go: at most this many notifications a second per relay, whatever the acks. */
export const readCountGapMs = 200;

/** Messages whose latest count waits at most: about 100 bytes each. Past it a count is dropped (a later one of that message still goes). */
export const maxWaitingCounts = 10_000;

/**
 * Read counts for senders logged in on other relays, gathered: the latest per message, sent every
 * readCountGapMs at most, so a room of a thousand readers acking costs the database a few
 * notifications a second, not one per ack. Counts are a courtesy (the sender's client shows "read
 * by n of m"): one lost with the database or a relay's end is not sent again.
 */
export class ReadCountOutbox {
	private readonly waiting = new Map<string, RoomReadCount>();
	private scheduled = false;
	private full = false;

	constructor(
		private readonly send: (counts: RoomReadCount[]) => Promise<void>,
		private readonly log: Logger,
		private readonly timer: Timer = realTimer,
	) {}

	add(count: RoomReadCount): void {
		const key = `${count.room} ${count.seq}`;
		if (!this.waiting.has(key) && this.waiting.size >= maxWaitingCounts) {
			if (!this.full) this.log('read_counts_full', {waiting: maxWaitingCounts});
			this.full = true;
			return;
		}
		this.waiting.set(key, count);
		if (this.scheduled) return;
		this.scheduled = true;
		this.timer(() => this.flush(), readCountGapMs);
	}

	private flush(): void {
		this.scheduled = false;
		this.full = false;
		const counts = [...this.waiting.values()];
		this.waiting.clear();
		void guardStorage(this.log, 'read_counts', async () => this.send(counts));
	}
}
