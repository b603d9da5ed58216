import {errorMessage, type Envelope} from '../net/messages.js';
import {BacklogSender} from './backlog-sender.js';
import {DeliveryNumbers} from './delivery-numbers.js';
import {ForwardedEnvelopes} from './forwarded-envelopes.js';
import type {Logger} from './logger.js';
import type {Timer} from './presence-batcher.js';
import {QueueLedger, storedBytes, type QuotaVerdict} from './queue-ledger.js';
import {acceptedJson, deliveredJson} from './relay-json.js';
import type {RelayLimits} from './relay-options.js';
import type {NumberedEnvelope, RelayStore} from './relay-store.js';
import type {Session} from './session.js';
import {guardStorage} from './storage-guard.js';

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
	store: RelayStore;
	limits: RelayLimits;
	timer: Timer;
	log: Logger;
	stats: AckStats;
	/** The session logged in as `username`, if any. */
	sessionOf: (username: string) => Session | undefined;
	/** Sends `session` the presence changes it has not heard yet: before a message from a newcomer. */
	catchUp: (username: string, session: Session) => void;
	/** An envelope passed the quotas and goes out or to disk now: anything its recipient must hear first is sent here. */
	accepted: (from: string, to: string) => void;
	/** A session has had its backlog: what comes after it (the rooms' streams) may start. */
	caughtUp?: (session: Session) => void;
};

/**
 * Envelopes from acceptance to acknowledgement: delivery numbers, the quotas (QueueLedger), the
 * commit of everything accepted in one turn, envelopes forwarded at once and committed only if not
 * acknowledged in time, and delivery paced by each recipient's connection (a backlog, or new
 * envelopes for a recipient that reads slowly, go out as it reads). A sender hears `accepted` only
 * once an envelope is safe: on disk, or acknowledged by its recipient.
 */
export class DeliveryQueue {
	/** What waits, 1:1 envelopes and (their senders' bytes) room items: rooms share it (room-book.ts). */
	readonly ledger: QueueLedger;
	/** Accepted in this turn for recipients offline or catching up: committed at the end of the turn. */
	private pending: NumberedEnvelope[] = [];
	/** How many of `pending` go to each recipient: while any do, newer ones for it wait their turn. */
	private readonly pendingFor = new Map<string, number>();
	private commitScheduled = false;
	private readonly forwarded = new ForwardedEnvelopes();
	private cancelForwardedCommit: (() => void) | undefined;
	private readonly numbers: DeliveryNumbers;
	private readonly backlog: BacklogSender;
	private readonly store: RelayStore;
	private readonly limits: RelayLimits;
	private readonly timer: Timer;
	private readonly log: Logger;
	private readonly stats: AckStats;
	private readonly sessionOf: (username: string) => Session | undefined;
	private readonly catchUp: (username: string, session: Session) => void;
	private readonly accepted: (from: string, to: string) => void;

	constructor(options: DeliveryQueueOptions) {
		({store: this.store, limits: this.limits, timer: this.timer, log: this.log, stats: this.stats} = options);
		this.sessionOf = options.sessionOf;
		this.catchUp = options.catchUp;
		this.accepted = options.accepted;
		this.ledger = new QueueLedger(this.limits);
		this.ledger.reset(this.store.queueTotals(), this.store.roomItemTotals());
		this.numbers = new DeliveryNumbers(this.store, this.log);
		this.backlog = new BacklogSender({
			store: this.store,
			log: this.log,
			ledger: this.ledger,
			sessionOf: this.sessionOf,
			catchUp: this.catchUp,
			...(options.caughtUp === undefined ? {} : {caughtUp: options.caughtUp}),
		});
	}

	/** Commits what is forwarded but unacknowledged; the relay is going down. */
	stop(): void {
		this.cancelForwardedCommit?.();
		this.cancelForwardedCommit = undefined;
		this.commitForwarded(this.forwarded.takeAll(), {last: true});
	}

