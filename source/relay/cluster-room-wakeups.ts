import type {Cluster} from './cluster.js';
import type {Logger} from './logger.js';
import {ReadCountOutbox} from './read-count-outbox.js';
import type {RoomWakeups} from './room-wakeups.js';
import {guardStorage} from './storage-guard.js';

/** The rooms' wake-ups over the relay's tie to the others: `rooms` wake-ups, and a resync as wake-ups missed. */
export function clusterRoomWakeups(cluster: Cluster, log: Logger): RoomWakeups {
	const readCounts = new ReadCountOutbox(async counts => cluster.tellReadCounts(counts), log);
	return {
		wake(rooms) {
			// The store holds the items: a wake-up lost here leaves them to the other relays' next read of the room.
			void guardStorage(log, 'room_wake', async () => cluster.wake('rooms', rooms));
		},
		onWake(handler) {
			cluster.onWake((kind, names) => {
				if (kind === 'rooms') handler([...names]);
			});
		},
		onMissed(handler) {
			cluster.onResync(handler);
		},
		tell(notice, to) {
			// The store holds the invitation: a notice lost here leaves it to the user's next login.
			void guardStorage(log, 'room_notice', async () => cluster.tell(notice, to));
		},
		onNotice(handler) {
			cluster.onNotice(handler);
		},
		tellReadCount(count) {
			readCounts.add(count);
		},
		onReadCounts(handler) {
			cluster.onReadCounts(handler);
		},
	};
}
