import type {ChangeLine, RoomRejection, RoomView} from './room-types.js';

/**
 * What a ChatClient tells its listeners about rooms (part of ClientEvents). Names, topics and
 * texts are raw: sanitize before display. A room's conversation in the history is `#name`.
 */
export type RoomEvents = {
	/** A text of a room member, opened and verified (its seq: the room's stream position). */
	'room-message': [message: {room: string; seq: number; id: string; from: string; text: string; time: number; sent: number}];
	/** A change of a room's log, applied (who joined, left, was removed, became admin; the topic; a new key). */
	'room-change': [change: ChangeLine & {seq: number}];
	/** The relay has my room message `id` safe, as item `seq` of the room's stream. */
	'room-accepted': [ack: {room: string; id: string; seq: number; time: number}];
	/** `delivered` of the `of` other members have read my message `id` (✓ 3/5). */
	'room-delivered': [delivery: {room: string; id: string; delivered: number; of: number}];
	/** `from` invites you to `room`: accept or decline it (RoomSession.accept / decline). */
	'room-invite': [invite: {room: string; from: string; time: number}];
	/** `username` declined your invitation to `room`. */
	'room-declined': [declined: {room: string; username: string}];
	/**
	 * Something about `room` went wrong: a refusal of the relay (its error code), or this device
	 * could not follow the room (`room_stalled`: a change did not apply; `key_changed`: a member's
	 * key differs from the one pinned). With `id`: my message `id` was not sent, for good.
	 */
	'room-error': [error: {room: string; code: string; message: string; id?: string}];
	/** A room message was dropped: forged, replayed, unreadable, from someone not a member, … */
	'room-rejected': [rejection: {room: string; from: string; code: RoomRejection | 'key_changed'; reason: string}];
	/** The rooms and their state, whenever the list or a room's state changes. */
	rooms: [rooms: RoomView[]];
};
