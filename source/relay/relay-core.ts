import type {Envelope, RelayMessage, UserRecord} from '../net/messages.js';
import {AccessGuard} from './access-guard.js';
import type {AsyncRelayStore} from './async-store.js';
import {ClusterBridge} from './cluster-bridge.js';
import {clusterRoomWakeups} from './cluster-room-wakeups.js';
import {CommitQueue} from './commit-queue.js';
import {AccountFloodGuards} from './flood-guard.js';
import {DeliveryQueue} from './delivery-queue.js';
import {directoryPageCount} from './directory-stream.js';
import {Logins, type Admitted} from './logins.js';
import {LookupGuard} from './lookup-guard.js';
import {andThen, type Maybe} from './maybe.js';
import type {QuotaVerdict} from './queue-ledger.js';
import {PrekeyBook} from './prekey-book.js';
import {PresenceBatcher, realTimer} from './presence-batcher.js';
import {RoomBook} from './room-book.js';
import {emptyRelayStats, type RelayCoreOptions, type RelayStats} from './relay-core-options.js';
import {defaultRelayLimits, type RelayLimits} from './relay-options.js';
import type {StoredUser} from './relay-store.js';
import {Session} from './session.js';
import type {SessionContext, SessionSink} from './session-sink.js';
import {guardStorage, inBackground} from './storage-guard.js';
import {UserDirectory} from './user-directory.js';
import {Listeners} from './who-view.js';

/** What becomes of an envelope a session sends. */
export type AcceptVerdict = 'ok' | 'unknown_recipient' | QuotaVerdict | 'storage_failed';

/**
 * The relay's chat rules: who is online, contacts, routing through the queue, presence and
 * announcements. It knows nothing about sockets or crypto transports; the bridge (connection.ts)
 * opens a Session per connection and gives it a sink. Nothing it holds grows with the number of
 * registered users: they stay in the store, read a name at a time. The store is asked
 * asynchronously (async-store.ts); what the message path needs at once (who is online, the quotas,
 * the caches) is kept in memory.
 */
export class RelayCore {
	/** In login order: a login again moves to the end. */
	private readonly online = new Map<string, Session>();
	/** The online sessions that get presence: every one but headless clients. */
	private readonly listeners: Listeners<Session>;
	private readonly directory: UserDirectory;
	private readonly queue: DeliveryQueue;
	/** From a verified login to a session online (logins.ts): one login of a name at a time. */
	private readonly logins: Logins;
	/** Commits of accepted work, one at a time: envelopes and room items (commit-queue.ts). */
	private readonly commits = new CommitQueue();
	readonly limits: RelayLimits;
	readonly access: AccessGuard;
	readonly lookups: LookupGuard;
	readonly prekeys: PrekeyBook;
	readonly rooms: RoomBook;
	readonly stats: RelayStats = emptyRelayStats();
	private readonly presence: PresenceBatcher<Session>;
	/** @internal Each account's rate, for its session once logged in. */
	readonly floodGuards: AccountFloodGuards;
	/** The other relays of the service; undefined for a relay alone. */
	private readonly cluster: ClusterBridge | undefined;

