import type {Logger} from './logger.js';
import {LoadedRoom} from './loaded-room.js';
import type {RoomStore} from './room-store.js';
import {guardStorage} from './storage-guard.js';

/**
 * The rooms in use, in memory (loaded-room.ts), the least recently used dropped past `capacity`
 * (read again when next used), never one with items not yet committed. A room costs at most about
 * maxRoomMembers records of memory.
 */
export class RoomCache {
	private readonly rooms = new Map<string, LoadedRoom>();

	constructor(
		private readonly store: RoomStore,
		private readonly log: Logger,
		private readonly capacity: number,
	) {}

	/** The room, loaded if need be; null if there is no such room, undefined if the database failed. */
	get(name: string): LoadedRoom | null | undefined {
		const cached = this.rooms.get(name);
		if (cached !== undefined) {
			this.rooms.delete(name);
			this.rooms.set(name, cached);
			return cached;
		}
		const loaded = guardStorage(this.log, 'room', () => {
			const row = this.store.room(name);
			return row === undefined ? null : LoadedRoom.load(row, this.store.roomMembers(name), this.store.roomItemCounts(name));
		});
		if (loaded) this.set(name, loaded);
		return loaded;
	}

	/** The room if it is in memory: no read. */
	peek(name: string): LoadedRoom | undefined {
		return this.rooms.get(name);
	}

	set(name: string, room: LoadedRoom): void {
		this.rooms.delete(name);
		this.rooms.set(name, room);
		if (this.rooms.size <= this.capacity) return;
		for (const [oldest, held] of this.rooms) {
			if (this.rooms.size <= this.capacity) return;
			if (held.pending === 0 && oldest !== name) this.rooms.delete(oldest);
		}
	}

	delete(name: string): void {
		this.rooms.delete(name);
	}

	/** Forgets every room (after a bulk delete on disk); the caller committed what was pending first. */
	clear(): void {
		for (const [name, room] of this.rooms) if (room.pending === 0) this.rooms.delete(name);
	}
}
