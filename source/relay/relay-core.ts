import type {Envelope, RelayMessage, UserRecord} from '../net/messages.js';
import {AccessGuard} from './access-guard.js';
import {FloodGuard} from './flood-guard.js';
import {DeliveryQueue, type AckStats} from './delivery-queue.js';
import {directoryChunk, directoryWithout, streamDirectory, type DirectorySource} from './directory-stream.js';
import type {Logger} from './logger.js';
import type {QuotaVerdict} from './queue-ledger.js';
import {PresenceBatcher, realTimer, type Timer} from './presence-batcher.js';
import {defaultRelayLimits, type RelayLimits} from './relay-options.js';
import type {RelayStore, StoredUser} from './relay-store.js';
import {Session, type SessionContext, type SessionSink} from './session.js';
import {guardStorage} from './storage-guard.js';

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

/** What the relay has done with the work clients asked of it: for operators, and for tests that count it. */
export type RelayStats = AckStats & {
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
	private readonly queue: DeliveryQueue;
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
	private readonly presence: PresenceBatcher<Session>;
	/**
	 * Each account's rate, kept across its connections: logging in again does not refill it. An
	 * account's guard is forgotten once it is offline and its buckets have refilled.
	 */
	private readonly floodGuards = new Map<string, FloodGuard>();

	constructor(
		readonly options: RelayCoreOptions,
		private readonly store: RelayStore,
	) {
		this.limits = {...defaultRelayLimits, ...options.limits};
		this.access = new AccessGuard(this.limits, options.clock);
		for (const user of store.users()) this.directory.set(user.username, user);
		this.queue = new DeliveryQueue({
			store,
			limits: this.limits,
			timer: options.timer ?? realTimer,
			clock: options.clock,
			log: options.log,
			stats: this.stats,
			sessionOf: username => this.online.get(username),
			catchUp: (username, session) => {
				if (session.roster) this.presence.catchUp(username, session);
			},
		});
		this.purgeExpired();
		this.lapseRegistrations();
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
		this.queue.stop();
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

	/** Stored bytes waiting for delivery, as the quotas count them. */
	storedBytes(): number {
		return this.queue.storedBytes;
	}

	/** Directory messages a login with the directory is sent. */
	directoryPages(): number {
		return Math.ceil(this.directory.size / directoryChunk);
	}

	registeredCount(): number {
		return this.directory.size;
	}

	/** Deletes queued envelopes older than maxQueueAgeMs; returns how many. */
	purgeExpired(): number {
		const purged = guardStorage(this.options.log, 'purge', () => this.store.purgeOlderThan(this.options.clock() - this.limits.maxQueueAgeMs)) ?? 0;
		if (purged > 0) {
			this.options.log('queue_expired', {envelopes: purged});
			this.queue.recount();
		}
		return purged;
	}

	/**
	 * Deletes the names registered more than registrationLapseMs ago and never used again (no
	 * second login, no message), with what waits for them, unless they are online; returns how many.
	 */
	lapseRegistrations(): number {
		const lapsed = guardStorage(this.options.log, 'lapse', () => this.store.lapsedUsers(this.options.clock() - this.limits.registrationLapseMs)) ?? [];
		let deleted = 0;
		for (const username of lapsed) {
			if (this.online.has(username) || !guardStorage(this.options.log, 'lapse', () => (this.store.deleteUser(username), true))) continue;
			this.directory.delete(username);
			deleted += 1;
		}
		if (deleted > 0) {
			this.sortedDirectory = undefined;
			this.stats.lapsedRegistrations += deleted;
			this.options.log('registrations_lapsed', {users: deleted});
			this.queue.recount();
		}
		return deleted;
	}

	/** @internal The rate of `username`'s account, for its session once logged in. */
	floodGuardFor(username: string): FloodGuard {
		let guard = this.floodGuards.get(username);
		if (guard === undefined) {
			guard = new FloodGuard(this.limits, this.options.clock);
			this.floodGuards.set(username, guard);
		}
		return guard;
	}

	/** Forgets rate state that has run out; the server calls it now and then. */
	sweep(): void {
		this.access.sweep();
		for (const [username, guard] of this.floodGuards) if (!this.online.has(username) && guard.rested) this.floodGuards.delete(username);
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
			if (!this.queue.commitForwardedTo(username)) {
				session.sink.close();
				return;
			}
			this.queue.deliverBacklog(session, username, 0);
		};
		if (session.roster) {
			this.access.directorySent(session.address, this.directoryPages());
			this.listening.set(username, session);
			this.presence.joined(this.record(this.directory.get(username)!), register !== undefined);
			// Joins and leaves after this snapshot wait in the session until its directory is out.
			this.presence.welcomed(session);
			session.holdPresence();
			streamDirectory(session.sink, {username, motd: this.options.motd, online: [], onlineCount: this.online.size, waiting: 0}, this.directoryFor(username), () => session.open, () => {
				session.releasePresence();
				backlog();
			});
		} else {
			this.presence.joined(this.record(this.directory.get(username)!), register !== undefined);
			session.sink.send({type: 'welcome', username, users: [], motd: this.options.motd, online: [], onlineCount: this.online.size, waiting: 0});
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

	/** Everyone registered but `username`, in name order, as of now (directory-stream.ts). */
	private directoryFor(username: string): DirectorySource {
		this.sortedDirectory ??= [...this.directory.values()].sort((a, b) => (a.username < b.username ? -1 : 1));
		return directoryWithout(this.sortedDirectory, username, user => this.record(user));
	}

	/** The account was used again after it registered: it no longer lapses. */
	private confirm(username: string): void {
		const user = this.directory.get(username);
		if (user === undefined || user.confirmed) return;
		if (!guardStorage(this.options.log, 'confirm', () => (this.store.confirmUser(username), true))) return;
		// The sorted directory keeps the old object: records do not show `confirmed`.
		this.directory.set(username, {...user, confirmed: true});
	}



	/** @internal */
	leave(session: Session, username: string): void {
		if (this.online.get(username) !== session) return;
		this.online.delete(username);
		this.listening.delete(username);
		this.presence.left(username);
		// It may have read them or not: they wait on disk for its next login, where a client that
		// had read them drops them as replays.
		this.queue.commitForwardedTo(username);
	}

	/** @internal Routes an envelope from `from` (logged in) to a registered `to`, within the quotas. */
	accept(envelope: Envelope, to: string, from: string, time: number): 'ok' | 'unknown_recipient' | QuotaVerdict | 'storage_failed' {
		if (!this.directory.has(to)) return 'unknown_recipient';
		const verdict = this.queue.accept(envelope, to, from, time, this.access.hasPriority(this.directory.get(from)!));
		// A message to someone else is a use of the account; one to itself is not.
		if (verdict === 'ok' && to !== from) this.confirm(from);
		return verdict;
	}

	/** @internal */
	acknowledge(session: Session, username: string, deliveries: readonly number[]): void {
		this.queue.acknowledge(session, username, deliveries);
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

