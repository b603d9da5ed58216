import type {MemberRoom, StoredMember} from '../room-store.js';
import {int} from './pg-numbers.js';
import {PgRoomItems} from './pg-room-items.js';

type MemberRow = Omit<StoredMember, 'position' | 'until'> & {position: string; until: string | null};
type MemberRoomRow = {room: string; admin: boolean; position: string; until: string | null; last_seq: string};

/** Those who read a room (room_members): the part of PgRoomStore (pg-rooms.ts) that reads and writes them. */
export class PgRoomMembers extends PgRoomItems {
	async roomMembers(room: string): Promise<StoredMember[]> {
		const {rows} = await this.db.query<MemberRow>(
			'select member, admin, position, until, identity, x25519, binding from room_members where room = $1 order by member',
			[room],
		);
		return rows.map(row => ({...row, position: int(row.position), until: row.until === null ? null : int(row.until)}));
	}

	async saveMember(room: string, m: StoredMember): Promise<void> {
		await this.db.query(
			`insert into room_members (room, member, admin, position, until, identity, x25519, binding) values ($1, $2, $3, $4, $5, $6, $7, $8)
			on conflict (room, member) do update set admin = excluded.admin, position = excluded.position, until = excluded.until,
			identity = excluded.identity, x25519 = excluded.x25519, binding = excluded.binding`,
			[room, m.member, m.admin, m.position, m.until, m.identity, m.x25519, m.binding],
		);
	}

	async setAdmin(room: string, member: string): Promise<void> {
		await this.db.query('update room_members set admin = true where room = $1 and member = $2', [room, member]);
	}

	async departMember(room: string, member: string, until: number): Promise<void> {
		await this.db.query('update room_members set until = $3 where room = $1 and member = $2', [room, member, until]);
	}

	/** The member's row and its keys of every item, in one statement. */
	async deleteMember(room: string, member: string): Promise<void> {
		await this.db.query(
			'with keys as (delete from room_keys where room = $1 and member = $2) delete from room_members where room = $1 and member = $2',
			[room, member],
		);
	}

	async setPosition(room: string, member: string, position: number): Promise<void> {
		await this.db.query('update room_members set position = $3 where room = $1 and member = $2', [room, member, position]);
	}

	async memberRoomCount(member: string): Promise<number> {
		const {rows} = await this.db.query<{count: string}>('select count(*) as count from room_members where member = $1 and until is null', [member]);
		return int(rows[0]!.count);
	}

	async memberRooms(member: string): Promise<MemberRoom[]> {
		const {rows} = await this.db.query<MemberRoomRow>(
			`select m.room, m.admin, m.position, m.until, r.last_seq from room_members m join rooms r on r.room = m.room
			where m.member = $1 order by m.room`,
			[member],
		);
		return rows.map(row => ({
			room: row.room,
			admin: row.admin,
			position: int(row.position),
			until: row.until === null ? null : int(row.until),
			lastSeq: int(row.last_seq),
		}));
	}

	async sharesRoom(a: string, b: string): Promise<boolean> {
		const {rows} = await this.db.query(
			`select 1 from room_members a join room_members b on b.room = a.room and b.member = $2
			where a.member = $1 and a.until is null and b.until is null limit 1`,
			[a, b],
		);
		return rows.length > 0;
	}

	async hasReader(room: string, member: string): Promise<boolean> {
		const {rows} = await this.db.query('select 1 from room_members where room = $1 and member = $2', [room, member]);
		return rows.length > 0;
	}
}
