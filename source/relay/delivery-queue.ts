import {errorMessage, type Envelope} from '../net/messages.js';
import type {AsyncRelayStore, EnqueuedEnvelope} from './async-store.js';
import {BacklogSender} from './backlog-sender.js';
import type {CommitQueue} from './commit-queue.js';
import {endOfTurn} from './end-of-turn.js';
import {ForwardedEnvelopes} from './forwarded-envelopes.js';
import type {Logger} from './logger.js';
import type {Timer} from './presence-batcher.js';
import {QueueLedger, storedBytes, type QuotaVerdict} from './queue-ledger.js';
import {acceptedJson, deliveredJson} from './relay-json.js';
import type {RelayLimits} from './relay-options.js';
import type {NewEnvelope, NumberedEnvelope} from './relay-store.js';
import type {Session} from './session.js';
import {guardStorage, inBackground} from './storage-guard.js';

/** What a sender is told when the relay could not take an envelope for now. */
export const storageFailedText = 'the relay could not store the message; send it again later';

/** What the queue has done with acknowledgements: for operators, and for tests that count it. */
export type AckStats = {
	/** Delivery numbers acknowledged that were this session's own and still outstanding. */
	ackedNumbers: number;
	/** ...and those ignored: never delivered to that session, or acknowledged already. */
	ignoredAckNumbers: number;
	/** Rows the database was asked to delete for acks. */
	ackDeletes: number;
};

export type DeliveryQueueOptions = {
	store: AsyncRelayStore;
	/** The relay's commits, one at a time (commit-queue.ts): the rooms' go through it too. */
	commits: CommitQueue;
	limits: RelayLimits;
	timer: Timer;
	log: Logger;
	stats: AckStats;
	/** The session logged in as `username`, if any. */
	sessionOf: (username: string) => Session | undefined;
	/** Sends `session` the presence changes it has not heard yet: before a message from a newcomer. A promise settles once they are out. */
	catchUp: (username: string, session: Session) => Promise<void> | undefined;
	/** An envelope passed the quotas and goes out or to disk now: anything its recipient must hear first is sent before this settles. */
	accepted: (from: string, to: string) => Promise<void>;
	/** A session has had its backlog: what comes after it (the rooms' streams) may start. */
	caughtUp?: (session: Session) => void;
	/** In a cluster (cluster.ts): this relay's id, given to each enqueue so the store wakes recipients logged in on other relays as it commits. */
	relayId?: string;
};

/**
 * Envelopes from acceptance to acknowledgement: the quotas (QueueLedger), the commit of everything
 * accepted in one turn, envelopes forwarded at once and committed only if not acknowledged in time,
 * and delivery paced by each recipient's connection (a backlog, or new envelopes for a recipient
 * that reads slowly, go out as it reads). A sender hears `accepted` only once an envelope is safe:
 * on disk, or acknowledged by its recipient.
 *
 * Delivery numbers: a store one relay owns (SQLite) hands them out at once (takeDelivery), so an
 * envelope for a recipient online and caught up is forwarded before any commit. A store several
 * relays share (PostgreSQL) numbers envelopes as it commits them: then every envelope is committed
 * first and forwarded after. Either way an envelope queued for a recipient gets its number when
 * its batch commits, and one batch commits at a time, so per recipient numbers grow in the order
 * envelopes are sent.
 */
export class DeliveryQueue {
	/** What waits, 1:1 envelopes and (their senders' bytes) room items: rooms share it (room-book.ts). */
	readonly ledger: QueueLedger;
	/** Accepted for recipients offline, catching up or behind a batch: committed in the next batch. */
	private pending: NewEnvelope[] = [];
	/** How many envelopes to each recipient are pending or committing: while any are, newer ones for it wait their turn. */
	private readonly pendingFor = new Map<string, number>();
	private commitScheduled = false;
	private readonly forwarded = new ForwardedEnvelopes();
	private cancelForwardedCommit: (() => void) | undefined;
	private readonly backlog: BacklogSender;
	private readonly store: AsyncRelayStore;
	private readonly commits: CommitQueue;
	private readonly limits: RelayLimits;
	private readonly timer: Timer;
	private readonly log: Logger;
	private readonly stats: AckStats;
	private readonly sessionOf: (username: string) => Session | undefined;
	private readonly catchUp: (username: string, session: Session) => Promise<void> | undefined;
	private readonly accepted: (from: string, to: string) => Promise<void>;
	private readonly wake: {relayId: string} | undefined;
	/** Recipients here with envelopes committed while they were catching up: their backlog reads on before it finishes. Local sessions' names only. */
	private readonly again = new Set<string>();

