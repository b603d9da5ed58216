import {Buffer} from 'node:buffer';
import {timingSafeEqual} from 'node:crypto';
import {fromBase64Url, toBase64Url} from '../../crypto/base64url.js';
import {roomEntryFromJson, roomEntryToJson, type RoomEntryJson} from '../../crypto/room-entry-codec.js';
import type {RoomEntry} from '../../crypto/room-log.js';
import type {SqliteDatabase} from '../store/account-database.js';
import type {RoomChange} from './room-prepare.js';

/** A change this account asks for in a room (what RoomKeeper.prepare builds an entry from). */
/** A change this account asked for, as it waits (room-prepare.ts makes the entry from it). */
export type ChangeRequest = RoomChange;

/**
 * Why a change is made, which decides whether it still makes sense after another change won the
 * race: 'user' (asked for), 'join' (an accepted invitation), 'leave' (a member left: the room needs
 * a rekey), 'age' (the epoch's fresh secret is 7 days old).
 */
export type ChangeReason = 'user' | 'join' | 'leave' | 'age';

/** The room_send fields of a sealed text. */
export type SealedText = {epoch: string; n: number; body: string; signature: string};

export type WaitingText = {room: string; id: string; text: string; sent: number; sealed?: SealedText};

/** `entry` and `secret` once prepared (signed on the head it follows); `tries`: how many times it was prepared. */
export type MyChange = {seq: number; room: string; request: ChangeRequest; why: ChangeReason; entry?: RoomEntry; secret?: Buffer; tries: number};

/** Texts that wait to go to one room at most: past it, send() refuses. */
export const maxWaitingTextsPerRoom = 1000;
/** Changes that wait their turn in one room at most. */
export const maxChangesPerRoom = 100;

type TextRow = {room: string; id: string; text: string; sent: number; sealed: string | null};
type ChangeRow = {seq: number; room: string; change: string; why: ChangeReason; entry: string | null; secret: Buffer | null; tries: number};

/**
 * What this account sends to rooms and has not seen through (migration 4), in the account's
 * database: texts in the order written, and changes in the order asked. Writes join the caller's
 * transaction.
 */
export class RoomSendingStore {
	readonly #addText;
	readonly #texts;
	readonly #seal;
	readonly #dropText;
	readonly #countTexts;
	readonly #addChange;
	readonly #changes;
	readonly #prepared;
	readonly #dropChange;
	readonly #countChanges;
	readonly #mine;
	readonly #invited;
	readonly #invitation;
	readonly #dropInvitation;

	constructor(private readonly db: SqliteDatabase) {
		this.#addText = db.prepare('INSERT INTO room_outbox (room, id, text, sent) VALUES (?, ?, ?, ?)');
		this.#texts = db.prepare('SELECT room, id, text, sent, sealed FROM room_outbox WHERE room = ? ORDER BY seq');
		this.#seal = db.prepare('UPDATE room_outbox SET sealed = ? WHERE room = ? AND id = ?');
		this.#dropText = db.prepare('DELETE FROM room_outbox WHERE room = ? AND id = ? RETURNING room, id, text, sent, sealed');
		this.#countTexts = db.prepare('SELECT COUNT(*) FROM room_outbox WHERE room = ?').pluck();
		this.#addChange = db.prepare('INSERT INTO room_my_changes (room, change, why) VALUES (?, ?, ?)');
		this.#changes = db.prepare('SELECT seq, room, change, why, entry, secret, tries FROM room_my_changes WHERE room = ? ORDER BY seq');
		this.#prepared = db.prepare('UPDATE room_my_changes SET entry = ?, secret = ?, tries = ? WHERE seq = ?');
		this.#dropChange = db.prepare('DELETE FROM room_my_changes WHERE seq = ?');
		this.#countChanges = db.prepare('SELECT COUNT(*) FROM room_my_changes WHERE room = ?').pluck();
		this.#mine = db.prepare('SELECT COUNT(*) FROM room_sent WHERE room = ? AND seq > ? AND seq <= ?').pluck();
		this.#invited = db.prepare('INSERT OR REPLACE INTO room_sent_invites (room, invitee, nonce, time) VALUES (?, ?, ?, ?)');
		this.#invitation = db.prepare('SELECT nonce FROM room_sent_invites WHERE room = ? AND invitee = ? AND time > ?').pluck();
		this.#dropInvitation = db.prepare('DELETE FROM room_sent_invites WHERE room = ? AND invitee = ?');
	}

	/** An invitation of mine: the newest to each invitee of a room counts. */
	invited(room: string, invitee: string, nonce: Buffer, time: number): void {
		this.#invited.run(room, invitee, nonce, time);
	}

	/** Whether I invited `invitee` to `room` with `nonce` since `since` (the relay keeps invitations 30 days); it is used up. */
	takeInvitation(room: string, invitee: string, nonce: Buffer, since: number): boolean {
		const sent = this.#invitation.get(room, invitee, since) as Buffer | undefined;
		if (sent === undefined || sent.length !== nonce.length || !timingSafeEqual(sent, nonce)) return false;
		this.#dropInvitation.run(room, invitee);
		return true;
	}

