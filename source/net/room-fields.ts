import {asObject, bad, body, describe, envelopeKey, int, key, messageId, str, username, type Fields} from './message-fields.js';
import {isValidRoomName} from '../crypto/room-entry.js';
import {
	maxRoomChainIndex,
	maxRoomLogEntries,
	maxStagedKeysPerMessage,
	type DeliveredRoomKey,
	type RoomClientMessage,
	type RoomEntryWire,
	type RoomKeyEnvelope,
	type RoomRecordWire,
	type RoomRelayMessage,
	type WelcomeRoom,
} from './room-types.js';

/**
 * The checks of room messages (design rooms.md section 4), each throwing bad_message (a
 * ProtocolError) on a missing or wrong field. A log entry's shape only is checked here (types and
 * bounded lengths): room-entry-codec.ts judges its bytes.
 */

export function roomName(fields: Fields, name = 'room'): string {
	const value = str(fields, name);
	if (!isValidRoomName(value)) bad(`"${name}" must be a room name: 1 to 32 of a-z, 0-9, _ and -, not "everyone"`);
	return value;
}

/** A u32 chain index. */
function chainIndex(fields: Fields): number {
	const value = int(fields, 'n');
	if (value > maxRoomChainIndex) bad(`"n" must be at most ${maxRoomChainIndex}`);
	return value;
}

/** A string of at most `max` characters (a UTF-16 unit count: never fewer than the UTF-8 bytes). */
function bounded(fields: Fields, name: string, max: number): string {
	const value = str(fields, name);
	if (value.length > max) bad(`"${name}" is longer than ${max} characters`);
	return value;
}

function optionalBounded(fields: Fields, name: string, max: number): string | undefined {
	return fields[name] === undefined ? undefined : bounded(fields, name, max);
}

/** Names in an entry: the codec checks the rule. */
const maxEntryNameChars = 32;
/** B64U of at most 64 bytes. */
const maxEntryKeyChars = 86;
/** A topic is at most 256 UTF-8 bytes: at most 256 characters. */
const maxEntryTopicChars = 256;
const maxActionChars = 16;

function recordShape(value: unknown): RoomRecordWire {
	const fields = asObject(value);
	return {
		username: bounded(fields, 'username', maxEntryNameChars),
		identity: bounded(fields, 'identity', maxEntryKeyChars),
		x25519: bounded(fields, 'x25519', maxEntryKeyChars),
		binding: bounded(fields, 'binding', maxEntryKeyChars),
	};
}

/** A log entry's shape: known fields of the right types and lengths; unknown fields dropped. */
export function roomEntry(value: unknown): RoomEntryWire {
	const fields = asObject(value);
	const entry: RoomEntryWire = {
		room: bounded(fields, 'room', maxEntryNameChars),
		index: int(fields, 'index'),
		prev: bounded(fields, 'prev', maxEntryKeyChars),
		author: bounded(fields, 'author', maxEntryNameChars),
		time: int(fields, 'time'),
		action: bounded(fields, 'action', maxActionChars),
		signature: bounded(fields, 'signature', maxEntryKeyChars),
	};
	const topic = optionalBounded(fields, 'topic', maxEntryTopicChars);
	if (topic !== undefined) entry.topic = topic;
	if (fields.record !== undefined) entry.record = recordShape(fields.record);
	for (const name of ['member'] as const) {
		const field = optionalBounded(fields, name, maxEntryNameChars);
		if (field !== undefined) entry[name] = field;
	}
	for (const name of ['nonce', 'accept', 'confirm'] as const) {
		const field = optionalBounded(fields, name, maxEntryKeyChars);
		if (field !== undefined) entry[name] = field;
	}
	return entry;
}

/** A record the relay sends: a valid username and keys of their lengths. */
export function roomRecord(value: unknown): RoomRecordWire {
	const fields = asObject(value);
	return {username: username(fields, 'username'), identity: key(fields, 'identity', 32), x25519: key(fields, 'x25519', 32), binding: key(fields, 'binding', 64)};
}

/** One sealed room key of a room_stage: a ratchet envelope (no ephemeral key), kind direct when given. */
function stagedKey(value: unknown): RoomKeyEnvelope {
	const fields = asObject(value);
	if (fields.kind !== undefined && fields.kind !== 'direct') bad('a room key is of kind "direct"');
	const sealed = envelopeKey(fields);
	if (!('ratchet' in sealed)) bad('a room key is a ratchet envelope');
	return {to: username(fields, 'to'), id: messageId(fields, 'id'), ratchet: sealed.ratchet, body: body(fields)};
}

function stagedKeys(fields: Fields): RoomKeyEnvelope[] {
	const value = fields.keys;
	if (!Array.isArray(value) || value.length === 0 || value.length > maxStagedKeysPerMessage) {
		bad(`"keys" must hold 1 to ${maxStagedKeysPerMessage} room keys`);
	}
	return value.map(item => stagedKey(item));
}