	/** Envelopes waiting for `username`, on disk or forwarded and not yet acknowledged. */
	waiting(username: string): number {
		return this.ledger.queued(username);
	}

	/** Stored bytes the relay holds for delivery, on disk or forwarded (queue-ledger.ts storedBytes). */
	get storedBytes(): number {
		return this.ledger.storedBytes;
	}

	/**
	 * A user logs in (`session`) or leaves (undefined): what was forwarded to an earlier session and
	 * not acknowledged goes to disk, so a backlog has it in order. Says whether it is there.
	 */
	commitForwardedTo(username: string): boolean {
		return this.commitForwarded(this.forwarded.takeFor(username));
	}

	/** A login: what waits goes out in order, and first to disk what was forwarded to an earlier session and is still in memory (the disk failed when it left); if the disk still fails, it tries again at the next login. */
	loggedIn(session: Session, username: string): void {
		if (this.commitForwardedTo(username)) this.deliverBacklog(session, username, 0);
		else session.sink.close();
	}

	/** Sends what waits for `username`, at the pace its connection reads (BacklogSender.deliver). */
	deliverBacklog(session: Session, username: string, after: number): void {
		this.backlog.deliver(session, username, after);
	}

	/**
	 * Checks the quotas, then either forwards the envelope at once (its recipient is
	 * online and caught up) or queues it for the commit at the end of this turn.
	 */
	accept(envelope: Envelope, to: string, from: string, time: number, priority: boolean): 'ok' | QuotaVerdict | 'storage_failed' {
		// A resend of an envelope still out with its recipient: the first copy will be answered.
		if (this.forwarded.holds(from, envelope.id, to)) return 'ok';
		const bytes = storedBytes(envelope);
		const quota = this.ledger.check(to, from, bytes, priority);
		if (quota !== 'ok') return quota;
		const delivery = this.numbers.take();
		if (delivery === undefined) return 'storage_failed';
		this.ledger.add(to, from, bytes);
		this.accepted(from, to);
		const numbered: NumberedEnvelope = {
			delivery,
			id: envelope.id,
			to,
			kind: envelope.kind,
			...(envelope.ratchet === undefined ? {ephemeral: envelope.ephemeral} : {ratchet: envelope.ratchet}),
			body: envelope.body,
			from,
			time,
		};
		const recipient = this.sessionOf(to);
		if (recipient && !recipient.catchingUp && !this.pendingFor.has(to)) {
			if (recipient.sink.hasRoom()) {
				// Added first: forwarding can end the recipient's session, whose leave commits it.
				this.forwarded.add(numbered);
				this.forward(recipient, numbered);
				this.scheduleForwardedCommit();
				return 'ok';
			}
			this.backlog.fallBehind(recipient, to);
		}
		this.pending.push(numbered);
		this.pendingFor.set(to, (this.pendingFor.get(to) ?? 0) + 1);
		if (!this.commitScheduled) {
			this.commitScheduled = true;
			queueMicrotask(() => this.commitPending());
		}
		return 'ok';
	}

	/**
	 * Only numbers delivered to this session and not yet acknowledged count: an ack
	 * touches at most as many rows as the session was sent, whatever numbers it lists.
	 */
	acknowledge(session: Session, username: string, deliveries: readonly number[]): void {
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
		// An ack that fails leaves the envelopes queued: they come again and the client drops the replays.
		const deleted = guardStorage(this.log, 'ack', () => this.store.ack(username, stored));
		if (deleted === undefined) {
			// Still queued: a later ack on this connection may delete them.
			for (const delivery of stored) session.delivered(delivery);
			return;
		}
		for (const row of deleted) this.ledger.remove(username, row.sender, row.bytes);
	}

