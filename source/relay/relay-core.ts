import {errorMessage, type Envelope, type RelayMessage, type UserRecord} from '../net/messages.js';
import type {FloodLimits} from './flood-guard.js';
import type {Logger} from './logger.js';
import {ForwardedEnvelopes} from './forwarded-envelopes.js';
import {acceptedJson, deliveredJson} from './relay-json.js';
import {PresenceBatcher, realTimer, type Timer} from './presence-batcher.js';
import {defaultRelayLimits} from './relay-options.js';
import type {NumberedEnvelope, RelayStore, StoredUser} from './relay-store.js';
import {Session, type SessionContext, type SessionSink} from './session.js';

/**
 * The relay's chat rules: the directory of registered users, who is online, routing through the
 * queue, presence and announcements. It knows nothing about sockets or crypto transports; the
 * bridge (connection.ts) opens a Session per connection and gives it a sink.
 */
export type RelayCoreOptions = {
	motd: string | null;
	maxBodyBytes: number;
	maxQueuedPerUser: number;
	maxQueueAgeMs: number;
	relayIdentity: Buffer;
	/** Per-connection rate limits; the defaults of relay-options.ts when absent. */
	rate?: FloodLimits;
	/** Batched presence; on, every presenceFlushMs, with real timers when absent. */
	presence?: {enabled: boolean; flushMs: number; timer: Timer};
	/**
	 * An envelope forwarded to an online recipient is committed to disk if not acknowledged within
	 * one to two periods of this (relay-options.ts forwardedCommitMs when absent).
	 */
	forwardedCommitMs?: number;
	/** Schedules those commits; real timers when absent. */
	timer?: Timer;
	clock: () => number;
	log: Logger;
};

/** What a sender is told when the relay could not take an envelope for now. */
export const storageFailedText = 'the relay could not store the message; send it again later';

/** Delivery numbers reserved in the database at a time: one small write per this many envelopes. */
const deliveryBlock = 65_536;

/** User records per welcome or directory message: keeps each well inside one frame. */
const directoryChunk = 200;
/** Queued envelopes read and sent per step while a user catches up. */
const backlogPage = 64;

export class RelayCore {
	private readonly online = new Map<string, Session>();
	/** The online sessions that get presence: every one but headless clients. */
	private readonly listening = new Map<string, Session>();
	/** The directory sorted by name, made again only after a registration. */
	private sortedDirectory: StoredUser[] | undefined;
	private readonly directory = new Map<string, StoredUser>();
	private queueCounts: Map<string, number>;
	/** Accepted in this turn for recipients offline or catching up: committed at the end of the turn. */
	private pending: NumberedEnvelope[] = [];
	/** How many of `pending` go to each recipient: while any do, newer ones for it wait their turn. */
	private readonly pendingFor = new Map<string, number>();
	private commitScheduled = false;
	private readonly forwarded = new ForwardedEnvelopes();
	private cancelForwardedCommit: (() => void) | undefined;
	private nextDelivery = 0;
	private deliveriesEnd = 0;
	private readonly presence: PresenceBatcher<Session>;
	readonly rate: FloodLimits;
	private readonly timer: Timer;
	private readonly forwardedCommitMs: number;

	constructor(
		readonly options: RelayCoreOptions,
		private readonly store: RelayStore,
	) {
		for (const user of store.users()) this.directory.set(user.username, user);
		this.queueCounts = store.queueCounts();
		this.purgeExpired();
		this.rate = options.rate ?? defaultRelayLimits;
		this.timer = options.timer ?? realTimer;
		this.forwardedCommitMs = options.forwardedCommitMs ?? defaultRelayLimits.forwardedCommitMs;
		this.presence = new PresenceBatcher<Session>({
			...(options.presence ?? {enabled: true, flushMs: defaultRelayLimits.presenceFlushMs, timer: realTimer}),
			clock: options.clock,
			observers: () => this.listening.entries(),
			send: (session, message) => session.sink.send(message),
		});
	}

	/** Drops presence changes not yet sent and commits what is forwarded but unacknowledged; the relay is going down. */
	stop(): void {
		this.presence.stop();
		this.cancelForwardedCommit?.();
		this.cancelForwardedCommit = undefined;
		this.commitForwarded(this.forwarded.takeAll(), {last: true});
	}

	openSession(sink: SessionSink, context: SessionContext): Session {
		return new Session(this, sink, context);
	}

	onlineCount(): number {
		return this.online.size;
	}

	onlineUsernames(): string[] {
		return [...this.online.keys()].sort();
	}

