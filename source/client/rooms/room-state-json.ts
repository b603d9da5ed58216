import {fromBase64Url, toBase64Url} from '../../crypto/base64url.js';
import type {RoomRecord, RoomState} from '../../crypto/room-log.js';

/** A room's state without its members (they are rows of `room_members`). */
export type RoomMeta = Omit<RoomState, 'members'>;

/**
 * What the `rooms.state` column holds: the room's state but its members and, while this account
 * has an epoch it can read, the epoch's "next" secret (design section 1) and when its last fresh
 * secret was drawn. The epoch secret itself is never kept.
 */
export type StoredMeta = {state: RoomMeta; next?: Buffer; freshAt?: number};

type MetaJson = {index: number; head: string; creator: string; topic: string; needsRekey: boolean; next?: string; freshAt?: number};
type RecordJson = {username: string; identity: string; x25519: string; binding: string};

export function writeMeta({state, next, freshAt}: StoredMeta): string {
	const json: MetaJson = {index: state.index, head: toBase64Url(state.head), creator: state.creator, topic: state.topic, needsRekey: state.needsRekey};
	if (next !== undefined) json.next = toBase64Url(next);
	if (freshAt !== undefined) json.freshAt = freshAt;
	return JSON.stringify(json);
}

export function readMeta(room: string, text: string): StoredMeta {
	try {
		const json = JSON.parse(text) as MetaJson;
		if (!Number.isSafeInteger(json.index) || json.index < 0) throw new TypeError('index');
		if (typeof json.creator !== 'string' || typeof json.topic !== 'string' || typeof json.needsRekey !== 'boolean') throw new TypeError('fields');
		const stored: StoredMeta = {state: {room, index: json.index, head: fromBase64Url(json.head, 32), creator: json.creator, topic: json.topic, needsRekey: json.needsRekey}};
		if (json.next !== undefined) stored.next = fromBase64Url(json.next, 32);
		if (json.freshAt !== undefined) {
			if (!Number.isSafeInteger(json.freshAt)) throw new TypeError('freshAt');
			stored.freshAt = json.freshAt;
		}
		return stored;
	} catch {
		throw damaged(room);
	}
}

export function writeRecord(record: RoomRecord): string {
	return JSON.stringify({username: record.username, identity: toBase64Url(record.identity), x25519: toBase64Url(record.x25519), binding: toBase64Url(record.binding)} satisfies RecordJson);
}

/** A record as writeRecord wrote it, or undefined. */
export function readRecord(text: string): RoomRecord | undefined {
	try {
		const json = JSON.parse(text) as RecordJson;
		if (typeof json !== 'object' || json === null || typeof json.username !== 'string') return undefined;
		return {username: json.username, identity: fromBase64Url(json.identity, 32), x25519: fromBase64Url(json.x25519, 32), binding: fromBase64Url(json.binding, 64)};
	} catch {
		return undefined;
	}
}

export function damaged(room: string): Error {
	return new Error(`the room #${room} in this account's database is damaged: restore the database from a backup`);
}
