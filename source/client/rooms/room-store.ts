import {Buffer} from 'node:buffer';
import type {Statement} from 'better-sqlite3-multiple-ciphers';
import {fromBase64Url, toBase64Url} from '../../crypto/base64url.js';
import {roomEntryFromJson, roomEntryToJson, type RoomEntryJson} from '../../crypto/room-entry-codec.js';
import type {RoomEntry, RoomMember, RoomRecord, RoomState} from '../../crypto/room-log.js';
import type {SqliteDatabase} from '../store/account-database.js';
import {damaged, readMeta, readRecord, writeMeta, writeRecord, type RoomMeta} from './room-state-json.js';

export type RoomStatus = 'member' | 'invited' | 'left' | 'removed' | 'stalled';

/** One row of `rooms` without the members: `epoch` is the id (H) of the epoch this account holds keys for, if any. */
export type RoomSummary = {room: string; state: RoomMeta; next?: Buffer; freshAt?: number; epoch?: Buffer; position: number; status: RoomStatus; note?: string};
/** A room with its members. */
export type StoredRoom = RoomSummary & {state: RoomState};

export type StoredInvite = {room: string; inviter: string; record: RoomRecord; nonce: Buffer; signature: Buffer; time: number; topic?: string};
export type SentDelivery = {n: number; seq?: number; delivered: number; of: number};

/** Skipped message keys kept per (room, epoch), all senders together (the oldest go first), and for how long. */
export const maxSkippedPerEpoch = 2000;
export const roomSkippedLifetimeMs = 30 * 24 * 60 * 60 * 1000;
/** Invitations kept (the oldest go first): a relay cannot fill the disk with them. */
export const maxInvites = 100;
/** This account's messages the relay accepted, remembered per room for their delivery counts (the oldest go first). */
export const maxSentPerRoom = 10_000;

type RoomRow = {room: string; state: string; epoch: string | null; position: number; status: RoomStatus; note: string | null};
type InviteRow = {room: string; inviter: string; record: string; nonce: Buffer; signature: Buffer; time: number; topic: string | null};

/**
 * Typed reads and writes of the rooms tables (migration 3). Writes join the caller's transaction;
 * the keeper runs everything one stream item changes in one.
 */
export class RoomStore {
	readonly #statements = new Map<string, Statement>();

	constructor(private readonly db: SqliteDatabase) {}

	transaction<T>(work: () => T): T {
		// better-sqlite3 runs a transaction begun inside another as a savepoint of it: an outer
		// transaction of the caller's commits (or rolls back) this work with its own.
		return this.db.transaction(work)();
	}

	/** Whether a transaction of the caller's is still open (this store's own ones are over when its calls return). */
	get inTransaction(): boolean {
		return this.db.inTransaction;
	}

	/** The room's row without its members: what a message needs. */
	summary(room: string): RoomSummary | undefined {
		const row = this.#sql('SELECT room, state, epoch, position, status, note FROM rooms WHERE room = ?').get(room) as RoomRow | undefined;
		return row === undefined ? undefined : readRoom(row);
	}

	room(room: string): StoredRoom | undefined {
		const summary = this.summary(room);
		return summary === undefined ? undefined : this.#withMembers(summary);
	}

	rooms(): StoredRoom[] {
		const rows = this.#sql('SELECT room, state, epoch, position, status, note FROM rooms ORDER BY room').all() as RoomRow[];
		return rows.map(row => this.#withMembers(readRoom(row)));
	}

	member(room: string, member: string): RoomMember | undefined {
		const row = this.#sql('SELECT record, admin FROM room_members WHERE room = ? AND member = ?').get(room, member) as {record: string; admin: number} | undefined;
		return row === undefined ? undefined : readMember(room, member, row);
	}

	/** Writes the room's row, and its members as they differ from `before` (all of them without it). */
	saveRoom(room: StoredRoom, before?: RoomState): void {
		const epoch = room.epoch === undefined ? null : toBase64Url(room.epoch);
		this.#sql(
			'INSERT INTO rooms (room, state, epoch, position, status, note) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (room) DO UPDATE SET state = excluded.state, epoch = excluded.epoch, position = excluded.position, status = excluded.status, note = excluded.note',
		).run(room.room, writeMeta(room), epoch, room.position, room.status, room.note ?? null);
		const {members} = room.state;
		if (before === undefined) this.#sql('DELETE FROM room_members WHERE room = ?').run(room.room);
		for (const name of before?.members.keys() ?? []) {
			if (!members.has(name)) this.#sql('DELETE FROM room_members WHERE room = ? AND member = ?').run(room.room, name);
		}
		for (const [name, member] of members) {
			if (before?.members.get(name)?.admin === member.admin) continue;
			this.#sql('INSERT OR REPLACE INTO room_members (room, member, record, admin) VALUES (?, ?, ?, ?)').run(room.room, name, writeRecord(member.record), member.admin ? 1 : 0);
		}
	}