	private constructor(
		readonly options: RelayCoreOptions,
		private readonly store: AsyncRelayStore,
	) {
		this.limits = {...defaultRelayLimits, ...options.limits};
		this.access = new AccessGuard(this.limits, options.clock);
		this.lookups = new LookupGuard(this.limits, options.clock);
		this.floodGuards = new AccountFloodGuards(this.limits, options.clock);
		const {clock, log} = options;
		const users = {registered: (username: string) => this.registered(username), knows: (from: string, to: string) => this.knows(from, to)};
		const roomWakeups = options.roomWakeups ?? (options.cluster === undefined ? undefined : clusterRoomWakeups(options.cluster, log));
		this.prekeys = new PrekeyBook({store, limits: this.limits, clock, log, lookups: this.lookups}, {
			...users,
			sinkOf: username => this.online.get(username)?.sink,
			sharesRoom: (a, b) => this.rooms.shareRoom(a, b),
		});
		this.listeners = new Listeners(this.limits, options.clock);
		this.directory = new UserDirectory(store, this.limits, options.clock, options.log);
		this.queue = new DeliveryQueue({
			store,
			commits: this.commits,
			limits: this.limits,
			timer: options.timer ?? realTimer,
			log: options.log,
			stats: this.stats,
			sessionOf: username => this.online.get(username),
			catchUp: (username, session) => (session.roster ? this.presence.catchUp(username, session) : undefined),
			accepted: (from, to) => this.wrote(from, to),
			caughtUp: session => this.rooms.start(session, session.name!),
			...(options.cluster === undefined ? {} : {relayId: options.cluster.relayId, elsewhere: (username: string) => this.cluster?.isRemote(username) === true}),
		});
		this.rooms = new RoomBook(
			{
				store,
				commits: this.commits,
				limits: this.limits,
				clock,
				log,
				stats: this.stats,
				ledger: this.queue.ledger,
				lookups: this.lookups,
				...(roomWakeups === undefined ? {} : {wakeups: roomWakeups}),
			},
			{
				...users,
				sessionOf: username => this.online.get(username),
				elsewhere: username => this.cluster?.isRemote(username) === true,
				priority: username => {
					const user = this.online.get(username)?.user;
					return user !== undefined && this.access.hasPriority(user);
				},
				used: username => {
					const user = this.online.get(username)?.user;
					if (user !== undefined && !user.confirmed) inBackground(log, 'confirm', Promise.resolve(this.confirm(user)));
				},
			},
		);
		this.presence = new PresenceBatcher<Session>({
			...(options.presence ?? {enabled: true, flushMs: this.limits.presenceFlushMs, timer: realTimer}),
			clock: options.clock,
			observers: () => this.listeners.all.entries(),
			send: (session, message) => session.presence(message),
			audience: (about, observer) => this.directory.audience(about, observer === undefined ? this.listeners.all : new Set([observer])),
		});
		this.cluster =
			options.cluster === undefined
				? undefined
				: new ClusterBridge({
						cluster: options.cluster,
						log,
						sessionOf: username => this.online.get(username),
						userOf: async username => this.registered(username),
						joined: user => this.presence.joined(this.record(user), false),
						left: username => this.presence.left(username),
						woken: username => this.queue.woken(username),
					});
		this.logins = new Logins({
			motd: options.motd,
			log,
			maxConnections: this.limits.maxConnections,
			stats: this.stats,
			access: this.access,
			prekeys: this.prekeys,
			rooms: this.rooms,
			directory: this.directory,
			queue: this.queue,
			presence: this.presence,
			listeners: this.listeners,
			online: this.online,
			record: user => this.record(user),
			confirm: user => this.confirm(user),
			...(this.cluster === undefined ? {} : {cluster: this.cluster}),
		});
	}

	/**
	 * A relay core on `store`: what it keeps in memory read from the store, what expired purged and
	 * what lapsed deleted. A storage failure here rejects: the relay does not start.
	 */
	static async open(options: RelayCoreOptions, store: AsyncRelayStore): Promise<RelayCore> {
		const core = new RelayCore(options, store);
		await core.directory.load();
		await core.queue.load();
		await core.cluster?.load();
		await core.purgeExpired();
		await core.lapseRegistrations();
		return core;
	}

	/** Drops presence changes not yet sent and commits what was accepted, and what is forwarded but unacknowledged; the relay is going down. */
	async stop(): Promise<void> {
		this.presence.stop();
		await this.rooms.stop();
		await this.queue.stop();
	}

	openSession(sink: SessionSink, context: SessionContext): Session {
		return new Session(this, sink, context);
	}

	onlineCount(): number {
		return this.online.size;
	}

	/** Online here, or on another relay of the service. */
	isOnline(username: string): boolean {
		return this.online.has(username) || this.cluster?.isRemote(username) === true;
	}

	onlineUsernames(): string[] {
		return [...this.online.keys()].sort();
	}

	announce(text: string): void {
		const message: RelayMessage = {type: 'announcement', text, time: this.options.clock()};
		for (const session of this.online.values()) session.sink.send(message);
		this.options.log('announcement', {recipients: this.online.size, bytes: Buffer.byteLength(text)});
	}

