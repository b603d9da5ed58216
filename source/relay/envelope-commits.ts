import {errorMessage} from '../net/messages.js';
import type {AsyncRelayStore, ClusterEnqueue, EnqueuedEnvelope} from './async-store.js';
import type {BacklogSender} from './backlog-sender.js';
import type {CommitQueue} from './commit-queue.js';
import {endOfTurn} from './end-of-turn.js';
import type {ForwardedEnvelopes} from './forwarded-envelopes.js';
import type {Logger} from './logger.js';
import type {Timer} from './presence-batcher.js';
import {storedBytes, type QueueLedger} from './queue-ledger.js';
import {acceptedJson, deliveredJson} from './relay-json.js';
import type {NewEnvelope, NumberedEnvelope} from './relay-store.js';
import type {Session} from './session.js';
import {inBackground} from './storage-guard.js';

/** What a sender is told when a recipient's queue is full. */
export const queueFullText = (to: string): string => `too many messages already wait for ${to}`;

/** What a sender is told when the relay could not take an envelope for now. */
export const storageFailedText = 'the relay could not store the message; send it again later';

export type EnvelopeCommitsOptions = {
	store: AsyncRelayStore;
	commits: CommitQueue;
	ledger: QueueLedger;
	forwarded: ForwardedEnvelopes;
	backlog: BacklogSender;
	timer: Timer;
	forwardedCommitMs: number;
	log: Logger;
	sessionOf: (username: string) => Session | undefined;
	catchUp: (username: string, session: Session) => Promise<void> | undefined;
	/** Something was committed for `to` while its session here was catching up: its backlog reads on. */
	again: (to: string) => void;
	/** In a cluster: given to each enqueue, so the store wakes recipients on other relays and holds the per-recipient caps for the service. */
	cluster?: ClusterEnqueue;
	/**
	 * In a cluster: whether `username` is logged in on another relay. What it reads is acknowledged
	 * there, out of this relay's sight: committed, it leaves this relay's counts (the store holds its
	 * caps, and the totals read again every 60 s bring back what still waits).
	 */
	elsewhere?: (username: string) => boolean;
};

/**
 * Envelopes on their way to disk (delivery-queue.ts decides which go where): those queued in one
 * turn commit in one transaction, after the batch before them (a job of the commit queue, one in
 * flight), and only then do their senders hear `accepted` and their recipients, if online and
 * caught up, get them; envelopes forwarded before any commit go to disk when their recipient
 * leaves or has not acknowledged them in time.
 */
export class EnvelopeCommits {
	/** Queued for recipients offline, catching up or behind a batch: committed in the next batch. */
	private pending: NewEnvelope[] = [];
	/** How many envelopes to each recipient are pending or committing: while any are, newer ones for it wait their turn. */
	private readonly pendingFor = new Map<string, number>();
	private commitScheduled = false;
	private cancelForwardedCommit: (() => void) | undefined;

	constructor(private readonly options: EnvelopeCommitsOptions) {}

	/** Whether anything for `to` is pending or committing: then a newer envelope may not overtake it. */
	waitingFor(to: string): boolean {
		return this.pendingFor.has(to);
	}

	/** Queues an envelope for the next batch, committed once this turn's work is done. */
	queue(envelope: NewEnvelope): void {
		this.pending.push(envelope);
		this.pendingFor.set(envelope.to, (this.pendingFor.get(envelope.to) ?? 0) + 1);
		if (this.commitScheduled) return;
		this.commitScheduled = true;
		endOfTurn(() => {
			this.commitScheduled = false;
			inBackground(this.options.log, 'commit', this.options.commits.run(() => this.commitPending()));
		});
	}

	/** Commits what is pending, and what is forwarded but unacknowledged; the relay is going down. */
	async stop(): Promise<void> {
		this.cancelForwardedCommit?.();
		this.cancelForwardedCommit = undefined;
		await this.options.commits.run(() => this.commitPending());
		await this.commitForwarded(this.options.forwarded.takeAll(), {last: true});
	}

	/** Adds what is pending (not on disk) to the ledger, after it was set again from the store. */
	countPending(): void {
		for (const envelope of this.pending) this.options.ledger.add(envelope.to, envelope.from, storedBytes(envelope));
	}

	/**
	 * One transaction for everything pending; only after it commits do senders hear `accepted` and
	 * online recipients get the envelope. A job of the commit queue.
	 */
	private async commitPending(): Promise<void> {
		const batch = this.pending;
		if (batch.length === 0) return;
		this.pending = [];
		const enqueued = await this.commit(batch);
		if (enqueued === undefined) {
			this.refuse(batch);
			for (const envelope of batch) this.committed(envelope.to);
			return;
		}
		for (const [index, envelope] of batch.entries()) {
			const {delivery, stored, refused} = enqueued[index]!;
			if (refused !== undefined) {
				// Full for the whole service: other relays queued for this recipient too.
				this.options.sessionOf(envelope.from)?.sink.send(errorMessage('queue_full', queueFullText(envelope.to), envelope.id));
				this.committed(envelope.to);
				continue;
			}
			// Numbered in place: it has its shape already, with the field empty until now (delivery-queue.ts numbered).
			const committed = envelope as NumberedEnvelope;
			committed.delivery = delivery;
			this.answerAccepted(committed);
			if (stored && this.options.elsewhere?.(envelope.to) === true) this.uncount(envelope);
			if (stored) await this.forwardCommitted(committed);
			this.committed(envelope.to);
		}
	}

