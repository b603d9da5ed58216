import {errorMessage, type Envelope, type RelayMessage, type UserRecord} from '../net/messages.js';
import {AccessGuard} from './access-guard.js';
import {streamDirectory} from './directory-stream.js';
import type {Logger} from './logger.js';
import {ForwardedEnvelopes} from './forwarded-envelopes.js';
import {QueueLedger, type QuotaVerdict} from './queue-ledger.js';
import {acceptedJson, deliveredJson} from './relay-json.js';
import {PresenceBatcher, realTimer, type Timer} from './presence-batcher.js';
import {defaultRelayLimits, type RelayLimits} from './relay-options.js';
import type {NumberedEnvelope, RelayStore, StoredUser} from './relay-store.js';
import {Session, type SessionContext, type SessionSink} from './session.js';

/**
 * The relay's chat rules: the directory of registered users, who is online, routing through the
 * queue, presence and announcements. It knows nothing about sockets or crypto transports; the
 * bridge (connection.ts) opens a Session per connection and gives it a sink.
 */
export type RelayCoreOptions = {
	motd: string | null;
	relayIdentity: Buffer;
	/** Every limit (relay-options.ts); the defaults for those absent. */
	limits?: Partial<RelayLimits>;
	/** Batched presence; on, every presenceFlushMs, with real timers when absent. */
	presence?: {enabled: boolean; flushMs: number; timer: Timer};
	/** Schedules commits of forwarded envelopes; real timers when absent. */
	timer?: Timer;
	clock: () => number;
	log: Logger;
};

/** What a sender is told when the relay could not take an envelope for now. */
export const storageFailedText = 'the relay could not store the message; send it again later';

/** Delivery numbers reserved in the database at a time: one small write per this many envelopes. */
const deliveryBlock = 65_536;

/** Queued envelopes read per step while a user catches up; each is sent only while the connection has room. */
const backlogPage = 64;

/** What the relay has done with the work clients asked of it: for operators, and for tests that count it. */
export type RelayStats = {
	/** Delivery numbers acknowledged that were this session's own and still outstanding. */
	ackedNumbers: number;
	/** ...and those ignored: never delivered to that session, or acknowledged already. */
	ignoredAckNumbers: number;
	/** Rows the database was asked to delete for acks. */
	ackDeletes: number;
	registrations: number;
	lapsedRegistrations: number;
	failedLogins: number;
	refusedLogins: number;
	/** Logged-in sessions of newcomers that gave their place to an account with priority. */
	evictions: number;
};

export class RelayCore {
	private readonly online = new Map<string, Session>();
	/** The online sessions that get presence: every one but headless clients. */
	private readonly listening = new Map<string, Session>();
	/** The directory sorted by name, made again only after a registration. */
	private sortedDirectory: StoredUser[] | undefined;
	private readonly directory = new Map<string, StoredUser>();
	private readonly ledger: QueueLedger;
	readonly limits: RelayLimits;
	readonly access: AccessGuard;
	readonly stats: RelayStats = {
		ackedNumbers: 0,
		ignoredAckNumbers: 0,
		ackDeletes: 0,
		registrations: 0,
		lapsedRegistrations: 0,
		failedLogins: 0,
		refusedLogins: 0,
		evictions: 0,
	};
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
	private readonly timer: Timer;