	announce(text: string): void {
		const message: RelayMessage = {type: 'announcement', text, time: this.options.clock()};
		for (const session of this.online.values()) session.sink.send(message);
		this.options.log('announcement', {recipients: this.online.size, bytes: Buffer.byteLength(text)});
	}

	registered(username: string): StoredUser | undefined {
		return this.directory.get(username);
	}

	registeredCount(): number {
		return this.directory.size;
	}

	/** Deletes queued envelopes older than maxQueueAgeMs; returns how many. */
	purgeExpired(): number {
		const purged = this.guarded('purge', () => this.store.purgeOlderThan(this.options.clock() - this.options.maxQueueAgeMs)) ?? 0;
		if (purged > 0) {
			this.options.log('queue_expired', {envelopes: purged});
			this.queueCounts = this.store.queueCounts();
			this.forwarded.addCountsTo(this.queueCounts);
		}
		return purged;
	}

	/** @internal Session calls this once a login has been verified. */
	admit(session: Session, username: string, register: StoredUser | undefined): void {
		if (register) {
			this.store.registerUser(register);
			this.directory.set(username, register);
			this.sortedDirectory = undefined;
			this.options.log('register', {user: username});
		}
		this.online.get(username)?.replace();
		this.online.set(username, session);
		if (session.roster) this.listening.set(username, session);
		this.presence.joined(this.record(this.directory.get(username)!), register !== undefined);
		if (session.roster) this.sendDirectory(session, username);
		else session.sink.send({type: 'welcome', username, users: [], motd: this.options.motd});
		session.catchingUp = true;
		// Forwarded to an earlier session and still in memory (the disk failed when it left): on
		// disk first, so the backlog has them in order; if the disk still fails, try again later.
		if (!this.commitForwarded(this.forwarded.takeFor(username))) {
			session.sink.close();
			return;
		}
		this.deliverBacklog(session, username, 0);
	}

	/** The welcome with everyone but `username`, the rest in directory messages. */
	private sendDirectory(session: Session, username: string): void {
		this.sortedDirectory ??= [...this.directory.values()].sort((a, b) => (a.username < b.username ? -1 : 1));
		const users = this.sortedDirectory.filter(user => user.username !== username).map(user => this.record(user));
		const first = users.slice(0, directoryChunk);
		const more = users.length - first.length;
		session.sink.send({type: 'welcome', username, users: first, motd: this.options.motd, ...(more > 0 ? {more} : {})});
		for (let start = directoryChunk; start < users.length; start += directoryChunk) {
			session.sink.send({type: 'directory', users: users.slice(start, start + directoryChunk)});
		}
		this.presence.welcomed(session);
	}

	/**
	 * Sends what waits for `username` a page at a time, each page once the connection has room,
	 * so a long queue never overruns maxBufferedBytes. Envelopes accepted meanwhile join the queue
	 * and go out in order with it; once it is empty, new ones are forwarded as they come.
	 */
	private deliverBacklog(session: Session, username: string, after: number): void {
		if (!session.open || this.online.get(username) !== session) return;
		if (after === 0 && (this.queueCounts.get(username) ?? 0) === 0) {
			// nothing waits (the counts include what is on disk): no need to ask the database
			session.catchingUp = false;
			return;
		}
		const page = this.guarded('backlog', () => this.store.queued(username, after, backlogPage));
		if (page === undefined) {
			// Nothing lost: the queue stays as it is and goes out at the next login.
			session.sink.close();
			return;
		}
		if (page.length > 0 && session.roster) this.presence.catchUp(username, session);
		for (const envelope of page) session.sink.send({type: 'message', ...envelope});
		if (page.length < backlogPage) {
			session.catchingUp = false;
			return;
		}
		session.sink.whenWritable(() => this.deliverBacklog(session, username, page.at(-1)!.delivery));
	}

	/** @internal */
	leave(session: Session, username: string): void {
		if (this.online.get(username) !== session) return;
		this.online.delete(username);
		this.listening.delete(username);
		this.presence.left(username);
		// It may have read them or not: they wait on disk for its next login, where a client that
		// had read them drops them as replays.
		this.commitForwarded(this.forwarded.takeFor(username));
	}

