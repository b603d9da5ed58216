import type {AsyncRelayStore} from './async-store.js';
import type {CommitQueue} from './commit-queue.js';
import type {DeliveryQueue} from './delivery-queue.js';
import type {Logger} from './logger.js';
import type {Logins} from './logins.js';
import type {RelayStats} from './relay-core-options.js';
import type {RelayLimits} from './relay-options.js';
import type {RoomBook} from './room-book.js';
import type {Session} from './session.js';
import {guardStorage} from './storage-guard.js';
import type {UserDirectory} from './user-directory.js';

export type UpkeepParts = {
	store: AsyncRelayStore;
	commits: CommitQueue;
	limits: RelayLimits;
	clock: () => number;
	log: Logger;
	stats: RelayStats;
	queue: DeliveryQueue;
	rooms: RoomBook;
	directory: UserDirectory;
	logins: Logins;
	online: Map<string, Session>;
};

/** What runs out in the store: envelopes and room items past their age, registrations never used; and the counts of what waits, taken again after. */
export class RelayUpkeep {
	constructor(private readonly parts: UpkeepParts) {}

	/** Deletes queued envelopes and room items older than maxQueueAgeMs (and old invitations); returns how many. */
	async purgeExpired(): Promise<number> {
		const {clock, limits, log, store, rooms} = this.parts;
		const before = clock() - limits.maxQueueAgeMs;
		const purged = (await guardStorage(log, 'purge', () => store.purgeOlderThan(before))) ?? 0;
		if (purged > 0) log('queue_expired', {envelopes: purged});
		const items = await rooms.purge();
		if (purged + items > 0) await this.recount();
		return purged + items;
	}

	/**
	 * Deletes the names registered more than registrationLapseMs ago and never used again (no
	 * second login, no message), with what waits for them and their contacts, unless they are
	 * online; returns how many. A login of such a name meanwhile goes first, or after it is gone.
	 */
	async lapseRegistrations(): Promise<number> {
		const {clock, limits, log, stats, directory, logins, online} = this.parts;
		const lapsed = await directory.lapsed(clock() - limits.registrationLapseMs);
		let deleted = 0;
		for (const username of lapsed) {
			const gone = await logins.turn(username, async () => !online.has(username) && (await directory.deleteLapsed(username)));
			if (gone) deleted += 1;
		}
		if (deleted > 0) {
			await directory.lapsedDone();
			stats.lapsedRegistrations += deleted;
			log('registrations_lapsed', {users: deleted});
			await this.recount();
		}
		return deleted;
	}

	/** Counts again what waits, from the store and what is in memory, while nothing commits. */
	recount(): Promise<void> {
		const {commits, queue, rooms} = this.parts;
		return commits.run(() => queue.recount(() => rooms.countPending()));
	}
}
