import type {RoomAction} from '../../crypto/room-log.js';
import type {RoomStatus} from './room-store.js';

export type {RoomStatus} from './room-store.js';

/** A room as the UI lists it. Names and topics are raw: the UI sanitises them. */
export type RoomView = {
	room: string;
	topic: string;
	members: Array<{username: string; admin: boolean}>;
	admins: string[];
	creator: string;
	index: number;
	status: RoomStatus;
	note?: string;
	needsRekey: boolean;
	/** Milliseconds since the current epoch's fresh secret was drawn (when this account holds the epoch). */
	epochAge?: number;
};

/** What the UI shows for a change. */
export type ChangeLine = {room: string; index: number; author: string; action: RoomAction; member?: string; topic?: string; time: number};

export type RoomRejection = 'forged' | 'not_member' | 'stale_epoch' | 'replay' | 'unreadable' | 'malformed' | 'too_far';

export type RoomOpened =
	| {type: 'text'; room: string; seq: number; from: string; id: string; text: string; sent: number; time: number}
	| {type: 'rejected'; room: string; seq: number; from: string; code: RoomRejection; reason: string};

/** A room_message item as the relay delivers it. */
export type RoomMessageItem = {room: string; seq: number; time: number; from: string; id: string; epoch: string; n: number; body: string; signature: string};
