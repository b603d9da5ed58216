import type {PrekeyCount, UserRecord, WelcomeRoom} from '../net/messages.js';
import type {AccessGuard} from './access-guard.js';
import type {DeliveryQueue} from './delivery-queue.js';
import {directoryPageCount, firstChunk, namedDirectory, streamDirectory, welcomeMessage, type DirectorySource} from './directory-stream.js';
import type {Logger} from './logger.js';
import type {PrekeyBook} from './prekey-book.js';
import type {PresenceBatcher} from './presence-batcher.js';
import type {StoredUser} from './relay-store.js';
import type {RoomBook} from './room-book.js';
import type {Session} from './session.js';
import {inBackground} from './storage-guard.js';
import type {UserDirectory} from './user-directory.js';
import type {Listeners} from './who-view.js';

/** What a welcome says that comes from the store: read before the login goes through, so the welcome goes at once with it. */
export type WelcomeReads = {prekeys: PrekeyCount; rooms: {rooms?: WelcomeRoom[]}; directory: DirectorySource | undefined; first: StoredUser[]};

export type WelcomeParts = {
	motd: string | null;
	log: Logger;
	access: AccessGuard;
	prekeys: PrekeyBook;
	rooms: RoomBook;
	directory: UserDirectory;
	queue: DeliveryQueue;
	presence: PresenceBatcher<Session>;
	listeners: Listeners<Session>;
	online: ReadonlyMap<string, Session>;
	record: (user: StoredUser) => UserRecord;
};

/**
 * The welcome of a login and what follows it: the rest of its directory, then its backlog, each
 * at the pace its connection reads. The welcome is the first thing a session is sent once it is
 * online, so nothing (a presence change, an invitation, an `accepted`) can come before it.
 */
export class Welcomes {
	constructor(private readonly parts: WelcomeParts) {}

	async read(session: Session, username: string): Promise<WelcomeReads> {
		const {prekeys, rooms, directory, record} = this.parts;
		const counted = await prekeys.count(username);
		const joined = await rooms.welcomeRooms(username);
		if (!session.roster) return {prekeys: counted, rooms: joined, directory: undefined, first: []};
		const listed = namedDirectory(await directory.listedFor(username), names => directory.named(names), record);
		return {prekeys: counted, rooms: joined, directory: listed, first: await firstChunk(listed)};
	}

	/** Sends the welcome as the session goes online (synchronously, with it); the rest goes on in the background. */
	send(session: Session, username: string, reads: WelcomeReads): void {
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
