import type {UserRecord} from '../net/messages.js';
import type {StoredUser} from './relay-store.js';
import type {SessionSink} from './session.js';

/** User records per welcome or directory message: keeps each well inside one frame. */
export const directoryChunk = 200;

/** The directory as a login sees it: `total` records, made a chunk at a time. */
export type DirectorySource = {
	total: number;
	/** Records `start` to `end` (exclusive), made now. */
	records(start: number, end: number): UserRecord[];
};

/**
 * Sends a welcome with the first records, then the rest in directory messages, each chunk made and
 * sent only while the connection has room (sink.hasRoom), so a client that reads slowly gets its
 * directory at its own pace instead of being dropped as a slow reader, and the relay holds no copy
 * of the directory per login. `done` runs after the last chunk, unless `stillWanted` said no
 * meanwhile (the session ended).
 */
export function streamDirectory(
	sink: SessionSink,
	welcome: {username: string; motd: string | null; online: string[]; onlineCount: number; waiting: number},
	directory: DirectorySource,
	stillWanted: () => boolean,
	done: () => void,
): void {
	const first = directory.records(0, Math.min(directoryChunk, directory.total));
	const more = directory.total - first.length;
	const {username, motd, online, onlineCount, waiting} = welcome;
	sink.send({type: 'welcome', username, users: first, motd, ...(more > 0 ? {more} : {}), online, onlineCount, waiting});
	let start = first.length;
	const step = () => {
		if (!stillWanted()) return;
		while (start < directory.total) {
			if (!sink.hasRoom()) {
				sink.whenWritable(step);
				return;
			}
			const end = Math.min(start + directoryChunk, directory.total);
			sink.send({type: 'directory', users: directory.records(start, end)});
			start = end;
		}
		done();
	};
	step();
}

/**
 * `sorted` (by name) but `username`, as a source: a view, not a copy. The array must never change
 * (a registration or a lapse makes a new one), so a slow login holds one reference to it. Records
 * are made as each chunk goes out, so whether a user is online is read then; the joins and leaves
 * held meanwhile follow the directory.
 */
export function directoryWithout(sorted: readonly StoredUser[], username: string, record: (user: StoredUser) => UserRecord): DirectorySource {
	const self = indexOf(sorted, username);
	const at = (index: number) => sorted[self !== -1 && index >= self ? index + 1 : index]!;
	return {
		total: sorted.length - (self === -1 ? 0 : 1),
		records: (start, end) => Array.from({length: end - start}, (_, offset) => record(at(start + offset))),
	};
}

/** Where `username` is in `sorted` (by name), by bisection; -1 if it is not there. */
function indexOf(sorted: readonly StoredUser[], username: string): number {
	let low = 0;
	let high = sorted.length - 1;
	while (low <= high) {
		const middle = (low + high) >>> 1;
		const name = sorted[middle]!.username;
		if (name === username) return middle;
		if (name < username) low = middle + 1;
		else high = middle - 1;
	}
	return -1;
}