	/** An online account's record, a cached one, or a point read (a storage failure rejects). */
	registered(username: string): Maybe<StoredUser | undefined> {
		return this.online.get(username)?.user ?? this.directory.user(username);
	}

	/** Stored bytes waiting for delivery, as the quotas count them. */
	storedBytes(): number {
		return this.queue.storedBytes;
	}

	/** Pages (the welcome and each directory message) a login of `username` would be sent, before any signature is checked. */
	async directoryPages(username: string): Promise<number> {
		return directoryPageCount(await this.directory.listedCount(username));
	}

	registeredCount(): number {
		return this.directory.count();
	}

	/** Deletes queued envelopes and room items older than maxQueueAgeMs (and old invitations); returns how many. */
	async purgeExpired(): Promise<number> {
		const before = this.options.clock() - this.limits.maxQueueAgeMs;
		const purged = (await guardStorage(this.options.log, 'purge', () => this.store.purgeOlderThan(before))) ?? 0;
		if (purged > 0) this.options.log('queue_expired', {envelopes: purged});
		const items = await this.rooms.purge();
		if (purged + items > 0) await this.recount();
		return purged + items;
	}

	/**
	 * Deletes the names registered more than registrationLapseMs ago and never used again (no
	 * second login, no message), with what waits for them and their contacts, unless they are
	 * online; returns how many. A login of such a name meanwhile goes first, or after it is gone.
	 */
	async lapseRegistrations(): Promise<number> {
		const lapsed = await this.directory.lapsed(this.options.clock() - this.limits.registrationLapseMs);
		let deleted = 0;
		for (const username of lapsed) {
			const gone = await this.logins.turn(username, async () => !this.online.has(username) && (await this.directory.deleteLapsed(username)));
			if (gone) deleted += 1;
		}
		if (deleted > 0) {
			await this.directory.lapsedDone();
			this.stats.lapsedRegistrations += deleted;
			this.options.log('registrations_lapsed', {users: deleted});
			await this.recount();
		}
		return deleted;
	}

	/**
	 * For a relay of a cluster, now and then: what other relays stored counts against the senders'
	 * quotas and the total here too (the per-recipient caps are held in the store itself).
	 */
	refreshTotals(): Promise<void> {
		return this.recount();
	}

	/** Counts again what waits, from the store and what is in memory, while nothing commits. */
	private recount(): Promise<void> {
		return this.commits.run(() => this.queue.recount(() => this.rooms.countPending()));
	}

	/** Forgets rate state and who-is-online views that have run out; the server calls it now and then. */
	sweep(): void {
		this.access.sweep();
		this.lookups.sweep();
		this.prekeys.sweep();
		this.floodGuards.sweep(username => this.online.has(username));
		this.listeners.sweep();
	}

	/** @internal Runs a login of `username` once every earlier login of that name is done. */
	oneLoginAt<T>(username: string, login: () => Promise<T>): Promise<T> {
		return this.logins.turn(username, login);
	}

	/**
	 * @internal Session calls this, holding the name's login turn, once a login has been verified
	 * (logins.ts). `existing` is the account as read for the login.
	 */
	admit(session: Session, username: string, register: StoredUser | undefined, existing: StoredUser | undefined): Promise<Admitted> {
		return this.logins.admit(session, username, register, existing);
	}

	/** The answer to a `who`: no names for a headless client. */
	whoIsOnline(session: Session, username: string): RelayMessage {
		const total = this.online.size + (this.cluster?.remoteCount ?? 0);
		if (!session.roster) return {type: 'online', users: [], total};
		const here = this.listeners.view(username);
		// Users online elsewhere fill the view after this relay's own, most recent first.
		const {whoLimit} = this.limits;
		const elsewhere = here.length < whoLimit && this.cluster !== undefined ? this.cluster.recent(whoLimit + 1).filter(name => name !== username) : [];
		return {type: 'online', users: [...here, ...elsewhere].slice(0, Math.max(0, whoLimit)), total};
	}

	/** Whether `from` writes to `to` for free (section 4.3): a name it does not know costs a lookup token. */
	knows(from: string, to: string): Maybe<boolean> {
		return this.directory.knows(from, to);
	}