	transaction<T>(work: () => T): T {
		return this.db.transaction(work)();
	}

	/** The rooms with texts or changes waiting. */
	rooms(): string[] {
		return (this.db.prepare('SELECT room FROM room_outbox UNION SELECT room FROM room_my_changes').pluck().all() as string[]).sort();
	}

	addText(text: WaitingText): void {
		if ((this.#countTexts.get(text.room) as number) >= maxWaitingTextsPerRoom) {
			throw new Error(`${maxWaitingTextsPerRoom} messages to #${text.room} wait to go already; try again once they have gone out`);
		}
		this.#addText.run(text.room, text.id, text.text, text.sent);
	}

	texts(room: string): WaitingText[] {
		return (this.#texts.all(room) as TextRow[]).map(readText);
	}

	/** Keeps `sealed` for the text `id` (undefined: it is to be sealed again, in a newer epoch). */
	seal(room: string, id: string, sealed: SealedText | undefined): void {
		this.#seal.run(sealed === undefined ? null : JSON.stringify(sealed), room, id);
	}

	dropText(room: string, id: string): WaitingText | undefined {
		const row = this.#dropText.get(room, id) as TextRow | undefined;
		return row === undefined ? undefined : readText(row);
	}

	addChange(room: string, request: ChangeRequest, why: ChangeReason): void {
		if ((this.#countChanges.get(room) as number) >= maxChangesPerRoom) throw new Error(`${maxChangesPerRoom} changes to #${room} wait already; try again later`);
		this.#addChange.run(room, JSON.stringify(requestJson(request)), why);
	}

	changes(room: string): MyChange[] {
		return (this.#changes.all(room) as ChangeRow[]).map(readChange);
	}

	/** The change `seq` as signed (with its fresh secret), or back to unprepared (entry undefined). */
	prepared(seq: number, entry: RoomEntry | undefined, secret: Buffer | undefined, tries: number): void {
		this.#prepared.run(entry === undefined ? null : JSON.stringify(roomEntryToJson(entry)), secret ?? null, tries, seq);
	}

	dropChange(seq: number): void {
		this.#dropChange.run(seq);
	}

	/** How many of this account's messages the relay took as items `after` < seq ≤ `upTo` of `room` (room_sent, RoomStore's table). */
	mineBetween(room: string, after: number, upTo: number): number {
		return this.#mine.get(room, after, upTo) as number;
	}

	/** Everything waiting for `room` goes (this account is no longer in it); the texts dropped. */
	forgetRoom(room: string): WaitingText[] {
		const texts = this.texts(room);
		this.db.prepare('DELETE FROM room_outbox WHERE room = ?').run(room);
		this.db.prepare('DELETE FROM room_my_changes WHERE room = ?').run(room);
		return texts;
	}
}

type RequestJson = {action: string; topic?: string; member?: string; record?: {username: string; identity: string; x25519: string; binding: string}; nonce?: string; accept?: string};

function requestJson(request: ChangeRequest): RequestJson {
	switch (request.action) {
		case 'add': {
			const {record, nonce, accept} = request;
			return {
				action: 'add',
				record: {username: record.username, identity: toBase64Url(record.identity), x25519: toBase64Url(record.x25519), binding: toBase64Url(record.binding)},
				nonce: toBase64Url(nonce),
				accept: toBase64Url(accept),
			};
		}
		default:
			return {...request};
	}
}

function readRequest(text: string): ChangeRequest {
	const json = JSON.parse(text) as RequestJson;
	switch (json.action) {
		case 'create':
		case 'topic':
			return {action: json.action, topic: String(json.topic)};
		case 'remove':
		case 'admin':
			return {action: json.action, member: String(json.member)};
		case 'leave':
		case 'rekey':
			return {action: json.action};
		case 'add': {
			const record = json.record!;
			return {
				action: 'add',
				record: {username: record.username, identity: fromBase64Url(record.identity, 32), x25519: fromBase64Url(record.x25519, 32), binding: fromBase64Url(record.binding, 64)},
				nonce: fromBase64Url(json.nonce!, 16),
				accept: fromBase64Url(json.accept!, 64),
			};
		}
		default:
			throw new Error(`a change waiting in this account's database is damaged (${JSON.stringify(json.action)}): restore the database from a backup`);
	}
}

function readText(row: TextRow): WaitingText {
	const text: WaitingText = {room: row.room, id: row.id, text: row.text, sent: row.sent};
	if (row.sealed !== null) text.sealed = JSON.parse(row.sealed) as SealedText;
	return text;
}

function readChange(row: ChangeRow): MyChange {
	const change: MyChange = {seq: row.seq, room: row.room, request: readRequest(row.change), why: row.why, tries: row.tries};
	if (row.entry !== null) change.entry = roomEntryFromJson(JSON.parse(row.entry) as RoomEntryJson);
	if (row.secret !== null) change.secret = Buffer.from(row.secret);
	return change;
}
