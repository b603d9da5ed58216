import type {PrekeyCount, RelayMessage, UserRecord, WelcomeRoom} from '../net/messages.js';
import type {StoredUser} from './relay-store.js';
import type {SessionSink} from './session-sink.js';

/** User records per welcome or directory message: keeps each well inside one frame. */
export const directoryChunk = 200;

/** Pages a login of a user with `records` contacts is sent: a welcome, then a directory message per further 200 records. */
export function directoryPageCount(records: number): number {
	return Math.max(1, Math.ceil(records / directoryChunk));
}

/** The directory as a login sees it: `total` records, read a chunk at a time. */
export type DirectorySource = {
	total: number;
	/** Users `start` to `end` (exclusive), read now; undefined if they can no longer all be read. */
	users(start: number, end: number): Promise<StoredUser[] | undefined>;
	/** A user's record as it is sent now (whether it is online is decided then). */
	record(user: StoredUser): UserRecord;
};

export type Welcome = {username: string; motd: string | null; online: string[]; onlineCount: number; waiting: number; prekeys: PrekeyCount; rooms?: WelcomeRoom[]};

/**
 * The users of the welcome's first chunk, read before the welcome goes (it goes at once, with the
 * login); none if they can no longer all be read (the stream then reads them again, and gives up).
 */
export async function firstChunk(directory: DirectorySource): Promise<StoredUser[]> {
	const end = Math.min(directoryChunk, directory.total);
	const users = await directory.users(0, end);
	return users !== undefined && users.length === end ? users : [];
}

/** The welcome with the first chunk of the directory; `more` says how many records follow in directory messages. */
export function welcomeMessage(welcome: Welcome, directory: DirectorySource, first: readonly StoredUser[]): RelayMessage {
	const more = directory.total - first.length;
	const {username, motd, online, onlineCount, waiting, prekeys, rooms} = welcome;
	const users = first.map(user => directory.record(user));
	return {type: 'welcome', username, users, motd, ...(more > 0 ? {more} : {}), online, onlineCount, waiting, prekeys, ...(rooms === undefined ? {} : {rooms})};
}

/**
 * Sends the rest of the directory after the welcome (from record `start`), in directory messages,
 * each chunk read and sent only while the connection has room (sink.hasRoom), so a client that
 * reads slowly gets its directory at its own pace instead of being dropped as a slow reader, and
 * the relay holds no records per login, only names. `done` runs after the last chunk, unless
 * `stillWanted` said no meanwhile (the session ended).
 */
export async function streamDirectory(sink: SessionSink, directory: DirectorySource, start: number, stillWanted: () => boolean, done: () => void): Promise<void> {
	while (start < directory.total) {
		if (!stillWanted()) return;
		if (!sink.hasRoom()) await new Promise<void>(resolve => sink.whenWritable(resolve));
		if (!stillWanted()) return;
		const end = Math.min(start + directoryChunk, directory.total);
		const users = await directory.users(start, end);
		if (!stillWanted()) return;
		if (users === undefined || users.length !== end - start) {
			// The welcome announced records that are gone: the client reconnects for a whole list.
			sink.close();
			return;
		}
		sink.send({type: 'directory', users: users.map(user => directory.record(user))});
		start = end;
	}
	if (stillWanted()) done();
}

/**
 * The names a login lists (its contacts, or everyone on a community relay), as a source: only the
 * names are held while the list goes out (at most maxContacts + maxInboundContacts of them), and
 * each page's records are read as it goes, so whether a user is online is read then; the joins and
 * leaves held meanwhile follow the list. A name deleted meanwhile (it lapsed) leaves a page short.
 */
export function namedDirectory(
	names: readonly string[],
	read: (names: readonly string[]) => Promise<StoredUser[] | undefined>,
	record: (user: StoredUser) => UserRecord,
): DirectorySource {
	return {total: names.length, users: (start, end) => read(names.slice(start, end)), record};
}
