import type {RoomKeyEnvelope} from '../net/messages.js';
import type {Logger} from './logger.js';
import type {LoadedRoom} from './loaded-room.js';
import type {RoomCache} from './room-cache.js';
import {withKey} from './room-json.js';
import type {AsyncRoomStore} from './async-store.js';
import type {RoomItemKind} from './room-store.js';
import type {Session} from './session.js';
import {guardStorage, inBackground} from './storage-guard.js';

/** Items read per step while a member catches up with a room; each is sent only while the connection has room. */
const roomPage = 64;

/**
 * A session's place in one room's stream: `sent` the last item it was given or passed over (its
 * own messages are not sent back to it), `delivered` the last one actually sent; `live` while it
 * is caught up, so new items go to it as they are committed (otherwise it reads them from disk);
 * `recheck` once something was committed while it read from disk: it reads once more before it is
 * caught up.
 */
export type Cursor = {live: boolean; sent: number; delivered: number; recheck?: boolean};

/** What one connection holds of rooms: its cursors, the rooms it is catching up with, and keys staged for its next change. */
export class SessionRooms {
	/** Set once the session has had its 1:1 backlog and its invitations: until then it reads nothing of rooms. */
	started = false;
	/** Its invitations and join requests are going out (room-invites.ts atLogin). */
	starting = false;
	readonly cursors = new Map<string, Cursor>();
	/** Rooms whose items it reads from disk, in turn. */
	readonly behind: string[] = [];
	pumping = false;
	staged: {room: string; keys: RoomKeyEnvelope[]; bytes: number} | undefined;
}

/** An item just committed, to send to the readers who are caught up; `keys` holds each member's key of a change (JSON). */
export type CommittedItem = {room: string; seq: number; kind: RoomItemKind; sender: string; json: string; keys?: ReadonlyMap<string, string>};

export type RoomStreamsOptions = {
	store: Pick<AsyncRoomStore, 'memberRooms' | 'roomItems'>;
	cache: RoomCache;
	log: Logger;
	stats: {roomDeliveries: number};
	/** The session logged in as `username`, if any. */
	sessionOf: (username: string) => Session | undefined;
	/** A room in memory whose reader positions the store has otherwise (another relay moved them): read it again. */
	stale?: (room: string) => Promise<void>;
};

/**
 * Rooms' streams to their readers: one copy of each item, its JSON made once, sent to every reader
 * online and caught up as it is committed; a reader that logs in, or whose connection has no room,
 * reads what it missed from disk a page at a time at the pace its connection reads (like
 * backlog-sender.ts), then is caught up again.
 */
export class RoomStreams {
	private readonly sessions = new WeakMap<Session, SessionRooms>();
	/** Per room, who has had a cursor in it on this relay: whom a wake-up about it concerns (cleared as it finds them gone). */
	private readonly places = new Map<string, Set<string>>();

	constructor(private readonly options: RoomStreamsOptions) {}

	of(session: Session): SessionRooms {
		let rooms = this.sessions.get(session);
		if (rooms === undefined) {
			rooms = new SessionRooms();
			this.sessions.set(session, rooms);
		}
		return rooms;
	}

	/** The session had its 1:1 backlog: it now reads every room of its user from where it left off. Once per session. */
	async start(session: Session, username: string): Promise<void> {
		const rooms = this.of(session);
		if (rooms.started) return;
		const joined = await guardStorage(this.options.log, 'rooms', () => this.options.store.memberRooms(username));
		if (rooms.started || !session.open) return;
		if (joined === undefined) {
			session.sink.close();
			return;
		}
		rooms.started = true;
		for (const {room, position} of joined) {
			// A room it joined while this read was out has its cursor already (deliver), at its position.
			if (rooms.cursors.has(room)) continue;
			this.place(room, username);
			// It read elsewhere (another relay) since this relay last read the room.
			if (this.options.cache.peek(room)?.readers.get(username)?.position !== position) void this.options.stale?.(room);
			rooms.cursors.set(room, {live: false, sent: position, delivered: position});
			rooms.behind.push(room);
		}
		this.pump(session, username);
	}

	/**
	 * `username` starts reading `room` afresh (it was added, or made the room): a place its session
	 * kept from an earlier membership, or from a room of that name since deleted (whose stream
	 * counted from 1 too), must not skip the new items as already sent.
	 */
	restart(room: string, username: string): void {
		const session = this.options.sessionOf(username);
		if (session !== undefined) this.sessions.get(session)?.cursors.delete(room);
	}

	/** Sends a committed item to each of the room's readers who is online and caught up. */
	deliver(room: LoadedRoom, item: CommittedItem): void {
		for (const [name, reader] of room.readers) {
			if (reader.until !== undefined && item.seq > reader.until) continue;
			const session = this.options.sessionOf(name);
			if (session === undefined || !session.open) continue;
			const rooms = this.sessions.get(session);
			if (rooms === undefined || !rooms.started) continue;
			const cursor = rooms.cursors.get(item.room);
			if (cursor === undefined) {
				// A room it just joined: its stream starts at its position, on disk already.
				this.place(item.room, name);
				rooms.cursors.set(item.room, {live: false, sent: reader.position, delivered: reader.position});
				this.fallBehind(session, name, item.room);
				continue;
			}
			if (item.seq <= cursor.sent) continue;
			if (!cursor.live) {
				cursor.recheck = true;
				continue;
			}
			if (item.seq > cursor.sent + 1) {
				// Items between were committed by another relay: read from disk, in order.
				cursor.live = false;
				this.fallBehind(session, name, item.room);
				continue;
			}
			if (item.kind === 'message' && item.sender === name) {
				cursor.sent = item.seq;
				continue;
			}
			if (!session.sink.hasRoom()) {
				cursor.live = false;
				this.fallBehind(session, name, item.room);
				continue;
			}
			session.sink.sendJson(withKey(item.json, item.keys?.get(name)));
			cursor.sent = item.seq;
			cursor.delivered = item.seq;
			this.options.stats.roomDeliveries += 1;
		}
	}

