import type {AsyncRoomStore} from './async-store.js';
import type {Logger} from './logger.js';
import {LoadedRoom} from './loaded-room.js';
import {guardStorage} from './storage-guard.js';

/**
 * The rooms in use, in memory (loaded-room.ts), the least recently used dropped past `capacity`
 * (read again when next used), never one in use (items not yet committed, a change under way). A
 * room costs at most about maxRoomMembers records of memory. A room is loaded once however many
 * ask for it at the same moment: everyone gets the one copy.
 */
export class RoomCache {
	private readonly rooms = new Map<string, LoadedRoom>();
	/** Loads under way; `stale` once the room was set or deleted meanwhile (what was read may be older). */
	private readonly loading = new Map<string, {done: Promise<LoadedRoom | null | undefined>; stale: boolean}>();

	constructor(
		private readonly store: Pick<AsyncRoomStore, 'room' | 'roomMembers' | 'roomItemCounts'>,
		private readonly log: Logger,
		private readonly capacity: number,
	) {}

	/** The room, loaded if need be; null if there is no such room, undefined if the database failed. */
	get(name: string): Promise<LoadedRoom | null | undefined> {
		const cached = this.rooms.get(name);
		if (cached !== undefined) {
			this.rooms.delete(name);
			this.rooms.set(name, cached);
			return Promise.resolve(cached);
		}
		let loading = this.loading.get(name);
		if (loading === undefined) {
			loading = {done: this.load(name), stale: false};
			this.loading.set(name, loading);
		}
		return loading.done;
	}

	private async load(name: string): Promise<LoadedRoom | null | undefined> {
		try {
			for (;;) {
				const loaded = await guardStorage(this.log, 'room', async () => {
					const row = await this.store.room(name);
					return row === undefined ? null : LoadedRoom.load(row, await this.store.roomMembers(name), await this.store.roomItemCounts(name));
				});
				const loading = this.loading.get(name)!;
				if (!loading.stale) {
					if (loaded) this.set(name, loaded);
					return loaded;
				}
				// Made, changed or deleted while this read was out: what is in memory is newer, and without it the read goes again.
				const current = this.rooms.get(name);
				if (current !== undefined) return current;
				loading.stale = false;
			}
		} finally {
			this.loading.delete(name);
		}
	}

	/** The rooms in memory. */
	names(): string[] {
		return [...this.rooms.keys()];
	}

	/** Whether the room is in memory or being read into it. */
	holds(name: string): boolean {
		return this.rooms.has(name) || this.loading.has(name);
	}

	/** The room if it is in memory: no read. */
	peek(name: string): LoadedRoom | undefined {
		return this.rooms.get(name);
	}

	set(name: string, room: LoadedRoom): void {
		this.invalidate(name);
		this.rooms.delete(name);
		this.rooms.set(name, room);
		if (this.rooms.size <= this.capacity) return;
		for (const [oldest, held] of this.rooms) {
			if (this.rooms.size <= this.capacity) return;
			if (!held.inUse && oldest !== name) this.rooms.delete(oldest);
		}
	}

	delete(name: string): void {
		this.invalidate(name);
		this.rooms.delete(name);
	}

	private invalidate(name: string): void {
		const loading = this.loading.get(name);
		if (loading !== undefined) loading.stale = true;
	}

	/** Forgets every room not in use (after a bulk delete on disk); the caller committed what was pending first. */
	clear(): void {
		for (const [name, room] of this.rooms) if (!room.inUse) this.rooms.delete(name);
		for (const loading of this.loading.values()) loading.stale = true;
	}
}
