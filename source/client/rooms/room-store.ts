import {Buffer} from 'node:buffer';
import {fromBase64Url, toBase64Url} from '../../crypto/base64url.js';
import {roomEntryFromJson, roomEntryToJson, type RoomEntryJson} from '../../crypto/room-entry-codec.js';
import type {RoomEntry, RoomRecord} from '../../crypto/room-log.js';
import type {SqliteDatabase} from '../store/account-database.js';
import {readRecord, readStoredState, writeRecord, writeStoredState, type StoredState} from './room-state-json.js';

export type RoomStatus = 'member' | 'invited' | 'left' | 'removed' | 'stalled';

/** One row of `rooms`: `epoch` is the id (H) of the epoch this account holds keys for, if any. */
export type StoredRoom = StoredState & {room: string; epoch?: Buffer; position: number; status: RoomStatus; note?: string};

export type StoredInvite = {room: string; inviter: string; record: RoomRecord; nonce: Buffer; signature: Buffer; time: number; topic?: string};
export type SentDelivery = {n: number; seq?: number; delivered: number; of: number};

/** Skipped message keys kept per (room, epoch), all senders together (the oldest go first), and for how long. */
export const maxSkippedPerEpoch = 2000;
export const roomSkippedLifetimeMs = 30 * 24 * 60 * 60 * 1000;
/** Invitations kept (the oldest go first): a relay cannot fill the disk with them. */
export const maxInvites = 100;
/** This account's messages remembered per room for their delivery counts (the oldest go first). */
export const maxSentPerRoom = 10_000;

type RoomRow = {room: string; state: string; epoch: string | null; position: number; status: RoomStatus; note: string | null};
type InviteRow = {room: string; inviter: string; record: string; nonce: Buffer; signature: Buffer; time: number; topic: string | null};

/**
 * Typed reads and writes of the rooms tables (migration 3). Writes join the caller's transaction;
 * the keeper runs everything one stream item changes in one.
 */
export class RoomStore {
	readonly #room;
	readonly #upsertRoom;
	readonly #chain;
	readonly #upsertChain;
	readonly #skipped;
	readonly #deleteSkipped;
	readonly #insertSkipped;

