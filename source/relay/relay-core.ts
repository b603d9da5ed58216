import type {Envelope, RelayMessage, UserRecord} from '../net/messages.js';
import type {AccessGuard} from './access-guard.js';
import type {AsyncRelayStore} from './async-store.js';
import type {ClusterBridge} from './cluster-bridge.js';
import {CommitQueue} from './commit-queue.js';
import type {AccountFloodGuards} from './flood-guard.js';
import type {DeliveryQueue} from './delivery-queue.js';
import {directoryPageCount} from './directory-stream.js';
import type {AcceptVerdict, EnvelopeRouting} from './envelope-routing.js';
import type {Admitted, Logins} from './logins.js';
import type {LookupGuard} from './lookup-guard.js';
import type {Maybe} from './maybe.js';
import type {PrekeyBook} from './prekey-book.js';
import type {PresenceBatcher} from './presence-batcher.js';
import type {RoomBook} from './room-book.js';
import {emptyRelayStats, type RelayCoreOptions, type RelayStats} from './relay-core-options.js';
import type {RelayLimits} from './relay-options.js';
import {relayParts, type CoreUsers} from './relay-parts.js';
import type {StoredUser} from './relay-store.js';
import type {RelayUpkeep} from './relay-upkeep.js';
import {Session} from './session.js';
import type {SessionContext, SessionSink} from './session-sink.js';
import {inBackground} from './storage-guard.js';
import type {UserDirectory} from './user-directory.js';
import type {Listeners} from './who-view.js';

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
	/** Envelopes from senders into the queue, and what writing does to accounts (envelope-routing.ts). */
	private readonly routing: EnvelopeRouting;
	/** Expiry, lapsed registrations and recounts (relay-upkeep.ts). */
	private readonly upkeep: RelayUpkeep;
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
		store: AsyncRelayStore,
	) {
		const users: CoreUsers = {
			registered: username => this.registered(username),
			knows: (from, to) => this.knows(from, to),
			record: user => this.record(user),
		};
		({
			limits: this.limits,
			access: this.access,
			lookups: this.lookups,
			floodGuards: this.floodGuards,
			prekeys: this.prekeys,
			listeners: this.listeners,
			directory: this.directory,
			queue: this.queue,
			rooms: this.rooms,
			presence: this.presence,
			routing: this.routing,
			cluster: this.cluster,
			logins: this.logins,
			upkeep: this.upkeep,
		} = relayParts(options, store, {online: this.online, commits: this.commits, stats: this.stats}, users));
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
	purgeExpired(): Promise<number> {
		return this.upkeep.purgeExpired();
	}

	/** Deletes the names registered long ago and never used again, unless they are online (relay-upkeep.ts); returns how many. */
	lapseRegistrations(): Promise<number> {
		return this.upkeep.lapseRegistrations();
	}

	/**
	 * For a relay of a cluster, now and then: what other relays stored counts against the senders'
	 * quotas and the total here too (the per-recipient caps are held in the store itself).
	 */
	refreshTotals(): Promise<void> {
		return this.upkeep.recount();
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

	/** @internal Routes an envelope from `from` (logged in) to `to`, within the quotas (envelope-routing.ts). */
	accept(envelope: Envelope, to: string, from: string, time: number): Maybe<AcceptVerdict> {
		return this.routing.accept(envelope, to, from, time);
	}

	/** @internal */
	acknowledge(session: Session, username: string, deliveries: readonly number[]): Maybe<void> {
		return this.queue.acknowledge(session, username, deliveries);
	}

	private record({username, identity, x25519, binding}: StoredUser): UserRecord {
		return {username, online: this.isOnline(username), identity, x25519, binding};
	}
}
