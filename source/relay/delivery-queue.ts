import type {Envelope} from '../net/messages.js';
import type {AsyncRelayStore, ClusterEnqueue} from './async-store.js';
import {BacklogSender} from './backlog-sender.js';
import type {CommitQueue} from './commit-queue.js';
import {EnvelopeAcks, type AckStats} from './envelope-acks.js';
import {EnvelopeCommits} from './envelope-commits.js';
import {ForwardedEnvelopes} from './forwarded-envelopes.js';
import type {Logger} from './logger.js';
import type {Maybe} from './maybe.js';
import type {Timer} from './presence-batcher.js';
import {QueueLedger, storedBytes, type QuotaVerdict} from './queue-ledger.js';
import type {RelayLimits} from './relay-options.js';
import type {NewEnvelope, NumberedEnvelope} from './relay-store.js';
import type {Session} from './session.js';
import {guardStorage, inBackground} from './storage-guard.js';

export {queueFullText, storageFailedText} from './envelope-commits.js';

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
	accepted: (from: string, to: string) => Promise<void> | undefined;
	/** A session has had its backlog: what comes after it (the rooms' streams) may start. */
	caughtUp?: (session: Session) => void;
	/** In a cluster (cluster.ts): this relay's id, given to each enqueue so the store wakes recipients logged in on other relays as it commits. */
	relayId?: string;
	/** In a cluster: whether `username` is logged in on another relay (envelope-commits.ts `elsewhere`). */
	elsewhere?: (username: string) => boolean;
};

