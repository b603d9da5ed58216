import {Buffer} from 'node:buffer';
import {fromBase64Url, toBase64Url} from '../../crypto/base64url.js';
import type {RoomRecord, RoomState} from '../../crypto/room-log.js';

/**
 * What the `rooms.state` column holds: the verified state of the room's log and, while this account
 * has an epoch it can read, the epoch's "next" secret (design section 1) and when its last fresh
 * secret was drawn. The epoch secret itself is never kept.
 */
export type StoredState = {state: RoomState; next?: Buffer; freshAt?: number};

type RecordJson = {username: string; identity: string; x25519: string; binding: string};
type StateJson = {
	room: string;
	index: number;
	head: string;
	creator: string;
	topic: string;
	members: Array<{record: RecordJson; admin: boolean}>;
	needsRekey: boolean;
	next?: string;
	freshAt?: number;
};

export function writeStoredState({state, next, freshAt}: StoredState): string {
	const json: StateJson = {
		room: state.room,
		index: state.index,
		head: toBase64Url(state.head),
		creator: state.creator,
		topic: state.topic,
		members: [...state.members.values()].map(({record, admin}) => ({record: recordJson(record), admin})),
		needsRekey: state.needsRekey,
	};
	if (next !== undefined) json.next = toBase64Url(next);
	if (freshAt !== undefined) json.freshAt = freshAt;
	return JSON.stringify(json);
}

export function readStoredState(room: string, text: string): StoredState {
	try {
		const json = JSON.parse(text) as StateJson;
		if (json.room !== room || !Number.isSafeInteger(json.index) || json.index < 0) throw new TypeError('index');
		if (typeof json.creator !== 'string' || typeof json.topic !== 'string' || typeof json.needsRekey !== 'boolean') throw new TypeError('fields');
		if (!Array.isArray(json.members)) throw new TypeError('members');
		const members = new Map(
			json.members.map(({record, admin}) => {
				if (typeof admin !== 'boolean') throw new TypeError('admin');
				const parsed = readRecord(record);
				return [parsed.username, {record: parsed, admin}] as const;
			}),
		);
		const stored: StoredState = {
			state: {room, index: json.index, head: fromBase64Url(json.head, 32), creator: json.creator, topic: json.topic, members, needsRekey: json.needsRekey},
		};
		if (json.next !== undefined) stored.next = fromBase64Url(json.next, 32);
		if (json.freshAt !== undefined) {
			if (!Number.isSafeInteger(json.freshAt)) throw new TypeError('freshAt');
			stored.freshAt = json.freshAt;
		}
		return stored;
	} catch {
		throw new Error(`the room #${room} in this account's database is damaged: restore the database from a backup`);
	}
}

function recordJson(record: RoomRecord): RecordJson {
	return {username: record.username, identity: toBase64Url(record.identity), x25519: toBase64Url(record.x25519), binding: toBase64Url(record.binding)};
}

export function readRecord(json: RecordJson): RoomRecord {
	if (typeof json !== 'object' || json === null || typeof json.username !== 'string') throw new TypeError('record');
	return {username: json.username, identity: fromBase64Url(json.identity, 32), x25519: fromBase64Url(json.x25519, 32), binding: fromBase64Url(json.binding, 64)};
}

export function writeRecord(record: RoomRecord): string {
	return JSON.stringify(recordJson(record));
}