	setPosition(room: string, position: number): void {
		this.#sql('UPDATE rooms SET position = ? WHERE room = ?').run(position, room);
	}

	/** Everything kept about `room` but its invitation, keys first. */
	forgetRoom(room: string): void {
		this.dropKeys(room);
		for (const table of ['rooms', 'room_members', 'room_log', 'room_sent']) this.#sql(`DELETE FROM ${table} WHERE room = ?`).run(room);
	}

	appendLog(entry: RoomEntry): void {
		this.#sql('INSERT OR REPLACE INTO room_log (room, idx, entry) VALUES (?, ?, ?)').run(entry.room, entry.index, JSON.stringify(roomEntryToJson(entry)));
	}

	/** Log entries of `room` with index > `after`, at most `limit`, in order. */
	log(room: string, after = -1, limit = 100): RoomEntry[] {
		const texts = this.#sql('SELECT entry FROM room_log WHERE room = ? AND idx > ? ORDER BY idx LIMIT ?').pluck().all(room, after, limit) as string[];
		return texts.map(text => {
			try {
				return roomEntryFromJson(JSON.parse(text) as RoomEntryJson);
			} catch {
				throw damaged(room);
			}
		});
	}

	chain(room: string, epoch: Buffer, member: string): {n: number; chainKey: Buffer} | undefined {
		const row = this.#sql('SELECT n, chain_key FROM room_chains WHERE room = ? AND epoch = ? AND member = ?').get(room, epoch, member) as {n: number; chain_key: Buffer} | undefined;
		return row === undefined ? undefined : {n: row.n, chainKey: row.chain_key};
	}

	saveChain(room: string, epoch: Buffer, member: string, n: number, chainKey: Buffer): void {
		this.#sql('INSERT OR REPLACE INTO room_chains (room, epoch, member, n, chain_key) VALUES (?, ?, ?, ?, ?)').run(room, epoch, member, n, chainKey);
	}

	/** Every chain and skipped key of `room` (a new epoch, or this account is out of the room). */
	dropKeys(room: string): void {
		this.#sql('DELETE FROM room_chains WHERE room = ?').run(room);
		this.#sql('DELETE FROM room_skipped WHERE room = ?').run(room);
	}

	skippedKey(room: string, epoch: Buffer, member: string, n: number, now: number): Buffer | undefined {
		return this.#sql('SELECT key FROM room_skipped WHERE room = ? AND epoch = ? AND member = ? AND n = ? AND expires > ?').pluck().get(room, epoch, member, n, now) as
			| Buffer
			| undefined;
	}

	useSkipped(room: string, epoch: Buffer, member: string, n: number): void {
		this.#sql('DELETE FROM room_skipped WHERE room = ? AND epoch = ? AND member = ? AND n = ?').run(room, epoch, member, n);
	}