	constructor(
		readonly options: RelayCoreOptions,
		private readonly store: RelayStore,
	) {
		this.limits = {...defaultRelayLimits, ...options.limits};
		this.access = new AccessGuard(this.limits, options.clock);
		this.ledger = new QueueLedger(this.limits);
		for (const user of store.users()) this.directory.set(user.username, user);
		this.ledger.reset(store.queueTotals());
		this.purgeExpired();
		this.lapseRegistrations();
		this.timer = options.timer ?? realTimer;
		this.presence = new PresenceBatcher<Session>({
			...(options.presence ?? {enabled: true, flushMs: this.limits.presenceFlushMs, timer: realTimer}),
			clock: options.clock,
			observers: () => this.listening.entries(),
			send: (session, message) => session.presence(message),
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

	isOnline(username: string): boolean {
		return this.online.has(username);
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
		const purged = this.guarded('purge', () => this.store.purgeOlderThan(this.options.clock() - this.limits.maxQueueAgeMs)) ?? 0;
		if (purged > 0) {
			this.options.log('queue_expired', {envelopes: purged});
			this.recount();
		}
		return purged;
	}

	/**
	 * Deletes the names registered more than registrationLapseMs ago and never used again (no
	 * second login, no message), with what waits for them, unless they are online; returns how many.
	 */
	lapseRegistrations(): number {
		const lapsed = this.guarded('lapse', () => this.store.lapsedUsers(this.options.clock() - this.limits.registrationLapseMs)) ?? [];
		let deleted = 0;
		for (const username of lapsed) {
			if (this.online.has(username) || !this.guarded('lapse', () => (this.store.deleteUser(username), true))) continue;
			this.directory.delete(username);
			deleted += 1;
		}
		if (deleted > 0) {
			this.sortedDirectory = undefined;
			this.stats.lapsedRegistrations += deleted;
			this.options.log('registrations_lapsed', {users: deleted});
			this.recount();
		}
		return deleted;
	}

	/** Forgets rate state that has run out; the server calls it now and then. */
	sweep(): void {
		this.access.sweep();
	}

	private recount(): void {
		const totals = this.guarded('recount', () => this.store.queueTotals());
		if (totals === undefined) return;
		this.ledger.reset(totals);
		this.forwarded.forEach(envelope => this.ledger.add(envelope.to, envelope.from, envelope.body.length));
	}

	/**
	 * @internal Session calls this once a login has been verified. Says false if the relay is full
	 * and this login has no priority over anyone online (nothing was registered).
	 */
	admit(session: Session, username: string, register: StoredUser | undefined): boolean {
		if (!this.makeRoomFor(username, register)) return false;
		if (register) {
			this.store.registerUser(register);
			this.directory.set(username, register);
			this.sortedDirectory = undefined;
			this.access.registered(session.address);
			this.stats.registrations += 1;
			this.options.log('register', {user: username});
		} else {
			this.confirm(username);
		}
		this.online.get(username)?.replace();
		this.online.set(username, session);
		session.catchingUp = true;
		const backlog = () => {
			// Forwarded to an earlier session and still in memory (the disk failed when it left): on
			// disk first, so the backlog has them in order; if the disk still fails, try again later.
			if (!this.commitForwarded(this.forwarded.takeFor(username))) {
				session.sink.close();
				return;
			}
			this.deliverBacklog(session, username, 0);
		};
		if (session.roster) {
			this.listening.set(username, session);
			this.presence.joined(this.record(this.directory.get(username)!), register !== undefined);
			this.sortedDirectory ??= [...this.directory.values()].sort((a, b) => (a.username < b.username ? -1 : 1));
			const users = this.sortedDirectory.filter(user => user.username !== username).map(user => this.record(user));
			// Joins and leaves after this snapshot wait in the session until its directory is out.
			this.presence.welcomed(session);
			session.holdPresence();
			streamDirectory(session.sink, {username, motd: this.options.motd}, users, () => session.open, () => {
				session.releasePresence();
				backlog();
			});
		} else {
			this.presence.joined(this.record(this.directory.get(username)!), register !== undefined);
			session.sink.send({type: 'welcome', username, users: [], motd: this.options.motd});
			backlog();
		}
		return true;
	}

	/**
	 * Whether `username` may be online: there is room, or it is online already (the new session
	 * replaces the old), or it has priority and a newcomer gives up its place (the one idle longest).
	 */
	private makeRoomFor(username: string, register: StoredUser | undefined): boolean {
		if (this.online.size < this.limits.maxConnections || this.online.has(username)) return true;
		const user = register ?? this.directory.get(username)!;
		if (register !== undefined || !this.access.hasPriority(user)) return false;
		let victim: Session | undefined;
		for (const [name, session] of this.online) {
			if (this.access.hasPriority(this.directory.get(name)!)) continue;
			if (victim === undefined || session.lastActive < victim.lastActive) victim = session;
		}
		if (victim === undefined) return false;
		this.stats.evictions += 1;
		this.options.log('evicted', {user: victim.name ?? null, for: username});
		victim.evict();
		return true;
	}

	/** The account was used again after it registered: it no longer lapses. */
	private confirm(username: string): void {
		const user = this.directory.get(username);
		if (user === undefined || user.confirmed) return;
		if (!this.guarded('confirm', () => (this.store.confirmUser(username), true))) return;
		this.directory.set(username, {...user, confirmed: true});
		this.sortedDirectory = undefined;
	}

	/**
	 * Sends what waits for `username` a page at a time, each page once the connection has room,
	 * so a long queue never overruns maxBufferedBytes. Envelopes accepted meanwhile join the queue
	 * and go out in order with it; once it is empty, new ones are forwarded as they come.
	 */
	private deliverBacklog(session: Session, username: string, after: number): void {
		if (!session.open || this.online.get(username) !== session) return;
		if (after === 0 && this.ledger.queued(username) === 0) {
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
		for (const envelope of page) {
			if (!session.sink.hasRoom()) {
				session.sink.whenWritable(() => this.deliverBacklog(session, username, session.lastSent));
				return;
			}
			session.delivered(envelope.delivery);
			session.sink.send({type: 'message', ...envelope});
		}
		if (page.length < backlogPage) {
			session.catchingUp = false;
			return;
		}
		session.sink.whenWritable(() => this.deliverBacklog(session, username, page.at(-1)!.delivery));
	}

	/** A recipient whose connection has no room takes what comes next from the queue, at its own pace. */
	private fallBehind(session: Session, username: string): void {
		session.catchingUp = true;
		session.sink.whenWritable(() => this.deliverBacklog(session, username, session.lastSent));
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
	accept(envelope: Envelope, to: string, from: string, time: number): 'ok' | 'unknown_recipient' | QuotaVerdict | 'storage_failed' {
		if (!this.directory.has(to)) return 'unknown_recipient';
		// A resend of an envelope still out with its recipient: the first copy will be answered.
		if (this.forwarded.holds(from, envelope.id, to)) return 'ok';
		const bytes = envelope.body.length;
		const quota = this.ledger.check(to, from, bytes, this.access.hasPriority(this.directory.get(from)!));
		if (quota !== 'ok') return quota;
		const delivery = this.newDelivery();
		if (delivery === undefined) return 'storage_failed';
		this.ledger.add(to, from, bytes);
		this.access.sent(from);
		this.confirm(from);
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
			if (recipient.sink.hasRoom()) {
				// Added first: forwarding can end the recipient's session, whose leave commits it.
				this.forwarded.add(numbered);
				this.forward(recipient, numbered);
				this.scheduleForwardedCommit();
				return 'ok';
			}
			this.fallBehind(recipient, to);
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
	 * @internal Only numbers delivered to this session and not yet acknowledged count: an ack
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
			this.ledger.remove(envelope.to, envelope.from, envelope.body.length);
			this.answerAccepted(envelope);
		}
		if (stored.length === 0) return;
		this.stats.ackDeletes += stored.length;
		// An ack that fails leaves the envelopes queued: they come again and the client drops the replays.
		const deleted = this.guarded('ack', () => this.store.ack(username, stored)) ?? [];
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
			const recipient = this.online.get(envelope.to);
			if (!recipient || recipient.catchingUp) continue;
			if (recipient.sink.hasRoom()) this.forward(recipient, envelope);
			else this.fallBehind(recipient, envelope.to);
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
		for (const [index, envelope] of envelopes.entries()) if (!stored[index]) this.uncount(envelope);
		return stored;
	}

	/** Not taken after all: the senders send them again, unchanged, after a pause. */
	private refuse(envelopes: NumberedEnvelope[]): void {
		for (const envelope of envelopes) {
			this.uncount(envelope);
			this.online.get(envelope.from)?.sink.send(errorMessage('storage_failed', storageFailedText, envelope.id));
		}
	}

	private forward(recipient: Session, envelope: NumberedEnvelope): void {
		// a sender who registered moments ago must be known before its first message arrives
		if (recipient.roster) this.presence.catchUp(envelope.to, recipient);
		recipient.delivered(envelope.delivery);
		recipient.sink.sendJson(deliveredJson(envelope));
	}

	/** The envelope is safe (on disk, or acknowledged by its recipient): its sender, wherever it is now logged in, hears so. */
	private answerAccepted(envelope: NumberedEnvelope): void {
		this.online.get(envelope.from)?.sink.sendJson(acceptedJson(envelope));
	}

	private uncount(envelope: NumberedEnvelope): void {
		this.ledger.remove(envelope.to, envelope.from, envelope.body.length);
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
