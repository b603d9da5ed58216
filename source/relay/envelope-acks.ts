import type {AsyncRelayStore} from './async-store.js';
import type {CommitQueue} from './commit-queue.js';
import type {EnvelopeCommits} from './envelope-commits.js';
import type {ForwardedEnvelopes} from './forwarded-envelopes.js';
import type {Logger} from './logger.js';
import type {Maybe} from './maybe.js';
import {storedBytes, type QueueLedger} from './queue-ledger.js';
import type {Session} from './session.js';
import {guardStorage} from './storage-guard.js';

/** What the queue has done with acknowledgements: for operators, and for tests that count it. */
export type AckStats = {
	/** Delivery numbers acknowledged that were this session's own and still outstanding. */
	ackedNumbers: number;
	/** ...and those ignored: never delivered to that session, or acknowledged already. */
	ignoredAckNumbers: number;
	/** Rows the database was asked to delete for acks. */
	ackDeletes: number;
};

export type AckParts = {
	store: AsyncRelayStore;
	log: Logger;
	stats: AckStats;
	/** The relay's commits, one at a time (commit-queue.ts). */
	commitQueue: CommitQueue;
	commits: EnvelopeCommits;
	ledger: QueueLedger;
	forwarded: ForwardedEnvelopes;
};

/** Acknowledgements of 1:1 envelopes: a forwarded one answered from memory, a stored one deleted from the store. */
export class EnvelopeAcks {
	constructor(private readonly parts: AckParts) {}

	/**
	 * Only numbers delivered to this session and not yet acknowledged count: an ack
	 * touches at most as many rows as the session was sent, whatever numbers it lists.
	 */
	acknowledge(session: Session, username: string, deliveries: readonly number[]): Maybe<void> {
		const {stats, forwarded, ledger, commits} = this.parts;
		const stored: number[] = [];
		for (const delivery of deliveries) {
			if (!session.acknowledged(delivery)) {
				stats.ignoredAckNumbers += 1;
				continue;
			}
			stats.ackedNumbers += 1;
			const envelope = forwarded.take(username, delivery);
			if (envelope === undefined) {
				stored.push(delivery);
				continue;
			}
			ledger.remove(envelope.to, envelope.from, storedBytes(envelope));
			commits.answerAccepted(envelope);
		}
		if (stored.length === 0) return;
		stats.ackDeletes += stored.length;
		return this.deleteAcknowledged(session, username, stored);
	}

	private async deleteAcknowledged(session: Session, username: string, stored: number[]): Promise<void> {
		const {log, store, commitQueue, ledger} = this.parts;
		// What was forwarded before its commit, and is being committed now, is deleted once it is on
		// disk. (Without takeDelivery everything forwarded was committed first: nothing to wait for.)
		if (store.takeDelivery !== undefined) await commitQueue.idle();
		// An ack that fails leaves the envelopes queued: they come again and the client drops the replays.
		const deleted = await guardStorage(log, 'ack', () => store.ack(username, stored));
		if (deleted === undefined) {
			// Still queued: a later ack on this connection may delete them.
			for (const delivery of stored) session.delivered(delivery);
			return;
		}
		for (const row of deleted) ledger.remove(username, row.sender, row.bytes);
	}
}