	/**
	 * One transaction for everything queued in this turn of the event loop; only after it commits
	 * do senders hear `accepted` and online recipients get the envelope.
	 */
	private commitPending(): void {
		this.commitScheduled = false;
		const batch = this.pending;
		this.pending = [];
		this.pendingFor.clear();
		const stored = this.commit(batch);
		if (stored === undefined) {
			this.refuse(batch);
			return;
		}
		for (const [index, envelope] of batch.entries()) {
			this.answerAccepted(envelope);
			if (!stored[index]) continue;
			const recipient = this.sessionOf(envelope.to);
			if (!recipient || recipient.catchingUp) continue;
			if (recipient.sink.hasRoom()) this.forward(recipient, envelope);
			else this.backlog.fallBehind(recipient, envelope.to);
		}
	}

	private scheduleForwardedCommit(): void {
		if (this.cancelForwardedCommit === undefined && this.forwarded.size > 0) {
			this.cancelForwardedCommit = this.timer(() => this.commitOverdue(), this.limits.forwardedCommitMs);
		}
	}

	private commitOverdue(): void {
		this.cancelForwardedCommit = undefined;
		this.commitForwarded(this.forwarded.takeOverdue());
		this.scheduleForwardedCommit();
	}

	/**
	 * Forwarded envelopes that go to disk: their senders hear `accepted` once they are there. If the
	 * disk fails they stay forwarded (their recipient may have them already, and its ack still
	 * answers the sender) and the next period tries again; only when the relay stops (`last`) do
	 * their senders hear storage_failed. Says whether they are on disk.
	 */
	commitForwarded(envelopes: NumberedEnvelope[], {last = false} = {}): boolean {
		if (envelopes.length === 0) return true;
		if (this.commit(envelopes) === undefined) {
			if (last) this.refuse(envelopes);
			else for (const envelope of envelopes) this.forwarded.add(envelope);
			this.scheduleForwardedCommit();
			return false;
		}
		for (const envelope of envelopes) this.answerAccepted(envelope);
		return true;
	}

	/** Commits envelopes; says for each whether it was stored (false: a copy was already queued), or undefined if the disk failed. */
	private commit(envelopes: NumberedEnvelope[]): boolean[] | undefined {
		let stored: boolean[];
		try {
			stored = this.store.enqueue(envelopes);
		} catch (error) {
			// A full disk or a locked database must cost these envelopes a retry, never the relay.
			this.log('storage_error', {error: (error as {code?: string}).code ?? (error as Error).name, envelopes: envelopes.length});
			return undefined;
		}
		for (const [index, envelope] of envelopes.entries()) if (!stored[index]) this.uncount(envelope);
		return stored;
	}

	/** Not taken after all: the senders send them again, unchanged, after a pause. */
	private refuse(envelopes: NumberedEnvelope[]): void {
		for (const envelope of envelopes) {
			this.uncount(envelope);
			this.sessionOf(envelope.from)?.sink.send(errorMessage('storage_failed', storageFailedText, envelope.id));
		}
	}

	private forward(recipient: Session, envelope: NumberedEnvelope): void {
		// a sender who registered moments ago must be known before its first message arrives
		if (recipient.roster) this.catchUp(envelope.to, recipient);
		recipient.delivered(envelope.delivery);
		recipient.sink.sendJson(deliveredJson(envelope));
	}

	/** The envelope is safe (on disk, or acknowledged by its recipient): its sender, wherever it is now logged in, hears so. */
	private answerAccepted(envelope: NumberedEnvelope): void {
		this.sessionOf(envelope.from)?.sink.sendJson(acceptedJson(envelope));
	}

	private uncount(envelope: NumberedEnvelope): void {
		this.ledger.remove(envelope.to, envelope.from, storedBytes(envelope));
	}

	recount(): void {
		const totals = guardStorage(this.log, 'recount', () => ({queue: this.store.queueTotals(), rooms: this.store.roomItemTotals()}));
		if (totals === undefined) return;
		this.ledger.reset(totals.queue, totals.rooms);
		this.forwarded.forEach(envelope => this.ledger.add(envelope.to, envelope.from, storedBytes(envelope)));
	}
}