	constructor(options: DeliveryQueueOptions) {
		({store: this.store, commits: this.commits, limits: this.limits, timer: this.timer, log: this.log, stats: this.stats} = options);
		this.sessionOf = options.sessionOf;
		this.catchUp = options.catchUp;
		this.accepted = options.accepted;
		this.ledger = new QueueLedger(this.limits);
		this.wake = options.relayId === undefined ? undefined : {relayId: options.relayId};
		this.backlog = new BacklogSender({
			shared: this.wake !== undefined,
			again: username => this.again.delete(username),
			store: this.store,
			log: this.log,
			ledger: this.ledger,
			sessionOf: this.sessionOf,
			catchUp: this.catchUp,
			...(options.caughtUp === undefined ? {} : {caughtUp: options.caughtUp}),
		});
	}

	/** Counts what waits in the store (a storage failure rejects: the relay does not start). */
	async load(): Promise<void> {
		this.ledger.reset(await this.store.queueTotals(), await this.store.roomItemTotals());
	}

	/** Commits what is pending, and what is forwarded but unacknowledged; the relay is going down. */
	async stop(): Promise<void> {
		this.cancelForwardedCommit?.();
		this.cancelForwardedCommit = undefined;
		await this.commits.run(() => this.commitPending());
		await this.commitForwarded(this.forwarded.takeAll(), {last: true});
	}

	/** Envelopes waiting for `username`, on disk or forwarded and not yet acknowledged. */
	waiting(username: string): number {
		return this.ledger.queued(username);
	}

	/** Stored bytes the relay holds for delivery (queue-ledger.ts storedBytes). */
	get storedBytes(): number {
		return this.ledger.storedBytes;
	}

	/**
	 * A user logs in (`session`) or leaves (undefined): what was forwarded to an earlier session and
	 * not acknowledged goes to disk, so a backlog has it in order. Settles once it, and every commit
	 * before it, is done; says whether it is on disk.
	 */
	commitForwardedTo(username: string): Promise<boolean> {
		this.again.delete(username);
		return this.commitForwarded(this.forwarded.takeFor(username));
	}

	/**
	 * Another relay committed envelopes for `username`: a session here that is caught up is sent
	 * what waits after the last it was sent; one still catching up reads on before it finishes.
	 */
	woken(username: string): void {
		const session = this.sessionOf(username);
		if (session === undefined) return;
		if (session.catchingUp) {
			this.again.add(username);
			return;
		}
		session.catchingUp = true;
		inBackground(this.log, 'backlog', this.backlog.deliver(session, username, session.lastSent), () => session.sink.close());
	}

	/** A login: what waits goes out in order, and first to disk what was forwarded to an earlier session and is still in memory (the disk failed when it left); if the disk still fails, it tries again at the next login. */
	async loggedIn(session: Session, username: string): Promise<void> {
		if (await this.commitForwardedTo(username)) await this.backlog.deliver(session, username, 0);
		else session.sink.close();
	}

