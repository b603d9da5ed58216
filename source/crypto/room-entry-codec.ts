import {Buffer} from 'node:buffer';
import {fromBase64Url, toBase64Url} from './base64url.js';
import {changeBytes, isIndex, RoomLogError, roomActions, type RoomEntry, type RoomRecord} from './room-entry.js';

/** A room log entry as JSON on the wire (design of issue 15, section 2): bytes as B64U. */
export type RoomRecordJson = {username: string; identity: string; x25519: string; binding: string};
export type RoomEntryJson = {
	room: string;
	index: number;
	prev: string;
	author: string;
	time: number;
	action: string;
	topic?: string;
	record?: RoomRecordJson;
	member?: string;
	nonce?: string;
	accept?: string;
	confirm?: string;
	signature: string;
};

type ActionField = 'topic' | 'record' | 'member' | 'nonce' | 'accept' | 'confirm';

const actionFields: Record<string, ReadonlyArray<ActionField>> = {
	create: ['topic', 'record', 'confirm'],
	add: ['record', 'nonce', 'accept'],
	remove: ['member', 'confirm'],
	leave: [],
	admin: ['member'],
	topic: ['topic'],
	rekey: ['confirm'],
};
const allActionFields: ReadonlyArray<ActionField> = ['topic', 'record', 'member', 'nonce', 'accept', 'confirm'];

/** The entry's JSON, with only the fields of its action. */
export function roomEntryToJson(entry: RoomEntry): RoomEntryJson {
	const {room, index, prev, author, time, action, signature} = entry;
	const json: RoomEntryJson = {room, index, prev: toBase64Url(prev), author, time, action} as RoomEntryJson;
	switch (entry.action) {
		case 'create':
			Object.assign(json, {topic: entry.topic, record: recordToJson(entry.record), confirm: toBase64Url(entry.confirm)});
			break;
		case 'add':
			Object.assign(json, {record: recordToJson(entry.record), nonce: toBase64Url(entry.nonce), accept: toBase64Url(entry.accept)});
			break;
		case 'remove':
			Object.assign(json, {member: entry.member, confirm: toBase64Url(entry.confirm)});
			break;
		case 'leave':
			break;
		case 'admin':
			json.member = entry.member;
			break;
		case 'topic':
			json.topic = entry.topic;
			break;
		case 'rekey':
			json.confirm = toBase64Url(entry.confirm);
			break;
	}
	json.signature = toBase64Url(signature);
	return json;
}

/**
 * The entry of a JSON object, checked byte by byte (names, lengths, the fields of its action and
 * no other action's), or a RoomLogError('bad_change'), never any other error. Signatures, bindings
 * and the log's rules are applyChange's.
 */
export function roomEntryFromJson(json: RoomEntryJson): RoomEntry {
	try {
		const entry = decode(json);
		changeBytes(entry);
		return entry;
	} catch (error) {
		if (error instanceof RoomLogError) throw error;
		throw new RoomLogError('bad_change', `malformed room change: ${(error as Error)?.message ?? String(error)}`);
	}
}

function decode(json: RoomEntryJson): RoomEntry {
	if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TypeError('not an object');
	const {room, index, author, time, action} = json;
	if (typeof action !== 'string' || !roomActions.has(action)) throw new TypeError('unknown action');
	const own = actionFields[action]!;
	for (const field of allActionFields) {
		const present = json[field] !== undefined;
		if (present !== own.includes(field)) throw new TypeError(present ? `"${field}" is not a field of ${action}` : `"${field}" is missing`);
	}
	if (!isIndex(index) || !isIndex(time)) throw new TypeError('index and time are non-negative safe integers');
	const common = {room: text(room, 'room'), index, prev: bytes(json.prev, 32, 'prev'), author: text(author, 'author'), time};
	const signature = bytes(json.signature, 64, 'signature');
	switch (action) {
		case 'create':
			return {...common, action, topic: text(json.topic, 'topic'), record: recordFromJson(json.record), confirm: bytes(json.confirm, 32, 'confirm'), signature};
		case 'add':
			return {...common, action, record: recordFromJson(json.record), nonce: bytes(json.nonce, 16, 'nonce'), accept: bytes(json.accept, 64, 'accept'), signature};
		case 'remove':
			return {...common, action, member: text(json.member, 'member'), confirm: bytes(json.confirm, 32, 'confirm'), signature};
		case 'leave':
			return {...common, action, signature};
		case 'admin':
			return {...common, action, member: text(json.member, 'member'), signature};
		case 'topic':
			return {...common, action, topic: text(json.topic, 'topic'), signature};
		default:
			return {...common, action: 'rekey', confirm: bytes(json.confirm, 32, 'confirm'), signature};
	}
}

function recordToJson(record: RoomRecord): RoomRecordJson {
	return {username: record.username, identity: toBase64Url(record.identity), x25519: toBase64Url(record.x25519), binding: toBase64Url(record.binding)};
}

function recordFromJson(json: RoomRecordJson | undefined): RoomRecord {
	if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TypeError('the record is not an object');
	return {
		username: text(json.username, 'record username'),
		identity: bytes(json.identity, 32, 'record identity'),
		x25519: bytes(json.x25519, 32, 'record x25519'),
		binding: bytes(json.binding, 64, 'record binding'),
	};
}

function text(value: unknown, name: string): string {
	if (typeof value !== 'string') throw new TypeError(`${name} is not a string`);
	return value;
}

function bytes(value: unknown, length: number, name: string): Buffer {
	if (typeof value !== 'string') throw new TypeError(`${name} is not a string`);
	try {
		return fromBase64Url(value, length);
	} catch {
		throw new TypeError(`${name} is not ${length} bytes of B64U`);
	}
}