	/**
	 * Another relay committed to `room` (read again: `room`, null if it is gone; `former` who read
	 * it before): each reader here reads what follows its place from disk, in order, as after a
	 * drop; one whose place in it ended forgets it.
	 */
	woken(name: string, room: LoadedRoom | null, former: readonly string[]): void {
		const names = new Set([...(this.places.get(name) ?? []), ...former, ...(room?.readers.keys() ?? [])]);
		for (const username of names) {
			const session = this.options.sessionOf(username);
			const rooms = session === undefined ? undefined : this.sessions.get(session);
			const cursor = rooms?.cursors.get(name);
			const reader = room?.readers.get(username);
			if (session === undefined || !session.open || rooms === undefined || !rooms.started || reader === undefined) {
				if (cursor !== undefined && reader === undefined) rooms!.cursors.delete(name);
				if (cursor === undefined || reader === undefined) this.unplace(name, username);
				continue;
			}
			// A new place: added there.
			if (cursor === undefined) {
				this.place(name, username);
				rooms.cursors.set(name, {live: false, sent: reader.position, delivered: reader.position});
			} else {
				cursor.live = false;
				cursor.recheck = true;
			}
			this.fallBehind(session, username, name);
		}
	}

	/** Whether someone here has a place in `room`. */
	hasPlace(room: string): boolean {
		return this.places.has(room);
	}

	/** The rooms someone here has had a place in (what a missed wake-up may concern). */
	placed(): string[] {
		return [...this.places.keys()];
	}

	private place(room: string, username: string): void {
		let names = this.places.get(room);
		if (names === undefined) {
			names = new Set();
			this.places.set(room, names);
		}
		names.add(username);
	}

	private unplace(room: string, username: string): void {
		const names = this.places.get(room);
		names?.delete(username);
		if (names?.size === 0) this.places.delete(room);
	}

	/** The session reads `room` from disk from its cursor on, once its connection has room. */
	private fallBehind(session: Session, username: string, room: string): void {
		const rooms = this.of(session);
		if (!rooms.behind.includes(room)) rooms.behind.push(room);
		if (rooms.pumping) return;
		rooms.pumping = true;
		session.sink.whenWritable(() => {
			rooms.pumping = false;
			this.pump(session, username);
		});
	}

	/** Sends what the session missed, room after room, a page at a time, only while its connection has room; one pump per session at a time. */
	private pump(session: Session, username: string): void {
		const rooms = this.of(session);
		if (rooms.pumping) return;
		rooms.pumping = true;
		inBackground(this.options.log, 'room_backlog', this.pumped(session, username, rooms), () => session.sink.close());
	}

	private async pumped(session: Session, username: string, rooms: SessionRooms): Promise<void> {
		const {store, cache, log, stats, sessionOf} = this.options;
		const current = (): boolean => session.open && sessionOf(username) === session;
		while (rooms.behind.length > 0) {
			if (!current()) return;
			const name = rooms.behind[0]!;
			const room = await cache.get(name);
			if (!current()) return;
			const reader = room?.readers.get(username);
			const cursor = rooms.cursors.get(name);
			if (cursor === undefined) {
				// It read the room's end (deleted, or it starts again: restart).
				rooms.behind.shift();
				continue;
			}
			if (room === undefined) {
				// Nothing lost: it reads the rest at its next login.
				session.sink.close();
				return;
			}
			if (reader === undefined) {
				rooms.cursors.delete(name);
				rooms.behind.shift();
				continue;
			}
			if (cursor.sent < reader.position) cursor.sent = cursor.delivered = reader.position;
			const end = reader.until ?? Number.POSITIVE_INFINITY;
			const after = cursor.sent;
			cursor.recheck = false;
			const page = await guardStorage(log, 'room_backlog', () => store.roomItems(name, username, after, roomPage));
			if (!current()) return;
			if (page === undefined) {
				session.sink.close();
				return;
			}
			// The cursor moved meanwhile (the room started again for it, or it was deleted): read it afresh.
			if (rooms.cursors.get(name) !== cursor || cursor.sent !== after) continue;
			let done = page.length < roomPage;
			for (const item of page) {
				if (item.seq > end) {
					done = true;
					break;
				}
				if (!session.sink.hasRoom()) {
					await new Promise<void>(resolve => session.sink.whenWritable(resolve));
					if (!current()) return;
					if (rooms.cursors.get(name) !== cursor) break;
				}
				if (item.seq <= cursor.sent) continue;
				if (item.kind !== 'message' || item.sender !== username) {
					session.sink.sendJson(withKey(item.json, item.key));
					cursor.delivered = item.seq;
					stats.roomDeliveries += 1;
				}
				cursor.sent = item.seq;
			}
			if (rooms.cursors.get(name) !== cursor) continue;
			if (cursor.sent >= end || (done && !cursor.recheck)) {
				cursor.live = true;
				cursor.recheck = false;
				rooms.behind.shift();
			}
		}
		rooms.pumping = false;
	}
}