/**
 * Envelopes from acceptance to acknowledgement: the quotas (QueueLedger), the commit of everything
 * accepted in one turn (envelope-commits.ts), envelopes forwarded at once and committed only if
 * not acknowledged in time, and delivery paced by each recipient's connection (a backlog, or new
 * envelopes for a recipient that reads slowly, go out as it reads). A sender hears `accepted` only
 * once an envelope is safe: on disk, or acknowledged by its recipient.
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
	private readonly forwarded = new ForwardedEnvelopes();
	private readonly backlog: BacklogSender;
	private readonly commits: EnvelopeCommits;
	private readonly acks: EnvelopeAcks;
	/** Recipients here with envelopes committed while they were catching up: their backlog reads on before it finishes. Local sessions' names only. */
	private readonly again = new Set<string>();
	/** Sessions that ended with messages still to handle (their acknowledgements), per user: a next login's backlog waits for them. */
	private readonly draining = new Map<string, Promise<void>>();

	constructor(private readonly options: DeliveryQueueOptions) {
		const {store, log, sessionOf, catchUp} = options;
		this.ledger = new QueueLedger(options.limits);
		const cluster: ClusterEnqueue | undefined =
			options.relayId === undefined
				? undefined
				: {relayId: options.relayId, maxQueuedPerUser: options.limits.maxQueuedPerUser, maxStoredBytesPerRecipient: options.limits.maxStoredBytesPerRecipient};
		this.backlog = new BacklogSender({
			shared: cluster !== undefined,
			again: username => this.again.delete(username),
			store,
			log,
			ledger: this.ledger,
			sessionOf,
			catchUp,
			...(options.caughtUp === undefined ? {} : {caughtUp: options.caughtUp}),
		});
		this.commits = new EnvelopeCommits({
			store,
			commits: options.commits,
			ledger: this.ledger,
			forwarded: this.forwarded,
			backlog: this.backlog,
			timer: options.timer,
			forwardedCommitMs: options.limits.forwardedCommitMs,
			log,
			sessionOf,
			catchUp,
			again: to => this.again.add(to),
			...(cluster === undefined ? {} : {cluster}),
			...(options.elsewhere === undefined ? {} : {elsewhere: options.elsewhere}),
		});
		this.acks = new EnvelopeAcks({store, log, stats: options.stats, commitQueue: options.commits, commits: this.commits, ledger: this.ledger, forwarded: this.forwarded});
	}

	/** Counts what waits in the store (a storage failure rejects: the relay does not start). */
	async load(): Promise<void> {
		this.ledger.reset(await this.options.store.queueTotals(), await this.options.store.roomItemTotals());
	}

	/** Commits what is pending, and what is forwarded but unacknowledged; the relay is going down. */
	stop(): Promise<void> {
		return this.commits.stop();
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
	 * A user logs in or leaves: what was forwarded to an earlier session and not acknowledged goes
	 * to disk, so a backlog has it in order. Settles once it, and every commit before it, is done;
	 * says whether it is on disk.
	 */
	commitForwardedTo(username: string): Promise<boolean> {
		this.again.delete(username);
		return this.commits.commitForwarded(this.forwarded.takeFor(username));
	}

	/**
	 * Another relay committed envelopes for `username`: a session here that is caught up is sent
	 * what waits after the last it was sent; one still catching up reads on before it finishes.
	 */
	woken(username: string): void {
		const session = this.options.sessionOf(username);
		if (session === undefined) return;
		if (session.catchingUp) {
			this.again.add(username);
			return;
		}
		session.catchingUp = true;
		inBackground(this.options.log, 'backlog', this.backlog.deliver(session, username, session.lastSent), () => session.sink.close());
	}

	/** A sender logs in on a relay of a cluster: what it has waiting through other relays counts against its quota here. */
	async senderLoggedIn(username: string): Promise<void> {
		const {store, log, relayId} = this.options;
		const {senderStoredBytes} = store;
		if (senderStoredBytes === undefined || relayId === undefined) return;
		const bytes = await guardStorage(log, 'sender_total', () => senderStoredBytes.call(store, username));
		if (bytes !== undefined) this.ledger.raiseSender(username, bytes);
	}

	/**
	 * A login: what waits goes out in order, once the acknowledgements of an earlier session are
	 * handled (what it read is not sent again), and first to disk what was forwarded to an earlier
	 * session and is still in memory (the disk failed when it left); if the disk still fails, it
	 * tries again at the next login.
	 */
	async loggedIn(session: Session, username: string): Promise<void> {
		await this.draining.get(username);
		if (await this.commitForwardedTo(username)) await this.backlog.deliver(session, username, 0);
		else session.sink.close();
	}

	/** A session of `username` ended with messages still to handle; `done` settles (never rejects) once they are. */
	afterSession(username: string, done: Promise<void>): void {
		const earlier = this.draining.get(username);
		const all = earlier === undefined ? done : Promise.all([earlier, done]).then(() => {});
		this.draining.set(username, all);
		void all.then(() => {
			if (this.draining.get(username) === all) this.draining.delete(username);
		});
	}

	/**
	 * Checks the quotas, then either forwards the envelope at once (its recipient is online and
	 * caught up, and the store numbers envelopes before they commit) or queues it for the next
	 * commit. Settles once it is forwarded or queued, not committed: `accepted` comes later.
	 */
	accept(envelope: Envelope, to: string, from: string, time: number, priority: boolean): Maybe<'ok' | QuotaVerdict | 'storage_failed'> {
		// A resend of an envelope still out with its recipient: the first copy will be answered.
		if (this.forwarded.holds(from, envelope.id, to)) return 'ok';
		const bytes = storedBytes(envelope);
		const quota = this.ledger.check(to, from, bytes, priority);
		if (quota !== 'ok') return quota;
		this.ledger.add(to, from, bytes);
		const introduced = this.options.accepted(from, to);
		if (introduced !== undefined) return introduced.then(() => this.place(envelope, to, from, time, bytes));
		return this.place(envelope, to, from, time, bytes);
	}

	/** An envelope taken: forwarded at once if it may be, else queued for the next commit. */
	private place(envelope: Envelope, to: string, from: string, time: number, bytes: number): Maybe<'ok' | 'storage_failed'> {
		const {store, sessionOf, catchUp} = this.options;
		const recipient = sessionOf(to);
		if (store.takeDelivery !== undefined && recipient?.roster && this.forwardable(recipient, to)) {
			// a sender who registered moments ago must be known before its first message arrives
			const told = catchUp(to, recipient);
			if (told !== undefined) return told.then(() => this.forwardOrQueue(envelope, to, from, time, bytes));
		}
		return this.forwardOrQueue(envelope, to, from, time, bytes);
	}

	private forwardOrQueue(envelope: Envelope, to: string, from: string, time: number, bytes: number): 'ok' | 'storage_failed' {
		const recipient = this.options.sessionOf(to);
		if (this.options.store.takeDelivery !== undefined && recipient !== undefined && this.forwardable(recipient, to)) {
			if (recipient.sink.hasRoom()) return this.forwardNow(recipient, envelope, to, from, time, bytes);
			this.backlog.fallBehind(recipient, to);
		}
		this.commits.queue(numbered(envelope, to, from, time, undefined));
		return 'ok';
	}

	/** Whether an envelope for `to` may go to `recipient` now: it is caught up and nothing for it waits to commit. */
	private forwardable(recipient: Session, to: string): boolean {
		return !recipient.catchingUp && !this.commits.waitingFor(to);
	}

	/** Numbers the envelope now, forwards it, and commits it only if it is not acknowledged in time. */
	private forwardNow(recipient: Session, envelope: Envelope, to: string, from: string, time: number, bytes: number): 'ok' | 'storage_failed' {
		let delivery: number;
		try {
			delivery = this.options.store.takeDelivery!();
		} catch (error) {
			this.options.log('storage_error', {operation: 'reserve', error: (error as {code?: string}).code ?? (error as Error).name});
			this.ledger.remove(to, from, bytes);
			return 'storage_failed';
		}
		const forwarded = numbered(envelope, to, from, time, delivery);
		// Added first: forwarding can end the recipient's session, whose leave commits it.
		this.forwarded.add(forwarded);
		this.commits.forward(recipient, forwarded);
		this.commits.scheduleForwardedCommit();
		return 'ok';
	}

	/** An ack (envelope-acks.ts). */
	acknowledge(session: Session, username: string, deliveries: readonly number[]): Maybe<void> {
		return this.acks.acknowledge(session, username, deliveries);
	}

	/**
	 * Counts again from what the store holds (after a bulk delete), plus what is in memory: forwarded
	 * and pending envelopes, and what `extra` adds. A job of the commit queue (relay-upkeep.ts), so none is committing.
	 */
	async recount(extra: () => void): Promise<void> {
		const {store, log} = this.options;
		const totals = await guardStorage(log, 'recount', async () => ({queue: await store.queueTotals(), rooms: await store.roomItemTotals()}));
		if (totals === undefined) return;
		this.ledger.reset(totals.queue, totals.rooms);
		this.forwarded.forEach(envelope => this.ledger.add(envelope.to, envelope.from, storedBytes(envelope)));
		this.commits.countPending();
		extra();
	}
}

/**
 * The envelope as the relay keeps it: its sender and time added, with its delivery number when it
 * has one. Made field by field, always in this order, so every envelope has one of two shapes
 * (an ephemeral key or a ratchet header) and the hot path reads them fast.
 */
export function numbered(envelope: Envelope, to: string, from: string, time: number, delivery: number): NumberedEnvelope;
export function numbered(envelope: Envelope, to: string, from: string, time: number, delivery: undefined): NewEnvelope;
export function numbered(envelope: Envelope, to: string, from: string, time: number, delivery: number | undefined): NewEnvelope {
	const key = envelope.ratchet === undefined ? {ephemeral: envelope.ephemeral} : {ratchet: envelope.ratchet};
	return {delivery, id: envelope.id, to, kind: envelope.kind, ...key, body: envelope.body, from, time} as unknown as NewEnvelope;
}