	/** A committed envelope goes to its recipient if it is online and caught up, and was not sent it from the disk meanwhile. */
	private async forwardCommitted(envelope: NumberedEnvelope): Promise<void> {
		const {sessionOf, backlog, catchUp} = this.options;
		if (sessionOf(envelope.to)?.catchingUp === true) this.options.again(envelope.to);
		for (let told = false; ; told = true) {
			const recipient = sessionOf(envelope.to);
			if (recipient === undefined || recipient.catchingUp || envelope.delivery <= recipient.lastSent) return;
			if (!recipient.sink.hasRoom()) {
				backlog.fallBehind(recipient, envelope.to);
				return;
			}
			// a sender who registered moments ago must be known before its first message arrives
			const telling = told ? undefined : catchUp(envelope.to, recipient);
			if (telling === undefined) {
				this.forward(recipient, envelope);
				return;
			}
			await telling;
		}
	}

	/** One envelope for `to` is committed (or refused): once none are left, new ones may be forwarded at once. */
	private committed(to: string): void {
		const left = (this.pendingFor.get(to) ?? 1) - 1;
		if (left <= 0) this.pendingFor.delete(to);
		else this.pendingFor.set(to, left);
	}

	/** An envelope forwarded before any commit: it goes to disk unless acknowledged within forwardedCommitMs. */
	scheduleForwardedCommit(): void {
		if (this.cancelForwardedCommit === undefined && this.options.forwarded.size > 0) {
			this.cancelForwardedCommit = this.options.timer(() => this.commitOverdue(), this.options.forwardedCommitMs);
		}
	}

	private commitOverdue(): void {
		this.cancelForwardedCommit = undefined;
		inBackground(this.options.log, 'commit', this.commitForwarded(this.options.forwarded.takeOverdue()));
		this.scheduleForwardedCommit();
	}

	/**
	 * Forwarded envelopes that go to disk: their senders hear `accepted` once they are there. If the
	 * disk fails they stay forwarded (their recipient may have them already, and its ack still
	 * answers the sender) and the next period tries again; only when the relay stops (`last`) do
	 * their senders hear storage_failed. Settles once they, and every commit before them, are done;
	 * says whether they are on disk.
	 */
	async commitForwarded(envelopes: NumberedEnvelope[], {last = false} = {}): Promise<boolean> {
		const {commits, forwarded} = this.options;
		if (envelopes.length === 0) {
			await commits.idle();
			return true;
		}
		return commits.run(async () => {
			if ((await this.commit(envelopes)) === undefined) {
				if (last) this.refuse(envelopes);
				else for (const envelope of envelopes) forwarded.add(envelope);
				this.scheduleForwardedCommit();
				return false;
			}
			for (const envelope of envelopes) this.answerAccepted(envelope);
			return true;
		});
	}

	/** Commits envelopes: each one's number and whether it was stored (false: a copy was already queued); undefined if the disk failed. */
	private async commit(envelopes: ReadonlyArray<NewEnvelope & {delivery?: number}>): Promise<EnqueuedEnvelope[] | undefined> {
		let enqueued: EnqueuedEnvelope[];
		try {
			enqueued = await this.options.store.enqueue(envelopes, this.options.cluster);
		} catch (error) {
			// A full disk or a locked database must cost these envelopes a retry, never the relay.
			this.options.log('storage_error', {error: (error as {code?: string}).code ?? (error as Error).name, envelopes: envelopes.length});
			return undefined;
		}
		for (const [index, envelope] of envelopes.entries()) if (!enqueued[index]!.stored) this.uncount(envelope);
		return enqueued;
	}

	/** Not taken after all: the senders send them again, unchanged, after a pause. */
	private refuse(envelopes: readonly NewEnvelope[]): void {
		for (const envelope of envelopes) {
			this.uncount(envelope);
			this.options.sessionOf(envelope.from)?.sink.send(errorMessage('storage_failed', storageFailedText, envelope.id));
		}
	}

	forward(recipient: Session, envelope: NumberedEnvelope): void {
		recipient.delivered(envelope.delivery);
		recipient.sink.sendJson(deliveredJson(envelope));
	}

	/** The envelope is safe (on disk, or acknowledged by its recipient): its sender, wherever it is now logged in, hears so. */
	answerAccepted(envelope: NewEnvelope): void {
		this.options.sessionOf(envelope.from)?.sink.sendJson(acceptedJson(envelope));
	}

	private uncount(envelope: NewEnvelope): void {
		this.options.ledger.remove(envelope.to, envelope.from, storedBytes(envelope));
	}
}
