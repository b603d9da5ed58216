import {roomLogOverhead, type DeletedItem, type DeliveredCount, type ItemCount, type RoomItemRead, type StoredRoomItem} from '../room-store.js';
import {int} from './pg-numbers.js';
import {PgRoomInvites} from './pg-room-invites.js';

type Numbers<T, K extends keyof T> = Omit<T, K> & {[P in K]: string};

/**
 * A room's stream (room_items) and the members' keys of its changes (room_keys): the part of
 * PgRoomStore (pg-rooms.ts) that reads and writes them. What must be atomic on its own is one
 * statement (data-modifying CTEs), so it is whether or not the caller opened a transaction.
 */
export class PgRoomItems extends PgRoomInvites {
	async insertRoomItem(item: StoredRoomItem): Promise<void> {
		await this.db.query('insert into room_items (room, seq, kind, sender, id, time, json, "of", bytes) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
			item.room,
			item.seq,
			item.kind,
			item.sender,
			item.id,
			item.time,
			item.json,
			item.of,
			item.bytes,
		]);
	}

	async roomMessageById(room: string, sender: string, id: string): Promise<{seq: number; time: number} | undefined> {
		const {rows} = await this.db.query<{seq: string; time: string}>(
			"select seq, time from room_items where room = $1 and sender = $2 and id = $3 and kind = 'message' limit 1",
			[room, sender, id],
		);
		return rows[0] === undefined ? undefined : {seq: int(rows[0].seq), time: int(rows[0].time)};
	}

	/** One statement for all of a change's keys (at most one per member). */
	async insertRoomKeys(room: string, seq: number, keys: ReadonlyArray<{member: string; json: string}>): Promise<void> {
		if (keys.length === 0) return;
		await this.db.query('insert into room_keys (room, seq, member, json) select $1, $2, member, json from unnest($3::text[], $4::text[]) as k (member, json)', [
			room,
			seq,
			keys.map(key => key.member),
			keys.map(key => key.json),
		]);
	}

	async deleteRoomKeys(room: string, member: string, seq: number): Promise<void> {
		await this.db.query('delete from room_keys where room = $1 and member = $2 and seq <= $3', [room, member, seq]);
	}

	async roomItemCounts(room: string): Promise<ItemCount[]> {
		const {rows} = await this.db.query<Numbers<ItemCount, 'count'>>(
			'select sender, kind, count(*) as count from room_items where room = $1 group by sender, kind order by sender, kind',
			[room],
		);
		return rows.map(row => ({sender: row.sender, kind: row.kind, count: int(row.count)}));
	}

	async roomItems(room: string, member: string, after: number, limit: number): Promise<RoomItemRead[]> {
		const {rows} = await this.db.query<Numbers<RoomItemRead, 'seq'>>(
			`select i.seq, i.kind, i.sender, i.json, k.json as key from room_items i
			left join room_keys k on k.room = i.room and k.seq = i.seq and k.member = $2
			where i.room = $1 and i.seq > $3 order by i.seq limit $4`,
			[room, member, after, limit],
		);
		return rows.map(row => ({seq: int(row.seq), kind: row.kind, sender: row.sender, json: row.json, key: row.key}));
	}

	async markDelivered(room: string, member: string, after: number, upTo: number): Promise<DeliveredCount[]> {
		const {rows} = await this.db.query<Numbers<DeliveredCount, 'seq' | 'delivered' | 'of'>>(
			`with counted as (update room_items set delivered = delivered + 1
				where room = $1 and seq > $2 and seq <= $3 and kind = 'message' and sender != $4
				returning seq, id, sender, delivered, "of")
			select * from counted order by seq`,
			[room, after, upTo, member],
		);
		return rows.map(row => ({seq: int(row.seq), id: row.id, sender: row.sender, delivered: int(row.delivered), of: int(row.of)}));
	}

	async deleteReadItems(room: string, seq: number): Promise<DeletedItem[]> {
		const {rows} = await this.db.query<Numbers<DeletedItem, 'bytes'> & {seq: string}>(
			`with keys as (delete from room_keys where room = $1 and seq <= $2),
			items as (delete from room_items where room = $1 and seq <= $2 returning seq, sender, kind, bytes)
			select * from items order by seq`,
			[room, seq],
		);
		return rows.map(row => ({sender: row.sender, kind: row.kind, bytes: int(row.bytes)}));
	}

	/** Every item and log entry: read once, when a relay starts (its quotas' ledger). */
	async roomItemTotals(): Promise<Array<{sender: string; bytes: number}>> {
		const {rows} = await this.db.query<{sender: string; bytes: string}>(
			`select sender, sum(bytes) as bytes from (select sender, bytes from room_items
			union all select author, length(entry) + $1 from room_log) as stored group by sender order by sender`,
			[roomLogOverhead],
		);
		return rows.map(row => ({sender: row.sender, bytes: int(row.bytes)}));
	}

	/**
	 * Deletes items accepted before `itemsBefore` with their keys, the readers whose departure item
	 * is gone (nothing is left for them to read: as SQLite, any such reader once an item was purged),
	 * and invitations made before `invitesBefore`. One statement: every part sees the tables as they
	 * were before it, so a departure item is gone unless it is there and of `itemsBefore` or later
	 * (no scan of `items` per departed reader: an anti-join the planner may make index probes).
	 */
	async purgeRooms(itemsBefore: number, invitesBefore: number): Promise<{items: number; invites: number}> {
		const {rows} = await this.db.query<{items: string; invites: string}>(
			`with items as (delete from room_items where time < $1 returning room, seq),
			keys as (delete from room_keys k using items i where k.room = i.room and k.seq = i.seq),
			departed as (delete from room_members m where m.until is not null and exists (select 1 from items)
				and not exists (select 1 from room_items i where i.room = m.room and i.seq = m.until and i.time >= $1)),
			invites as (delete from room_invites where time < $2 returning 1)
			select (select count(*) from items) as items, (select count(*) from invites) as invites`,
			[itemsBefore, invitesBefore],
		);
		return {items: int(rows[0]!.items), invites: int(rows[0]!.invites)};
	}
}
