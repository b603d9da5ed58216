import type {PrekeyCount, UserRecord, WelcomeRoom} from '../net/messages.js';
import type {AccessGuard} from './access-guard.js';
import type {ClusterBridge} from './cluster-bridge.js';
import {KeyedLock} from './keyed-lock.js';
import type {DeliveryQueue} from './delivery-queue.js';
import {directoryPageCount, firstChunk, namedDirectory, streamDirectory, welcomeMessage, type DirectorySource} from './directory-stream.js';
import type {Logger} from './logger.js';
import type {Maybe} from './maybe.js';
import type {PrekeyBook} from './prekey-book.js';
import type {PresenceBatcher} from './presence-batcher.js';
import type {RelayStats} from './relay-core-options.js';
import type {StoredUser} from './relay-store.js';
import type {RoomBook} from './room-book.js';
import type {Session} from './session.js';
import {inBackground} from './storage-guard.js';
import type {UserDirectory} from './user-directory.js';
import type {Listeners} from './who-view.js';

/** What a welcome says that comes from the store: read before the login goes through, so the welcome goes at once with it. */
export type WelcomeReads = {prekeys: PrekeyCount; rooms: {rooms?: WelcomeRoom[]}; directory: DirectorySource | undefined; first: StoredUser[]};

export type LoginParts = {
	motd: string | null;
	log: Logger;
	maxConnections: number;
	stats: RelayStats;
	access: AccessGuard;
	prekeys: PrekeyBook;
	rooms: RoomBook;
	directory: UserDirectory;
	queue: DeliveryQueue;
	presence: PresenceBatcher<Session>;
	listeners: Listeners<Session>;
	/** The relay's sessions online, by name, in login order: a login goes online here. */
	online: Map<string, Session>;
	record: (user: StoredUser) => UserRecord;
	/** The account was used again after it registered: it no longer lapses. */
	confirm: (user: StoredUser) => Maybe<StoredUser>;
	/** The other relays of the service; absent for a relay alone. */
	cluster?: ClusterBridge;
};

/**
 * How a login ended: online, or refused (the relay is full; the new name was registered meanwhile;
 * the connection ended meanwhile; the other relays of the service could not be told: PostgreSQL
 * out of reach, or this relay's lease lost).
 */
export type Admitted = 'ok' | 'full' | 'taken' | 'gone' | 'unavailable';

/**
 * A verified login on its way online: registered or confirmed, its welcome read, a place taken
 * (or given by an idle newcomer), then online with its welcome, and the rest of its directory and
 * its backlog after it at the pace its connection reads. The welcome is the first thing a session
 * is sent once it is online, so nothing (a presence change, an invitation, an `accepted`) can
 * come before it. Logins of one name run one at a time (`turn`): what one read stays true until
 * it is online or refused, and two logins of one identity end with exactly one session.
 */
export class Logins {
	private readonly names = new KeyedLock();

	constructor(private readonly parts: LoginParts) {}

	/** Runs a login of `username` once every earlier login (or lapse) of that name is done. */
	turn<T>(username: string, work: () => Promise<T>): Promise<T> {
		return this.names.run(username, work);
	}

	/** Takes a login verified in its turn online. `existing` is the account as read for it. */
	async admit(session: Session, username: string, register: StoredUser | undefined, existing: StoredUser | undefined): Promise<Admitted> {
		const {access, stats, log, directory, online, presence, record, confirm} = this.parts;
		// A new name takes no place on a full relay, and nothing is registered then.
		if (register !== undefined && !this.hasRoomFor(username)) return 'full';
		let user: StoredUser;
		if (register) {
			if (!(await directory.register(register))) return 'taken';
			access.registered(session.address);
			stats.registrations += 1;
			log('register', {user: username});
			user = register;
		} else {
			user = await confirm(existing!);
		}
		const welcome = await this.read(session, username);
		if (!session.open) return 'gone';
		if (!this.makeRoomFor(username, user, register !== undefined)) return 'full';
		const {cluster} = this.parts;
		// One session per identity in the whole service: a session elsewhere ends (session_replaced).
		if (cluster !== undefined) {
			if (!(await cluster.claim(session, username))) return 'unavailable';
			await this.parts.queue.senderLoggedIn(username);
			if (!session.open) return 'gone';
		}
		const wasElsewhere = cluster?.arrived(username) === true;
		session.user = user;
		online.get(username)?.replace();
		online.set(username, session);
		session.catchingUp = true;
		if (!wasElsewhere) presence.joined(record(user), register !== undefined);
		this.send(session, username, welcome);
		return 'ok';
	}

	/** Whether there is a place for `username` without anyone giving theirs. */
	private hasRoomFor(username: string): boolean {
		const {online, maxConnections} = this.parts;
		return online.size < maxConnections || online.has(username);
	}

	/**
	 * Whether `username` may be online: there is room, or it is online already (the new session
	 * replaces the old), or it has priority (never a new name) and a newcomer gives up its place
	 * (the one idle longest).
	 */
	private makeRoomFor(username: string, user: StoredUser, isNew: boolean): boolean {
		if (this.hasRoomFor(username)) return true;
		const {access, stats, log, online} = this.parts;
		if (isNew || !access.hasPriority(user)) return false;
		const victim = access.giving(online.values());
		if (victim === undefined) return false;
		stats.evictions += 1;
		log('evicted', {user: victim.name ?? null, for: username});
		victim.evict();
		return true;
	}

	private async read(session: Session, username: string): Promise<WelcomeReads> {
		const {prekeys, rooms, directory, record} = this.parts;
		const counted = await prekeys.count(username);
		const joined = await rooms.welcomeRooms(username);
		if (!session.roster) return {prekeys: counted, rooms: joined, directory: undefined, first: []};
		const listed = namedDirectory(await directory.listedFor(username), names => directory.named(names), record);
		return {prekeys: counted, rooms: joined, directory: listed, first: await firstChunk(listed)};
	}

	/** Sends the welcome as the session goes online (synchronously, with it); the rest goes on in the background. */
	private send(session: Session, username: string, reads: WelcomeReads): void {
		const {motd, log, access, queue, presence, listeners, online} = this.parts;
		const welcome = {username, motd, onlineCount: online.size, waiting: queue.waiting(username), prekeys: reads.prekeys, ...reads.rooms};
		const backlog = (): void => inBackground(log, 'backlog', queue.loggedIn(session, username), () => session.sink.close());
		const {directory} = reads;
		if (directory === undefined) {
			session.sink.send({type: 'welcome', ...welcome, users: [], online: []});
			backlog();
			return;
		}
		access.directorySent(session.address, directoryPageCount(directory.total));
		listeners.add(username, session);
		// Joins and leaves after this snapshot wait in the session until its list is out.
		presence.welcomed(session);
		session.holdPresence();
		session.sink.send(welcomeMessage({...welcome, online: listeners.view(username)}, directory, reads.first));
		const streamed = streamDirectory(session.sink, directory, reads.first.length, () => session.open, () => {
			session.releasePresence();
			backlog();
		});
		inBackground(log, 'directory', streamed, () => session.sink.close());
	}
}
