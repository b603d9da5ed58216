import type {RoomNotice, RoomReadCount} from './cluster.js';
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
	/** Wake-ups may have been missed (the link dropped) and it hears them again: every room in use here is read again. */
	onMissed?(handler: () => void): void;
	/** After the commit of an invitation, acceptance or decline: tells the users `to` on other relays (cluster.ts RoomNotice). */
	tell?(notice: RoomNotice, to: string[]): void;
	onNotice?(handler: (notice: RoomNotice, to: readonly string[]) => void): void;
	/** A read count for a sender logged in on another relay (gathered, sent a few times a second); onReadCounts hears the others'. */
	tellReadCount?(count: RoomReadCount): void;
	onReadCounts?(handler: (counts: readonly RoomReadCount[]) => void): void;
};

/** Least time between two reads of one room on a wake-up: what a busy room adds to its messages' way across relays, at most. */
const refreshGapMs = 100;

/**
 * The rooms in memory as a cache of the store's (design cluster.md): another relay's commit, or a
 * change that lost the compare-and-swap on the head, makes this relay read the room again. A read
 * runs under the room's reader lock (acknowledgements and changes hold it), so it never takes the
 * place of a position this relay is writing; one read per room at a time, and a request while one
 * runs makes it run once more after it.
 */
export class RoomRefresh {
	private readonly running = new Map<string, {again: boolean; done: Promise<void>}>();
	/** When each room read in the last refreshGapMs was read: the next read of it waits for the gap. */
	private readonly lastRead = new Map<string, number>();

	constructor(
		private readonly context: RoomContext,
		private readonly readers: KeyedLock,
	) {}

	/**
	 * Reads `name` again, then each reader here reads what follows its place; settles once a read
	 * begun after this call is done (never rejects). Work holding the room's reader lock, or the
	 * commit queue (which a change holding it waits for), must not wait for it.
	 */
	refresh(name: string): Promise<void> {
		const running = this.running.get(name);
		if (running !== undefined) {
			running.again = true;
			return running.done;
		}
		const run = {again: true, done: Promise.resolve()};
		this.running.set(name, run);
		run.done = (async () => {
			try {
				while (run.again) {
					// A busy room wakes every relay holding it at each message: without a gap each would read all
					// its members (1,000: ~9 ms) at one member's message rate, a core per relay.
					const wait = (this.lastRead.get(name) ?? -Infinity) + refreshGapMs - performance.now();
					if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait));
					run.again = false;
					await this.readers.run(name, () => this.woken(name));
					this.readAt(name);
				}
			} catch (error) {
				inBackground(this.context.log, 'room_refresh', Promise.reject(error));
			} finally {
				this.running.delete(name);
			}
		})();
		return run.done;
	}

	private readAt(name: string): void {
		const now = performance.now();
		this.lastRead.set(name, now);
		setTimeout(() => {
			if (this.lastRead.get(name) === now) this.lastRead.delete(name);
		}, refreshGapMs).unref();
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
		if (room === undefined) return;
		if (room !== null) await this.deleteRead(name, room);
		this.context.streams.woken(name, room, former);
	}

	/**
	 * Deletes the items every reader has read, as the store has the readers now: an acknowledgement
	 * on one relay deletes only up to the positions it knew of the others' readers, which the
	 * store may have moved since (one range of the stream's index; nothing when nothing waits).
	 */
	private async deleteRead(name: string, room: LoadedRoom): Promise<void> {
		if (room.waiting() === 0) return;
		const {store, log, ledger} = this.context;
		const deleted = await guardStorage(log, 'room_ack', () => store.deleteReadItems(name, room.minPosition()));
		for (const item of deleted ?? []) {
			room.itemsRemoved(item.sender, item.kind);
			ledger.removeRoomItem(item.sender, item.bytes);
		}
	}
}
