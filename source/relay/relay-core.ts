import type {Envelope, RelayMessage, UserRecord} from '../net/messages.js';
import {AccessGuard} from './access-guard.js';
import {AccountFloodGuards} from './flood-guard.js';
import {DeliveryQueue} from './delivery-queue.js';
import {directoryPageCount, namedDirectory, streamDirectory} from './directory-stream.js';
import {LookupGuard} from './lookup-guard.js';
import type {QuotaVerdict} from './queue-ledger.js';
import {PrekeyBook} from './prekey-book.js';
import {PresenceBatcher, realTimer} from './presence-batcher.js';
import {RoomBook} from './room-book.js';
import {emptyRelayStats, type RelayCoreOptions, type RelayStats} from './relay-core-options.js';
import {defaultRelayLimits, type RelayLimits} from './relay-options.js';
import type {RelayStore, StoredUser} from './relay-store.js';
import {Session} from './session.js';
import type {SessionContext, SessionSink} from './session-sink.js';
import {guardStorage} from './storage-guard.js';
import {UserDirectory} from './user-directory.js';
import {Listeners} from './who-view.js';

/**
 * The relay's chat rules: who is online, contacts, routing through the queue, presence and
 * announcements. It knows nothing about sockets or crypto transports; the bridge (connection.ts)
 * opens a Session per connection and gives it a sink. Nothing it holds grows with the number of
 * registered users: they stay on disk, read a name at a time.
 */
export class RelayCore {
	/** In login order: a login again moves to the end. */
	private readonly online = new Map<string, Session>();
	/** The online sessions that get presence: every one but headless clients. */
	private readonly listeners: Listeners<Session>;
	private readonly directory: UserDirectory;
	private readonly queue: DeliveryQueue;
	readonly limits: RelayLimits;
	readonly access: AccessGuard;
	readonly lookups: LookupGuard;
	readonly prekeys: PrekeyBook;
	readonly rooms: RoomBook;
	readonly stats: RelayStats = emptyRelayStats();
	private readonly presence: PresenceBatcher<Session>;
	/** @internal Each account's rate, for its session once logged in. */
	readonly floodGuards: AccountFloodGuards;

	constructor(
		readonly options: RelayCoreOptions,
		private readonly store: RelayStore,
	) {
		this.limits = {...defaultRelayLimits, ...options.limits};
		this.access = new AccessGuard(this.limits, options.clock);
		this.lookups = new LookupGuard(this.limits, options.clock);
		this.floodGuards = new AccountFloodGuards(this.limits, options.clock);
		const {clock, log} = options;
		const users = {registered: (username: string) => this.registered(username), knows: (from: string, to: string) => this.knows(from, to)};
		this.prekeys = new PrekeyBook({store, limits: this.limits, clock, log, lookups: this.lookups}, {
			...users,
			sinkOf: username => this.online.get(username)?.sink,
			sharesRoom: (a, b) => this.rooms.shareRoom(a, b),
		});
		this.listeners = new Listeners(this.limits, options.clock);
		this.directory = new UserDirectory(store, this.limits, options.clock, options.log);
		this.queue = new DeliveryQueue({
			store,
			limits: this.limits,
			timer: options.timer ?? realTimer,
			log: options.log,
			stats: this.stats,
			sessionOf: username => this.online.get(username),
			catchUp: (username, session) => {
				if (session.roster) this.presence.catchUp(username, session);
			},
			accepted: (from, to) => this.wrote(from, to),
			caughtUp: session => this.rooms.start(session, session.name!),
		});
		this.rooms = new RoomBook({store, limits: this.limits, clock, log, stats: this.stats, ledger: this.queue.ledger, lookups: this.lookups}, {
			...users,
			sessionOf: username => this.online.get(username),
			priority: username => this.access.hasPriority(this.registered(username)!), // a logged-in user: in memory
			used: username => void this.confirm(this.registered(username)!),
		});
		this.purgeExpired();
		this.lapseRegistrations();
		this.presence = new PresenceBatcher<Session>({
			...(options.presence ?? {enabled: true, flushMs: this.limits.presenceFlushMs, timer: realTimer}),
			clock: options.clock,
			observers: () => this.listeners.all.entries(),
			send: (session, message) => session.presence(message),
			audience: (about, observer) => this.directory.audience(about, observer === undefined ? this.listeners.all : new Set([observer])),
		});
	}