	/** The answer to a lookup of `names` (folded, valid, tokens paid); undefined if the disk failed. */
	async lookup(asker: string, id: string, names: readonly string[]): Promise<RelayMessage | undefined> {
		const answer = await this.directory.lookup(asker, names);
		return answer && {type: 'found', id, users: answer.found.map(user => this.record(user)), missing: answer.missing};
	}

	/**
	 * `from` wrote to `to` and the relay took it: each becomes the other's contact. A recipient
	 * online that did not have the sender as a contact hears its record now, before the envelope.
	 */
	private wrote(from: string, to: string): Promise<void> | undefined {
		// Contacts both ways already, the common case: nothing to write, read or tell.
		if (this.directory.knowEachOther(from, to)) return undefined;
		return this.wroteToNew(from, to);
	}

	private async wroteToNew(from: string, to: string): Promise<void> {
		const recipient = this.listeners.get(to);
		const sender = this.online.get(from)?.user;
		const introduce = recipient !== undefined && sender !== undefined && !this.directory.community;
		// What the recipient has yet to hear goes first, decided while the sender is not its
		// contact yet: a join of the sender waiting in the batch is not told twice.
		const added = await this.directory.wrote(from, to, async () => {
			if (introduce) await this.presence.catchUp(to, recipient);
		});
		if (added && introduce) recipient.presence({type: 'user_joined', user: this.record(sender)});
	}

	/** The account was used again after it registered: it no longer lapses. */
	private confirm(user: StoredUser): Maybe<StoredUser> {
		return andThen(this.directory.confirm(user), confirmed => {
			const session = this.online.get(user.username);
			if (session !== undefined && confirmed !== user) session.user = confirmed;
			return confirmed;
		});
	}

	/** @internal */
	leave(session: Session, username: string): void {
		this.cluster?.release(session);
		if (this.online.get(username) !== session) return;
		this.online.delete(username);
		this.listeners.remove(username);
		// Replaced from another relay: still online, there.
		if (this.cluster?.isRemote(username) !== true) this.presence.left(username);
		// Read or not, they wait on disk for its next login, where a client that had read them drops them as replays.
		inBackground(this.options.log, 'commit', this.queue.commitForwardedTo(username));
		// Its acknowledgements still waiting are handled before a next session's backlog is read.
		const draining = session.idle();
		if (draining !== undefined) this.queue.afterSession(username, draining);
	}

	/** @internal Routes an envelope from `from` (logged in) to `to`, within the quotas: at once when all it needs is in memory. */
	accept(envelope: Envelope, to: string, from: string, time: number): Maybe<AcceptVerdict> {
		const recipient = this.registered(to);
		if (!(recipient instanceof Promise)) return recipient === undefined ? 'unknown_recipient' : this.route(envelope, to, from, time);
		return guardStorage(this.options.log, 'user', async () => (await recipient) ?? null).then(read =>
			read === undefined ? 'storage_failed' : read === null ? 'unknown_recipient' : this.route(envelope, to, from, time),
		);
	}

	private route(envelope: Envelope, to: string, from: string, time: number): Maybe<AcceptVerdict> {
		const sender = this.online.get(from)?.user;
		const verdict = this.queue.accept(envelope, to, from, time, sender !== undefined && this.access.hasPriority(sender));
		if (verdict instanceof Promise) return verdict.then(taken => this.used(taken, to, sender));
		return this.used(verdict, to, sender);
	}

	/** A message to someone else is a use of the account; one to itself is not. */
	private used(verdict: AcceptVerdict, to: string, sender: StoredUser | undefined): Maybe<AcceptVerdict> {
		if (verdict !== 'ok' || sender === undefined || sender.confirmed || to === sender.username) return verdict;
		return andThen(this.confirm(sender), () => verdict);
	}

	/** @internal */
	acknowledge(session: Session, username: string, deliveries: readonly number[]): Maybe<void> {
		return this.queue.acknowledge(session, username, deliveries);
	}

	private record({username, identity, x25519, binding}: StoredUser): UserRecord {
		return {username, online: this.isOnline(username), identity, x25519, binding};
	}
}