function deliveredKey(value: unknown): DeliveredRoomKey {
	const fields = asObject(value);
	const {to, id, ratchet, body: sealed} = stagedKey(value);
	if (fields.kind !== 'direct') bad('a room key is of kind "direct"');
	return {from: username(fields, 'from'), to, id, kind: 'direct', ratchet, body: sealed};
}

export function parseRoomClientMessage(fields: Fields): RoomClientMessage {
	switch (fields.type) {
		case 'room_stage':
			return {type: 'room_stage', room: roomName(fields), keys: stagedKeys(fields)};
		case 'room_change':
			return {type: 'room_change', room: roomName(fields), entry: roomEntry(fields.entry)};
		case 'room_send':
			return {
				type: 'room_send',
				room: roomName(fields),
				id: messageId(fields, 'id'),
				epoch: key(fields, 'epoch', 32),
				n: chainIndex(fields),
				body: body(fields),
				signature: key(fields, 'signature', 64),
			};
		case 'room_ack':
			return {type: 'room_ack', room: roomName(fields), seq: int(fields, 'seq')};
		case 'room_invite':
			return {type: 'room_invite', room: roomName(fields), to: username(fields, 'to'), nonce: key(fields, 'nonce', 16), signature: key(fields, 'signature', 64)};
		case 'room_accept':
			return {type: 'room_accept', room: roomName(fields), nonce: key(fields, 'nonce', 16), accept: key(fields, 'accept', 64)};
		case 'room_decline':
			return {type: 'room_decline', room: roomName(fields), nonce: key(fields, 'nonce', 16)};
		case 'room_log':
			return {type: 'room_log', room: roomName(fields), from: int(fields, 'from')};
		default:
			return bad(`unknown client message type (${describe(fields.type)})`);
	}
}

function roomEntries(fields: Fields): RoomEntryWire[] {
	const value = fields.entries;
	if (!Array.isArray(value) || value.length > maxRoomLogEntries) bad(`"entries" must hold at most ${maxRoomLogEntries} log entries`);
	return value.map(item => roomEntry(item));
}

export function parseRoomRelayMessage(fields: Fields): RoomRelayMessage {
	switch (fields.type) {
		case 'room_change':
			return {
				type: 'room_change',
				room: roomName(fields),
				seq: int(fields, 'seq'),
				time: int(fields, 'time'),
				entry: roomEntry(fields.entry),
				...(fields.key === undefined ? {} : {key: deliveredKey(fields.key)}),
			};
		case 'room_message':
			return {
				type: 'room_message',
				room: roomName(fields),
				seq: int(fields, 'seq'),
				time: int(fields, 'time'),
				from: username(fields, 'from'),
				id: messageId(fields, 'id'),
				epoch: key(fields, 'epoch', 32),
				n: chainIndex(fields),
				body: str(fields, 'body'),
				signature: key(fields, 'signature', 64),
			};
		case 'room_accepted':
			return {type: 'room_accepted', room: roomName(fields), id: messageId(fields, 'id'), seq: int(fields, 'seq'), time: int(fields, 'time')};
		case 'room_changed':
			return {type: 'room_changed', room: roomName(fields), index: int(fields, 'index'), seq: int(fields, 'seq')};
		case 'room_delivered':
			return {
				type: 'room_delivered',
				room: roomName(fields),
				seq: int(fields, 'seq'),
				id: messageId(fields, 'id'),
				delivered: int(fields, 'delivered'),
				of: int(fields, 'of'),
			};
		case 'room_invitation': {
			const topic = optionalBounded(fields, 'topic', maxEntryTopicChars);
			return {
				type: 'room_invitation',
				room: roomName(fields),
				from: roomRecord(fields.from),
				nonce: key(fields, 'nonce', 16),
				signature: key(fields, 'signature', 64),
				time: int(fields, 'time'),
				...(topic === undefined ? {} : {topic}),
			};
		}
		case 'room_join_request':
			return {type: 'room_join_request', room: roomName(fields), record: roomRecord(fields.record), nonce: key(fields, 'nonce', 16), accept: key(fields, 'accept', 64)};
		case 'room_declined':
			return {type: 'room_declined', room: roomName(fields), username: username(fields, 'username')};
		case 'room_log':
			return {type: 'room_log', room: roomName(fields), entries: roomEntries(fields)};
		default:
			return bad(`unknown relay message type (${describe(fields.type)})`);
	}
}

/** A welcome's `rooms`: the rooms the user is a member of. */
export function welcomeRooms(value: unknown): WelcomeRoom[] {
	if (!Array.isArray(value)) bad('"rooms" must be an array');
	return value.map(item => {
		const fields = asObject(item);
		return {room: roomName(fields), seq: int(fields, 'seq')};
	});
}

export const roomClientTypes: ReadonlySet<string> = new Set(['room_stage', 'room_change', 'room_send', 'room_ack', 'room_invite', 'room_accept', 'room_decline', 'room_log']);

export const roomRelayTypes: ReadonlySet<string> = new Set([
	'room_change',
	'room_message',
	'room_accepted',
	'room_changed',
	'room_delivered',
	'room_invitation',
	'room_join_request',
	'room_declined',
	'room_log',
]);