	/** Keeps `keys` for roomSkippedLifetimeMs, at most maxSkippedPerEpoch per (room, epoch): the oldest go. */
	addSkipped(room: string, epoch: Buffer, member: string, keys: ReadonlyArray<{n: number; key: Buffer}>, now: number): void {
		if (keys.length === 0) return;
		const expires = now + roomSkippedLifetimeMs;
		const insert = this.#sql('INSERT OR REPLACE INTO room_skipped (room, epoch, member, n, key, expires) VALUES (?, ?, ?, ?, ?, ?)');
		for (const {n, key} of keys) insert.run(room, epoch, member, n, key, expires);
		this.#sql(
			'DELETE FROM room_skipped WHERE room = ? AND epoch = ? AND (member, n) IN (SELECT member, n FROM room_skipped WHERE room = ? AND epoch = ? ORDER BY expires DESC, n DESC LIMIT -1 OFFSET ?)',
		).run(room, epoch, room, epoch, maxSkippedPerEpoch);
	}

	pruneSkipped(now: number): void {
		this.#sql('DELETE FROM room_skipped WHERE expires <= ?').run(now);
	}

	saveInvite(invite: StoredInvite): void {
		this.#sql('INSERT OR REPLACE INTO room_invites (room, inviter, record, nonce, signature, time, topic) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
			invite.room,
			invite.inviter,
			writeRecord(invite.record),
			invite.nonce,
			invite.signature,
			invite.time,
			invite.topic ?? null,
		);
		this.#sql('DELETE FROM room_invites WHERE room IN (SELECT room FROM room_invites ORDER BY time DESC, room LIMIT -1 OFFSET ?)').run(maxInvites);
	}

	invite(room: string): StoredInvite | undefined {
		const row = this.#sql('SELECT room, inviter, record, nonce, signature, time, topic FROM room_invites WHERE room = ?').get(room) as InviteRow | undefined;
		return row === undefined ? undefined : readInvite(row);
	}

	invites(): StoredInvite[] {
		return (this.#sql('SELECT room, inviter, record, nonce, signature, time, topic FROM room_invites ORDER BY time, room').all() as InviteRow[]).map(readInvite);
	}

	dropInvite(room: string): void {
		this.#sql('DELETE FROM room_invites WHERE room = ?').run(room);
	}

	/** A message of this account's sealed as `n` (again, under a new epoch, if `id` was sealed before). */
	noteSealed(room: string, id: string, n: number): void {
		this.#sql('INSERT INTO room_sent (room, id, n) VALUES (?, ?, ?) ON CONFLICT (room, id) DO UPDATE SET n = excluded.n, seq = NULL, delivered = 0, of = 0').run(room, id, n);
	}

	/** The relay took the message `id` as item `seq`; the oldest beyond maxSentPerRoom are forgotten. */
	noteSent(room: string, id: string, seq: number): boolean {
		const changed = this.#sql('UPDATE room_sent SET seq = ? WHERE room = ? AND id = ?').run(seq, room, id).changes > 0;
		this.#sql(
			'DELETE FROM room_sent WHERE room = ? AND seq <= (SELECT seq FROM room_sent WHERE room = ? AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1 OFFSET ?)',
		).run(room, room, maxSentPerRoom);
		return changed;
	}

	/** Counts only grow: a late or replayed room_delivered cannot take a mark back. */
	delivered(room: string, key: string | number, delivered: number, of: number): boolean {
		const where = typeof key === 'string' ? 'id = ?' : 'seq = ?';
		return this.#sql(`UPDATE room_sent SET delivered = max(delivered, ?), of = ? WHERE room = ? AND ${where}`).run(delivered, of, room, key).changes > 0;
	}

	sent(room: string, id: string): SentDelivery | undefined {
		const row = this.#sql('SELECT n, seq, delivered, of FROM room_sent WHERE room = ? AND id = ?').get(room, id) as
			| {n: number; seq: number | null; delivered: number; of: number}
			| undefined;
		if (row === undefined) return undefined;
		return {n: row.n, ...(row.seq === null ? {} : {seq: row.seq}), delivered: row.delivered, of: row.of};
	}

	#withMembers(summary: RoomSummary): StoredRoom {
		const rows = this.#sql('SELECT member, record, admin FROM room_members WHERE room = ? ORDER BY member').all(summary.room) as Array<{member: string; record: string; admin: number}>;
		const members = new Map(rows.map(row => [row.member, readMember(summary.room, row.member, row)] as const));
		return {...summary, state: {...summary.state, members}};
	}

	#sql(source: string): Statement {
		let statement = this.#statements.get(source);
		if (statement === undefined) {
			statement = this.db.prepare(source);
			this.#statements.set(source, statement);
		}
		return statement;
	}
}

function readRoom(row: RoomRow): RoomSummary {
	const room: RoomSummary = {...readMeta(row.room, row.state), room: row.room, position: row.position, status: row.status};
	if (row.epoch !== null) room.epoch = fromBase64Url(row.epoch, 32);
	if (row.note !== null) room.note = row.note;
	return room;
}

function readMember(room: string, name: string, row: {record: string; admin: number}): RoomMember {
	const record = readRecord(row.record);
	if (record === undefined || record.username !== name) throw damaged(room);
	return {record, admin: row.admin === 1};
}

function readInvite(row: InviteRow): StoredInvite {
	const record = readRecord(row.record);
	if (record === undefined) throw new Error(`the invitation to #${row.room} in this account's database is damaged: restore the database from a backup`);
	const invite: StoredInvite = {room: row.room, inviter: row.inviter, record, nonce: Buffer.from(row.nonce), signature: Buffer.from(row.signature), time: row.time};
	if (row.topic !== null) invite.topic = row.topic;
	return invite;
}