	/**
	 * Checks the quotas, then either forwards the envelope at once (its recipient is online and
	 * caught up, and the store numbers envelopes before they commit) or queues it for the next
	 * commit. Settles once it is forwarded or queued, not committed: `accepted` comes later.
	 */
	async accept(envelope: Envelope, to: string, from: string, time: number, priority: boolean): Promise<'ok' | QuotaVerdict | 'storage_failed'> {
		// A resend of an envelope still out with its recipient: the first copy will be answered.
		if (this.forwarded.holds(from, envelope.id, to)) return 'ok';
		const bytes = storedBytes(envelope);
		const quota = this.ledger.check(to, from, bytes, priority);
		if (quota !== 'ok') return quota;
		this.ledger.add(to, from, bytes);
		await this.accepted(from, to);
		const accepted: NewEnvelope = {
			id: envelope.id,
			to,
			kind: envelope.kind,
			...(envelope.ratchet === undefined ? {ephemeral: envelope.ephemeral} : {ratchet: envelope.ratchet}),
			body: envelope.body,
			from,
			time,
		};
		if (this.store.takeDelivery !== undefined) {
			let recipient = this.sessionOf(to);
			if (recipient?.roster && this.forwardable(recipient, to)) {
				// a sender who registered moments ago must be known before its first message arrives
				const told = this.catchUp(to, recipient);
				if (told !== undefined) await told;
				recipient = this.sessionOf(to);
			}
			if (recipient !== undefined && this.forwardable(recipient, to)) {
				if (recipient.sink.hasRoom()) return this.forwardNow(recipient, accepted, bytes);
				this.backlog.fallBehind(recipient, to);
			}
		}
		this.pending.push(accepted);
		this.pendingFor.set(to, (this.pendingFor.get(to) ?? 0) + 1);
		this.scheduleCommit();
		return 'ok';
	}

	/** Whether an envelope for `to` may go to `recipient` now: it is caught up and nothing for it waits to commit. */
	private forwardable(recipient: Session, to: string): boolean {
		return !recipient.catchingUp && !this.pendingFor.has(to);
	}

	/** Numbers the envelope now, forwards it, and commits it only if it is not acknowledged in time. */
	private forwardNow(recipient: Session, envelope: NewEnvelope, bytes: number): 'ok' | 'storage_failed' {
		let delivery: number;
		try {
			delivery = this.store.takeDelivery!();
		} catch (error) {
			this.log('storage_error', {operation: 'reserve', error: (error as {code?: string}).code ?? (error as Error).name});
			this.ledger.remove(envelope.to, envelope.from, bytes);
			return 'storage_failed';
		}
		const numbered: NumberedEnvelope = {...envelope, delivery};
		// Added first: forwarding can end the recipient's session, whose leave commits it.
		this.forwarded.add(numbered);
		this.forward(recipient, numbered);
		this.scheduleForwardedCommit();
		return 'ok';
	}

	/**
	 * Only numbers delivered to this session and not yet acknowledged count: an ack
	 * touches at most as many rows as the session was sent, whatever numbers it lists.
	 */
	async acknowledge(session: Session, username: string, deliveries: readonly number[]): Promise<void> {
		const stored: number[] = [];
		for (const delivery of deliveries) {
			if (!session.acknowledged(delivery)) {
				this.stats.ignoredAckNumbers += 1;
				continue;
			}
			this.stats.ackedNumbers += 1;
			const envelope = this.forwarded.take(username, delivery);
			if (envelope === undefined) {
				stored.push(delivery);
				continue;
			}
			this.ledger.remove(envelope.to, envelope.from, storedBytes(envelope));
			this.answerAccepted(envelope);
		}
		if (stored.length === 0) return;
		this.stats.ackDeletes += stored.length;
		// What was forwarded and is being committed is deleted once it is on disk.
		await this.commits.idle();
		// An ack that fails leaves the envelopes queued: they come again and the client drops the replays.
		const deleted = await guardStorage(this.log, 'ack', () => this.store.ack(username, stored));
		if (deleted === undefined) {
			// Still queued: a later ack on this connection may delete them.
			for (const delivery of stored) session.delivered(delivery);
			return;
		}
		for (const row of deleted) this.ledger.remove(username, row.sender, row.bytes);
	}

