import type {UserRecord} from '../net/messages.js';
import type {SessionSink} from './session.js';

/** User records per welcome or directory message: keeps each well inside one frame. */
export const directoryChunk = 200;

/**
 * Sends a welcome with the first records, then the rest in directory messages, each chunk only
 * while the connection has room (sink.hasRoom), so a client that reads slowly gets its directory
 * at its own pace instead of being dropped as a slow reader. `done` runs after the last chunk,
 * unless `stillWanted` said no meanwhile (the session ended).
 */
export function streamDirectory(
	sink: SessionSink,
	welcome: {username: string; motd: string | null},
	users: UserRecord[],
	stillWanted: () => boolean,
	done: () => void,
): void {
	const first = users.slice(0, directoryChunk);
	const more = users.length - first.length;
	sink.send({type: 'welcome', username: welcome.username, users: first, motd: welcome.motd, ...(more > 0 ? {more} : {})});
	let start = directoryChunk;
	const step = () => {
		if (!stillWanted()) return;
		while (start < users.length) {
			if (!sink.hasRoom()) {
				sink.whenWritable(step);
				return;
			}
			sink.send({type: 'directory', users: users.slice(start, start + directoryChunk)});
			start += directoryChunk;
		}
		done();
	};
	step();
}
