import type {PrekeyCount, UserRecord, WelcomeRoom} from '../net/messages.js';
import type {StoredUser} from './relay-store.js';
import type {SessionSink} from './session-sink.js';

/** User records per welcome or directory message: keeps each well inside one frame. */
export const directoryChunk = 200;

/** Pages a login of a user with `records` contacts is sent: a welcome, then a directory message per further 200 records. */
export function directoryPageCount(records: number): number {
	return Math.max(1, Math.ceil(records / directoryChunk));
}

/** The directory as a login sees it: `total` records, made a chunk at a time. */
export type DirectorySource = {
	total: number;
	/** Records `start` to `end` (exclusive), made now; undefined if they can no longer all be made. */
	records(start: number, end: number): UserRecord[] | undefined;
};

/**
 * Sends a welcome with the first records, then the rest in directory messages, each chunk made and
 * sent only while the connection has room (sink.hasRoom), so a client that reads slowly gets its
 * directory at its own pace instead of being dropped as a slow reader, and the relay holds no
 * records per login, only names. `done` runs after the last chunk, unless `stillWanted` said no
 * meanwhile (the session ended).
 */
export function streamDirectory(
	sink: SessionSink,
	welcome: {username: string; motd: string | null; online: string[]; onlineCount: number; waiting: number; prekeys: PrekeyCount; rooms?: WelcomeRoom[]},
	directory: DirectorySource,
	stillWanted: () => boolean,
	done: () => void,
): void {
	const first = directory.records(0, Math.min(directoryChunk, directory.total)) ?? [];
	const more = directory.total - first.length;
	const {username, motd, online, onlineCount, waiting, prekeys, rooms} = welcome;
	sink.send({type: 'welcome', username, users: first, motd, ...(more > 0 ? {more} : {}), online, onlineCount, waiting, prekeys, ...(rooms === undefined ? {} : {rooms})});
	let start = first.length;
	const step = () => {
		if (!stillWanted()) return;
		while (start < directory.total) {
			if (!sink.hasRoom()) {
				sink.whenWritable(step);
				return;
			}
			const end = Math.min(start + directoryChunk, directory.total);
			const users = directory.records(start, end);
			if (users === undefined) {
				// The welcome announced records that are gone: the client reconnects for a whole list.
				sink.close();
				return;
			}
			sink.send({type: 'directory', users});
			start = end;
		}
		done();
	};
	step();
}

/**
 * The names a login lists (its contacts, or everyone on a community relay), as a source: only the
 * names are held while the list goes out (at most maxContacts + maxInboundContacts of them), and
 * each page's records are read as it goes, so whether a user is online is read then; the joins and leaves held
 * meanwhile follow the list. A name deleted meanwhile (it lapsed) leaves a page short: undefined.
 */
export function namedDirectory(
	names: readonly string[],
	read: (names: readonly string[]) => StoredUser[] | undefined,
	record: (user: StoredUser) => UserRecord,
): DirectorySource {
	return {
		total: names.length,
		records(start, end) {
			const users = read(names.slice(start, end));
			if (users === undefined || users.length !== end - start) return undefined;
			return users.map(user => record(user));
		},
	};
}