	constructor(private readonly db: SqliteDatabase) {
		this.#room = db.prepare('SELECT room, state, epoch, position, status, note FROM rooms WHERE room = ?');
		this.#upsertRoom = db.prepare(
			'INSERT INTO rooms (room, state, epoch, position, status, note) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (room) DO UPDATE SET state = excluded.state, epoch = excluded.epoch, position = excluded.position, status = excluded.status, note = excluded.note',
		);
		this.#chain = db.prepare('SELECT n, chain_key FROM room_chains WHERE room = ? AND epoch = ? AND member = ?');
		this.#upsertChain = db.prepare('INSERT OR REPLACE INTO room_chains (room, epoch, member, n, chain_key) VALUES (?, ?, ?, ?, ?)');
		this.#skipped = db.prepare('SELECT key FROM room_skipped WHERE room = ? AND epoch = ? AND member = ? AND n = ? AND expires > ?').pluck();
		this.#deleteSkipped = db.prepare('DELETE FROM room_skipped WHERE room = ? AND epoch = ? AND member = ? AND n = ?');
		this.#insertSkipped = db.prepare('INSERT OR REPLACE INTO room_skipped (room, epoch, member, n, key, expires) VALUES (?, ?, ?, ?, ?, ?)');
	}

	transaction<T>(work: () => T): T {
		// better-sqlite3 runs a transaction begun inside another as a savepoint of it: an outer
		// transaction of the caller's commits (or rolls back) this work with its own.
		return this.db.transaction(work)();
	}

	room(room: string): StoredRoom | undefined {
		const row = this.#room.get(room) as RoomRow | undefined;
		return row === undefined ? undefined : readRoom(row);
	}

	rooms(): StoredRoom[] {
		return (this.db.prepare('SELECT room, state, epoch, position, status, note FROM rooms ORDER BY room').all() as RoomRow[]).map(readRoom);
	}

	saveRoom(room: StoredRoom): void {
		const epoch = room.epoch === undefined ? null : toBase64Url(room.epoch);
		this.#upsertRoom.run(room.room, writeStoredState(room), epoch, room.position, room.status, room.note ?? null);
	}

	setPosition(room: string, position: number): void {
		this.db.prepare('UPDATE rooms SET position = ? WHERE room = ?').run(position, room);
	}

	/** Everything kept about `room`, keys first. */
	forgetRoom(room: string): void {
		this.dropKeys(room);
		for (const table of ['rooms', 'room_log', 'room_sent']) this.db.prepare(`DELETE FROM ${table} WHERE room = ?`).run(room);
	}

	appendLog(entry: RoomEntry): void {
		this.db.prepare('INSERT OR REPLACE INTO room_log (room, idx, entry) VALUES (?, ?, ?)').run(entry.room, entry.index, JSON.stringify(roomEntryToJson(entry)));
	}

	clearLog(room: string): void {
		this.db.prepare('DELETE FROM room_log WHERE room = ?').run(room);
	}

	/** Log entries of `room` with index > `after`, at most `limit`, in order. */
	log(room: string, after = -1, limit = 100): RoomEntry[] {
		const texts = this.db.prepare('SELECT entry FROM room_log WHERE room = ? AND idx > ? ORDER BY idx LIMIT ?').pluck().all(room, after, limit) as string[];
		return texts.map(text => {
			try {
				return roomEntryFromJson(JSON.parse(text) as RoomEntryJson);
			} catch {
				throw new Error(`the log of #${room} in this account's database is damaged: restore the database from a backup`);
			}
		});
	}

	chain(room: string, epoch: Buffer, member: string): {n: number; chainKey: Buffer} | undefined {
		const row = this.#chain.get(room, epoch, member) as {n: number; chain_key: Buffer} | undefined;
		return row === undefined ? undefined : {n: row.n, chainKey: row.chain_key};
	}

	saveChain(room: string, epoch: Buffer, member: string, n: number, chainKey: Buffer): void {
		this.#upsertChain.run(room, epoch, member, n, chainKey);
	}

	/** Every chain and skipped key of `room` (a new epoch, or this account is out of the room). */
	dropKeys(room: string): void {
		this.db.prepare('DELETE FROM room_chains WHERE room = ?').run(room);
		this.db.prepare('DELETE FROM room_skipped WHERE room = ?').run(room);
	}

	skippedKey(room: string, epoch: Buffer, member: string, n: number, now: number): Buffer | undefined {
		return this.#skipped.get(room, epoch, member, n, now) as Buffer | undefined;
	}

	useSkipped(room: string, epoch: Buffer, member: string, n: number): void {
		this.#deleteSkipped.run(room, epoch, member, n);
	}

	/** Keeps `keys` for roomSkippedLifetimeMs, at most maxSkippedPerEpoch per (room, epoch): the oldest go. */
	addSkipped(room: string, epoch: Buffer, member: string, keys: ReadonlyArray<{n: number; key: Buffer}>, now: number): void {
		if (keys.length === 0) return;
		const expires = now + roomSkippedLifetimeMs;
		for (const {n, key} of keys) this.#insertSkipped.run(room, epoch, member, n, key, expires);
		this.db
			.prepare(
				'DELETE FROM room_skipped WHERE room = ? AND epoch = ? AND (member, n) IN (SELECT member, n FROM room_skipped WHERE room = ? AND epoch = ? ORDER BY expires DESC, n DESC LIMIT -1 OFFSET ?)',
			)
			.run(room, epoch, room, epoch, maxSkippedPerEpoch);
	}

	pruneSkipped(now: number): void {
		this.db.prepare('DELETE FROM room_skipped WHERE expires <= ?').run(now);
	}

	saveInvite(invite: StoredInvite): void {
		this.db
			.prepare('INSERT OR REPLACE INTO room_invites (room, inviter, record, nonce, signature, time, topic) VALUES (?, ?, ?, ?, ?, ?, ?)')
			.run(invite.room, invite.inviter, writeRecord(invite.record), invite.nonce, invite.signature, invite.time, invite.topic ?? null);
		this.db.prepare('DELETE FROM room_invites WHERE room IN (SELECT room FROM room_invites ORDER BY time DESC, room LIMIT -1 OFFSET ?)').run(maxInvites);
	}

	invite(room: string): StoredInvite | undefined {
		const row = this.db.prepare('SELECT room, inviter, record, nonce, signature, time, topic FROM room_invites WHERE room = ?').get(room) as InviteRow | undefined;
		return row === undefined ? undefined : readInvite(row);
	}

	invites(): StoredInvite[] {
		return (this.db.prepare('SELECT room, inviter, record, nonce, signature, time, topic FROM room_invites ORDER BY time, room').all() as InviteRow[]).map(readInvite);
	}

	dropInvite(room: string): void {
		this.db.prepare('DELETE FROM room_invites WHERE room = ?').run(room);
	}

	/** A message of this account's sealed as `n` (again, under a new epoch, if `id` was sealed before). */
	noteSealed(room: string, id: string, n: number): void {
		this.db
			.prepare('INSERT INTO room_sent (room, id, n) VALUES (?, ?, ?) ON CONFLICT (room, id) DO UPDATE SET n = excluded.n, seq = NULL, delivered = 0, of = 0')
			.run(room, id, n);
		this.db
			.prepare('DELETE FROM room_sent WHERE room = ? AND id IN (SELECT id FROM room_sent WHERE room = ? ORDER BY seq IS NULL DESC, seq DESC LIMIT -1 OFFSET ?)')
			.run(room, room, maxSentPerRoom);
	}

	noteSent(room: string, id: string, seq: number): boolean {
		return this.db.prepare('UPDATE room_sent SET seq = ? WHERE room = ? AND id = ?').run(seq, room, id).changes > 0;
	}

	/** Counts only grow: a late or replayed room_delivered cannot take a mark back. */
	delivered(room: string, key: string | number, delivered: number, of: number): boolean {
		const where = typeof key === 'string' ? 'id = ?' : 'seq = ?';
		return this.db.prepare(`UPDATE room_sent SET delivered = max(delivered, ?), of = ? WHERE room = ? AND ${where}`).run(delivered, of, room, key).changes > 0;
	}

	sent(room: string, id: string): SentDelivery | undefined {
		const row = this.db.prepare('SELECT n, seq, delivered, of FROM room_sent WHERE room = ? AND id = ?').get(room, id) as
			| {n: number; seq: number | null; delivered: number; of: number}
			| undefined;
		if (row === undefined) return undefined;
		return {n: row.n, ...(row.seq === null ? {} : {seq: row.seq}), delivered: row.delivered, of: row.of};
	}
}

function readRoom(row: RoomRow): StoredRoom {
	const stored = readStoredState(row.room, row.state);
	const room: StoredRoom = {...stored, room: row.room, position: row.position, status: row.status};
	if (row.epoch !== null) room.epoch = fromBase64Url(row.epoch, 32);
	if (row.note !== null) room.note = row.note;
	return room;
}

function readInvite(row: InviteRow): StoredInvite {
	let record: RoomRecord;
	try {
		record = readRecord(JSON.parse(row.record) as Parameters<typeof readRecord>[0]);
	} catch {
		throw new Error(`the invitation to #${row.room} in this account's database is damaged: restore the database from a backup`);
	}
	const invite: StoredInvite = {room: row.room, inviter: row.inviter, record, nonce: Buffer.from(row.nonce), signature: Buffer.from(row.signature), time: row.time};
	if (row.topic !== null) invite.topic = row.topic;
	return invite;
}