	/** Drops presence changes not yet sent and commits what is forwarded but unacknowledged; the relay is going down. */
	stop(): void {
		this.presence.stop();
		this.rooms.stop();
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

	/** An online account's record, or a point read. */
	registered(username: string): StoredUser | undefined {
		return this.online.get(username)?.user ?? this.directory.user(username);
	}

	/** Stored bytes waiting for delivery, as the quotas count them. */
	storedBytes(): number {
		return this.queue.storedBytes;
	}

	/** Pages (the welcome and each directory message) a login of `username` would be sent, before any signature is checked. */
	directoryPages(username: string): number {
		return directoryPageCount(this.directory.listedCount(username));
	}

	registeredCount(): number {
		return this.directory.count();
	}

	/** Deletes queued envelopes and room items older than maxQueueAgeMs (and old invitations); returns how many. */
	purgeExpired(): number {
		const purged = guardStorage(this.options.log, 'purge', () => this.store.purgeOlderThan(this.options.clock() - this.limits.maxQueueAgeMs)) ?? 0;
		if (purged > 0) this.options.log('queue_expired', {envelopes: purged});
		const items = this.rooms.purge();
		if (purged + items > 0) this.queue.recount();
		return purged + items;
	}

	/**
	 * Deletes the names registered more than registrationLapseMs ago and never used again (no
	 * second login, no message), with what waits for them and their contacts, unless they are
	 * online; returns how many.
	 */
	lapseRegistrations(): number {
		const deleted = this.directory.lapse(this.options.clock() - this.limits.registrationLapseMs, username => this.online.has(username));
		if (deleted > 0) {
			this.stats.lapsedRegistrations += deleted;
			this.options.log('registrations_lapsed', {users: deleted});
			this.queue.recount();
		}
		return deleted;
	}

	/** Forgets rate state and who-is-online views that have run out; the server calls it now and then. */
	sweep(): void {
		this.access.sweep();
		this.lookups.sweep();
		this.prekeys.sweep();
		this.floodGuards.sweep(username => this.online.has(username));
		this.listeners.sweep();
	}

	/**
	 * @internal Session calls this once a login has been verified. Says false if the relay is full
	 * and this login has no priority over anyone online (nothing was registered).
	 */
	admit(session: Session, username: string, register: StoredUser | undefined): boolean {
		if (!this.makeRoomFor(username, register)) return false;
		let user: StoredUser;
		if (register) {
			this.directory.register(register);
			this.access.registered(session.address);
			this.stats.registrations += 1;
			this.options.log('register', {user: username});
			user = register;
		} else {
			user = this.confirm(this.registered(username)!);
		}
		session.user = user;
		this.online.get(username)?.replace();
		this.online.set(username, session);
		session.catchingUp = true;
		const counts = {onlineCount: this.online.size, waiting: this.queue.waiting(username), prekeys: this.prekeys.count(username)};
		const welcome = {username, motd: this.options.motd, ...counts, ...this.rooms.welcomeRooms(username)};
		this.presence.joined(this.record(user), register !== undefined);
		if (!session.roster) {
			session.sink.send({type: 'welcome', ...welcome, users: [], online: []});
			this.queue.loggedIn(session, username);
			return true;
		}
		const listed = this.directory.listedFor(username);
		this.access.directorySent(session.address, directoryPageCount(listed.length));
		this.listeners.add(username, session);
		// Joins and leaves after this snapshot wait in the session until its list is out.
		this.presence.welcomed(session);
		session.holdPresence();
		const source = namedDirectory(listed, names => this.directory.named(names), listedUser => this.record(listedUser));
		streamDirectory(session.sink, {...welcome, online: this.listeners.view(username)}, source, () => session.open, () => {
			session.releasePresence();
			this.queue.loggedIn(session, username);
		});
		return true;
	}

	/** The answer to a `who`: no names for a headless client. */
	whoIsOnline(session: Session, username: string): RelayMessage {
		return {type: 'online', users: session.roster ? this.listeners.view(username) : [], total: this.online.size};
	}

	/** Whether `from` writes to `to` for free (section 4.3): a name it does not know costs a lookup token. */
	knows(from: string, to: string): boolean {
		return this.directory.knows(from, to);
	}

	/** The answer to a lookup of `names` (folded, valid, tokens paid); undefined if the disk failed. */
	lookup(asker: string, id: string, names: readonly string[]): RelayMessage | undefined {
		const answer = this.directory.lookup(asker, names);
		return answer && {type: 'found', id, users: answer.found.map(user => this.record(user)), missing: answer.missing};
	}

	/**
	 * `from` wrote to `to` and the relay took it: each becomes the other's contact. A recipient
	 * online that did not have the sender as a contact hears its record now, before the envelope.
	 */
	private wrote(from: string, to: string): void {
		const recipient = this.listeners.get(to);
		const sender = this.online.get(from)?.user;
		const introduce = recipient !== undefined && sender !== undefined && !this.directory.community;
		// What the recipient has yet to hear goes first, decided while the sender is not its
		// contact yet: a join of the sender waiting in the batch is not told twice.
		const added = this.directory.wrote(from, to, () => introduce && this.presence.catchUp(to, recipient));
		if (added && introduce) recipient.presence({type: 'user_joined', user: this.record(sender)});
	}

	/**
	 * Whether `username` may be online: there is room, or it is online already (the new session
	 * replaces the old), or it has priority and a newcomer gives up its place (the one idle longest).
	 */
	private makeRoomFor(username: string, register: StoredUser | undefined): boolean {
		if (this.online.size < this.limits.maxConnections || this.online.has(username)) return true;
		const user = register ?? this.registered(username)!;
		if (register !== undefined || !this.access.hasPriority(user)) return false;
		const victim = this.access.giving(this.online.values());
		if (victim === undefined) return false;
		this.stats.evictions += 1;
		this.options.log('evicted', {user: victim.name ?? null, for: username});
		victim.evict();
		return true;
	}

	/** The account was used again after it registered: it no longer lapses. */
	private confirm(user: StoredUser): StoredUser {
		const confirmed = this.directory.confirm(user);
		const session = this.online.get(user.username);
		if (session !== undefined) session.user = confirmed;
		return confirmed;
	}

	/** @internal */
	leave(session: Session, username: string): void {
		if (this.online.get(username) !== session) return;
		this.online.delete(username);
		this.listeners.remove(username);
		this.presence.left(username);
		// Read or not, they wait on disk for its next login, where a client that had read them drops them as replays.
		this.queue.commitForwardedTo(username);
	}

	/** @internal Routes an envelope from `from` (logged in) to `to`, within the quotas. */
	accept(envelope: Envelope, to: string, from: string, time: number): 'ok' | 'unknown_recipient' | QuotaVerdict | 'storage_failed' {
		const recipient = guardStorage(this.options.log, 'user', () => this.registered(to) ?? null);
		if (recipient === undefined) return 'storage_failed';
		if (recipient === null) return 'unknown_recipient';
		const sender = this.online.get(from)?.user;
		const verdict = this.queue.accept(envelope, to, from, time, sender !== undefined && this.access.hasPriority(sender));
		// A message to someone else is a use of the account; one to itself is not.
		if (verdict === 'ok' && to !== from && sender !== undefined) this.confirm(sender);
		return verdict;
	}

	/** @internal */
	acknowledge(session: Session, username: string, deliveries: readonly number[]): void {
		this.queue.acknowledge(session, username, deliveries);
	}

	private record({username, identity, x25519, binding}: StoredUser): UserRecord {
		return {username, online: this.online.has(username), identity, x25519, binding};
	}
}