	/**
	 * The envelopes accepted in this turn of the event loop commit together, after the batch before
	 * them: those accepted while a batch commits make the next one.
	 */
	private scheduleCommit(): void {
		if (this.commitScheduled) return;
		this.commitScheduled = true;
		endOfTurn(() => {
			this.commitScheduled = false;
			inBackground(this.log, 'commit', this.commits.run(() => this.commitPending()));
		});
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
			const {delivery, stored} = enqueued[index]!;
			const numbered: NumberedEnvelope = {...envelope, delivery};
			this.answerAccepted(numbered);
			if (stored) await this.forwardCommitted(numbered);
			this.committed(envelope.to);
		}
	}

	/** A committed envelope goes to its recipient if it is online and caught up, and was not sent it from the disk meanwhile. */
	private async forwardCommitted(envelope: NumberedEnvelope): Promise<void> {
		let recipient = this.sessionOf(envelope.to);
		if (recipient?.catchingUp === true) this.again.add(envelope.to);
		if (recipient === undefined || recipient.catchingUp || envelope.delivery <= recipient.lastSent) return;
		if (!recipient.sink.hasRoom()) {
			this.backlog.fallBehind(recipient, envelope.to);
			return;
		}
		if (recipient.roster) {
			const told = this.catchUp(envelope.to, recipient);
			if (told !== undefined) {
				await told;
				recipient = this.sessionOf(envelope.to);
				if (recipient === undefined || recipient.catchingUp || envelope.delivery <= recipient.lastSent) return;
				if (!recipient.sink.hasRoom()) {
					this.backlog.fallBehind(recipient, envelope.to);
					return;
				}
			}
		}
		this.forward(recipient, envelope);
	}

	/** One envelope for `to` is committed (or refused): once none are left, new ones may be forwarded at once. */
	private committed(to: string): void {
		const left = (this.pendingFor.get(to) ?? 1) - 1;
		if (left <= 0) this.pendingFor.delete(to);
		else this.pendingFor.set(to, left);
	}

	private scheduleForwardedCommit(): void {
		if (this.cancelForwardedCommit === undefined && this.forwarded.size > 0) {
			this.cancelForwardedCommit = this.timer(() => this.commitOverdue(), this.limits.forwardedCommitMs);
		}
	}

	private commitOverdue(): void {
		this.cancelForwardedCommit = undefined;
		inBackground(this.log, 'commit', this.commitForwarded(this.forwarded.takeOverdue()));
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
		if (envelopes.length === 0) {
			await this.commits.idle();
			return true;
		}
		return this.commits.run(async () => {
			if ((await this.commit(envelopes)) === undefined) {
				if (last) this.refuse(envelopes);
				else for (const envelope of envelopes) this.forwarded.add(envelope);
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
			enqueued = await this.store.enqueue(envelopes, this.wake);
		} catch (error) {
			// A full disk or a locked database must cost these envelopes a retry, never the relay.
			this.log('storage_error', {error: (error as {code?: string}).code ?? (error as Error).name, envelopes: envelopes.length});
			return undefined;
		}
		for (const [index, envelope] of envelopes.entries()) if (!enqueued[index]!.stored) this.uncount(envelope);
		return enqueued;
	}

	/** Not taken after all: the senders send them again, unchanged, after a pause. */
	private refuse(envelopes: readonly NewEnvelope[]): void {
		for (const envelope of envelopes) {
			this.uncount(envelope);
			this.sessionOf(envelope.from)?.sink.send(errorMessage('storage_failed', storageFailedText, envelope.id));
		}
	}

	private forward(recipient: Session, envelope: NumberedEnvelope): void {
		recipient.delivered(envelope.delivery);
		recipient.sink.sendJson(deliveredJson(envelope));
	}

	/** The envelope is safe (on disk, or acknowledged by its recipient): its sender, wherever it is now logged in, hears so. */
	private answerAccepted(envelope: NewEnvelope): void {
		this.sessionOf(envelope.from)?.sink.sendJson(acceptedJson(envelope));
	}

	private uncount(envelope: NewEnvelope): void {
		this.ledger.remove(envelope.to, envelope.from, storedBytes(envelope));
	}

	/**
	 * Counts again from what the store holds (after a bulk delete), plus what is in memory: forwarded
	 * and pending envelopes. A job of the commit queue (RelayCore.recount), so none is committing.
	 */
	async recount(extra: () => void): Promise<void> {
		const totals = await guardStorage(this.log, 'recount', async () => ({queue: await this.store.queueTotals(), rooms: await this.store.roomItemTotals()}));
		if (totals === undefined) return;
		this.ledger.reset(totals.queue, totals.rooms);
		this.forwarded.forEach(envelope => this.ledger.add(envelope.to, envelope.from, storedBytes(envelope)));
		for (const envelope of this.pending) this.ledger.add(envelope.to, envelope.from, storedBytes(envelope));
		extra();
	}
}
