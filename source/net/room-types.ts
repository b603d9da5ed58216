/** Room messages on the wire (design rooms.md section 4) as discriminated unions; room-fields.ts parses them. */
import type {RoomEntryJson, RoomRecordJson} from '../crypto/room-entry-codec.js';

/** A member's public identity inside a room message or log entry (no presence); keys are B64U. */
export type RoomRecordWire = RoomRecordJson;

/**
 * A room log entry as JSON (design section 2): only its shape is checked on the wire (strings and
 * numbers, bounded lengths); source/crypto/room-entry-codec.ts checks the bytes and the action's fields.
 */
export type RoomEntryWire = RoomEntryJson;

/** A sealed `room_key` for one member: a 1:1 ratchet envelope of kind direct, as a `send` would carry it. */
export type RoomKeyEnvelope = {to: string; id: string; ratchet: string; body: string};

/** A member's room key as the relay delivers it inside a change item: an envelope from the change's author. */
export type DeliveredRoomKey = {from: string; to: string; id: string; kind: 'direct'; ratchet: string; body: string};

/** Keys one room_stage may carry. */
export const maxStagedKeysPerMessage = 200;

/** Log entries one room_log answer carries at most. */
export const maxRoomLogEntries = 100;

/** `n` of a room message is a u32. */
export const maxRoomChainIndex = 0xff_ff_ff_ff;

export type RoomClientMessage =
	| {type: 'room_stage'; room: string; keys: RoomKeyEnvelope[]}
	| {type: 'room_change'; room: string; entry: RoomEntryWire}
	| {type: 'room_send'; room: string; id: string; epoch: string; n: number; body: string; signature: string}
	| {type: 'room_ack'; room: string; seq: number}
	| {type: 'room_invite'; room: string; to: string; nonce: string; signature: string}
	| {type: 'room_accept'; room: string; nonce: string; accept: string}
	| {type: 'room_decline'; room: string; nonce: string}
	/** Log entries of index `from` and after (at most maxRoomLogEntries). */
	| {type: 'room_log'; room: string; from: number};

export type RoomClientMessageType = RoomClientMessage['type'];

/** A change item of a room's stream: `key` is this member's sealed epoch secret, when the change brings one for it. */
export type RoomChangeItem = {type: 'room_change'; room: string; seq: number; time: number; entry: RoomEntryWire; key?: DeliveredRoomKey};

/** A message item of a room's stream. */
export type RoomMessageItem = {
	type: 'room_message';
	room: string;
	seq: number;
	time: number;
	from: string;
	id: string;
	epoch: string;
	n: number;
	body: string;
	signature: string;
};

export type RoomRelayMessage =
	| RoomChangeItem
	| RoomMessageItem
	| {type: 'room_accepted'; room: string; id: string; seq: number; time: number}
	| {type: 'room_changed'; room: string; index: number; seq: number}
	| {type: 'room_delivered'; room: string; seq: number; id: string; delivered: number; of: number}
	| {type: 'room_invitation'; room: string; from: RoomRecordWire; nonce: string; signature: string; time: number; topic?: string}
	| {type: 'room_join_request'; room: string; record: RoomRecordWire; nonce: string; accept: string}
	| {type: 'room_declined'; room: string; username: string}
	| {type: 'room_log'; room: string; entries: RoomEntryWire[]};

/** A room the user is a member of, in its welcome: `seq` the last item of its stream. */
export type WelcomeRoom = {room: string; seq: number};
