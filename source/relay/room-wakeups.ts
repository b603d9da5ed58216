import type {KeyedLock} from './keyed-lock.js';
import {LoadedRoom} from './loaded-room.js';
import type {RoomContext} from './room-context.js';
import {guardStorage, inBackground} from './storage-guard.js';

/**
 * How relays sharing one store tell each other that rooms changed: `wake` after a commit of items
 * or of a change (room names only, never contents); `onWake` hears the other relays'. A relay alone
 * (SQLite) has none.
 */
export type RoomWakeups = {
	wake(rooms: string[]): void;
	onWake(handler: (rooms: string[]) => void): void;
};

/**
 * The rooms in memory as a cache of the store's (design cluster.md): another relay's commit, or a
 * change that lost the compare-and-swap on the head, makes this relay read the room again. A read
 * runs under the room's reader lock (acknowledgements and changes hold it), so it never takes the
 * place of a position this relay is writing; one read per room at a time, and a request while one
 * runs makes it run once more after it.
 */
export class RoomRefresh {
	private readonly running = new Map<string, {again: boolean}>();

	constructor(
		private readonly context: RoomContext,
		private readonly readers: KeyedLock,
	) {}

	/** Reads `name` again in the background, then each reader here reads what follows its place. */
	refresh(name: string): void {
		const running = this.running.get(name);
		if (running !== undefined) {
			running.again = true;
			return;
		}
		const run = {again: true};
		this.running.set(name, run);
		const work = (async () => {
			try {
				while (run.again) {
					run.again = false;
					await this.readers.run(name, () => this.woken(name));
				}
			} finally {
				this.running.delete(name);
			}
		})();
		inBackground(this.context.log, 'room_refresh', work);
	}

	/**
	 * Reads the room again now, into the copy in memory if there is one (whoever holds it sees it);
	 * the caller holds the room's reader lock. Null: the room is gone; undefined: the store failed,
	 * and what is in memory stays.
	 */
	async reload(name: string): Promise<LoadedRoom | null | undefined> {
		const {cache, store, log} = this.context;
		const fresh = await guardStorage(log, 'room', async () => {
			const row = await store.room(name);
			return row === undefined ? null : LoadedRoom.load(row, await store.roomMembers(name), await store.roomItemCounts(name));
		});
		if (fresh === undefined) return undefined;
		const held = cache.peek(name);
		if (fresh === null) {
			cache.delete(name);
			return null;
		}
		if (held === undefined) {
			cache.set(name, fresh);
			return fresh;
		}
		held.adopt(fresh);
		return held;
	}

	private async woken(name: string): Promise<void> {
		const former = [...(this.context.cache.peek(name)?.readers.keys() ?? [])];
		const room = await this.reload(name);
		if (room !== undefined) this.context.streams.woken(name, room, former);
	}
}
