import type {AsyncRoomStore} from '../async-store.js';
import {roomLogOverhead, type StoredRoom} from '../room-store.js';
import {int} from './pg-numbers.js';
import {PgRoomMembers} from './pg-room-members.js';

export {pgRoomSchema} from './pg-room-schema.js';

type RoomRow = {room: string; idx: string; head: string; creator: string; topic: Buffer; needs_rekey: boolean; last_seq: string};

const roomColumns = 'room, idx, head, creator, topic, needs_rekey, last_seq';

function roomValues(room: StoredRoom): unknown[] {
	return [room.room, room.index, room.head, room.creator, Buffer.from(room.topic, 'utf8'), room.needsRekey, room.lastSeq];
}

/**
 * The rooms of the relays sharing one PostgreSQL database (pg-room-schema.ts), meaning what
 * sqlite-rooms.ts's do (room-store.ts), through `db`: the pool, or the client of an open
 * transaction. Which it is cannot be told, so every method is atomic on its own: one statement
 * each. The parts are split by table: invitations (pg-room-invites.ts), the stream and its keys
 * (pg-room-items.ts), the readers (pg-room-members.ts); here the rooms' rows and logs.
 *
 * Several relays may race on one room: createRoom and moveRoomHead decide in the row (one wins),
 * and takeRoomSeqs bumps last_seq under the row's lock, held to the commit inside a transaction,
 * so the next relay's positions wait for this one's items to commit.
 */
export class PgRoomStore extends PgRoomMembers implements AsyncRoomStore {
	async room(room: string): Promise<StoredRoom | undefined> {
		const {rows} = await this.db.query<RoomRow>(`select ${roomColumns} from rooms where room = $1`, [room]);
		const row = rows[0];
		if (row === undefined) return undefined;
		return {
			room: row.room,
			index: int(row.idx),
			head: row.head,
			creator: row.creator,
			topic: row.topic.toString('utf8'),
			needsRekey: row.needs_rekey,
			lastSeq: int(row.last_seq),
		};
	}

	async saveRoom(room: StoredRoom): Promise<void> {
		await this.db.query(
			`insert into rooms (${roomColumns}) values ($1, $2, $3, $4, $5, $6, $7)
			on conflict (room) do update set idx = excluded.idx, head = excluded.head, creator = excluded.creator, topic = excluded.topic,
			needs_rekey = excluded.needs_rekey, last_seq = excluded.last_seq`,
			roomValues(room),
		);
	}

	async createRoom(room: StoredRoom): Promise<boolean> {
		const {rowCount} = await this.db.query(`insert into rooms (${roomColumns}) values ($1, $2, $3, $4, $5, $6, $7) on conflict (room) do nothing`, roomValues(room));
		return rowCount === 1;
	}

	/** A second relay's update waits for the first's row lock, then finds idx moved on and changes nothing. */
	async moveRoomHead(room: StoredRoom, expectedIndex: number): Promise<boolean> {
		const {rowCount} = await this.db.query(
			'update rooms set idx = $2, head = $3, creator = $4, topic = $5, needs_rekey = $6, last_seq = $7 where room = $1 and idx = $8',
			[...roomValues(room), expectedIndex],
		);
		return rowCount === 1;
	}

	async takeRoomSeqs(room: string, count: number): Promise<number> {
		if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`takeRoomSeqs: ${count} is not a positive count of positions`);
		const {rows} = await this.db.query<{last_seq: string}>('update rooms set last_seq = last_seq + $2 where room = $1 returning last_seq', [room, count]);
		if (rows[0] === undefined) throw new Error(`no room ${room}`);
		return int(rows[0].last_seq) - count + 1;
	}

	/** Everything of the room in one statement; the items' costs first (by position), then the log entries' (by index). */
	async deleteRoom(room: string): Promise<Array<{sender: string; bytes: number}>> {
		const {rows} = await this.db.query<{sender: string; bytes: string}>(
			`with items as (delete from room_items where room = $1 returning seq, sender, bytes),
			log as (delete from room_log where room = $1 returning idx, author, length(entry) + $2 as bytes),
			keys as (delete from room_keys where room = $1),
			members as (delete from room_members where room = $1),
			invites as (delete from room_invites where room = $1),
			gone as (delete from rooms where room = $1)
			select sender, bytes from (select 0 as part, seq as n, sender, bytes from items union all select 1, idx, author, bytes from log) as costs
			order by part, n`,
			[room, roomLogOverhead],
		);
		return rows.map(row => ({sender: row.sender, bytes: int(row.bytes)}));
	}

	async appendLog(room: string, index: number, entry: string): Promise<void> {
		await this.db.query('insert into room_log (room, idx, author, entry) values ($1, $2, $3, $4)', [room, index, logAuthor(entry), entry]);
	}

	async roomLog(room: string, from: number, limit: number): Promise<string[]> {
		const {rows} = await this.db.query<{entry: string}>('select entry from room_log where room = $1 and idx >= $2 order by idx limit $3', [room, from, limit]);
		return rows.map(row => row.entry);
	}
}

/** Whose bytes a log entry is: its author's (roomLogOverhead). */
function logAuthor(entry: string): string {
	let author: unknown;
	try {
		author = (JSON.parse(entry) as {author?: unknown} | null)?.author;
	} catch {
		throw new Error('a room log entry is JSON: this one is not');
	}
	if (typeof author !== 'string') throw new Error('a room log entry names its author: this one does not');
	return author;
}
