import type {UserRecord} from '../net/messages.js';
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
	welcome: {username: string; motd: string | null},
	directory: DirectorySource,
	stillWanted: () => boolean,
	done: () => void,
): void {
	const first = directory.records(0, Math.min(directoryChunk, directory.total));
	const more = directory.total - first.length;
	sink.send({type: 'welcome', username: welcome.username, users: first, motd: welcome.motd, ...(more > 0 ? {more} : {})});
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