	/**
	 * @internal Checks the limits, then either forwards the envelope at once (its recipient is
	 * online and caught up) or queues it for the commit at the end of this turn.
	 */
	accept(envelope: Envelope, to: string, from: string, time: number): 'ok' | 'unknown_recipient' | 'queue_full' | 'storage_failed' {
		if (!this.directory.has(to)) return 'unknown_recipient';
		// A resend of an envelope still out with its recipient: the first copy will be answered.
		if (this.forwarded.holds(from, envelope.id, to)) return 'ok';
		const queued = this.queueCounts.get(to) ?? 0;
		if (queued >= this.options.maxQueuedPerUser) return 'queue_full';
		const delivery = this.newDelivery();
		if (delivery === undefined) return 'storage_failed';
		this.queueCounts.set(to, queued + 1);
		const numbered: NumberedEnvelope = {
			delivery,
			id: envelope.id,
			to,
			kind: envelope.kind,
			ephemeral: envelope.ephemeral,
			body: envelope.body,
			from,
			time,
		};
		const recipient = this.online.get(to);
		if (recipient && !recipient.catchingUp && !this.pendingFor.has(to)) {
			// Added first: forwarding can end the recipient's session (a slow reader), whose leave commits it.
			this.forwarded.add(numbered);
			this.forward(recipient, numbered);
			this.scheduleForwardedCommit();
			return 'ok';
		}
		this.pending.push(numbered);
		this.pendingFor.set(to, (this.pendingFor.get(to) ?? 0) + 1);
		if (!this.commitScheduled) {
			this.commitScheduled = true;
			queueMicrotask(() => this.commitPending());
		}
		return 'ok';
	}

	/** @internal */
	acknowledge(username: string, deliveries: readonly number[]): void {
		const stored: number[] = [];
		for (const delivery of deliveries) {
			const envelope = this.forwarded.take(username, delivery);
			if (envelope === undefined) {
				stored.push(delivery);
				continue;
			}
			this.uncount(envelope.to, 1);
			this.answerAccepted(envelope);
		}
		if (stored.length === 0) return;
		// An ack that fails leaves the envelopes queued: they come again and the client drops the replays.
		const deleted = this.guarded('ack', () => this.store.ack(username, stored)) ?? 0;
		this.uncount(username, deleted);
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
			const recipient = this.online.get(envelope.to);
			if (recipient && !recipient.catchingUp) this.forward(recipient, envelope);
		}
	}

	private scheduleForwardedCommit(): void {
		if (this.cancelForwardedCommit === undefined && this.forwarded.size > 0) {
			this.cancelForwardedCommit = this.timer(() => this.commitOverdue(), this.forwardedCommitMs);
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
	private commitForwarded(envelopes: NumberedEnvelope[], {last = false} = {}): boolean {
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
			this.options.log('storage_error', {error: (error as {code?: string}).code ?? (error as Error).name, envelopes: envelopes.length});
			return undefined;
		}
		for (const [index, envelope] of envelopes.entries()) if (!stored[index]) this.uncount(envelope.to, 1);
		return stored;
	}

	/** Not taken after all: the senders send them again, unchanged, after a pause. */
	private refuse(envelopes: NumberedEnvelope[]): void {
		for (const envelope of envelopes) {
			this.uncount(envelope.to, 1);
			this.online.get(envelope.from)?.sink.send(errorMessage('storage_failed', storageFailedText, envelope.id));
		}
	}

	private forward(recipient: Session, envelope: NumberedEnvelope): void {
		// a sender who registered moments ago must be known before its first message arrives
		if (recipient.roster) this.presence.catchUp(envelope.to, recipient);
		recipient.sink.sendJson(deliveredJson(envelope));
	}

	/** The envelope is safe (on disk, or acknowledged by its recipient): its sender, wherever it is now logged in, hears so. */
	private answerAccepted(envelope: NumberedEnvelope): void {
		this.online.get(envelope.from)?.sink.sendJson(acceptedJson(envelope));
	}

	private uncount(recipient: string, count: number): void {
		if (count > 0) this.queueCounts.set(recipient, Math.max(0, (this.queueCounts.get(recipient) ?? 0) - count));
	}

	private newDelivery(): number | undefined {
		if (this.nextDelivery >= this.deliveriesEnd) {
			const first = this.guarded('reserve', () => this.store.reserveDeliveries(deliveryBlock));
			if (first === undefined) return undefined;
			this.nextDelivery = first;
			this.deliveriesEnd = first + deliveryBlock;
		}
		return this.nextDelivery++;
	}

	/** Runs a store operation; a storage failure is logged and answered by the caller, never thrown. */
	private guarded<T>(operation: string, action: () => T): T | undefined {
		try {
			return action();
		} catch (error) {
			this.options.log('storage_error', {operation, error: (error as {code?: string}).code ?? (error as Error).name});
			return undefined;
		}
	}

	private record(user: StoredUser): UserRecord {
		return {
			username: user.username,
			online: this.online.has(user.username),
			identity: user.identity,
			x25519: user.x25519,
			binding: user.binding,
		};
	}
}
