import type {ChatConnection} from '../../client/client-events.js';

/**
 * The face of the client's rooms (RoomSession, design rooms.md) that the UI and --json use, and
 * the room events it emits. Room names here are bare (`dev`); the conversation key is `#dev`.
 */
export type RoomStatus = 'member' | 'invited' | 'left' | 'removed' | 'stalled';

export type RoomAction = 'create' | 'add' | 'remove' | 'leave' | 'admin' | 'topic' | 'rekey';

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
	epochAge?: number;
};

/** A change of a room's log, as shown: who did what, and when. */
export type ChangeLine = {room: string; index: number; author: string; action: RoomAction; member?: string; topic?: string; time: number};

export type RoomEvents = {
	'room-message': [message: {room: string; seq: number; id: string; from: string; text: string; time: number; sent: number}];
	'room-change': [change: ChangeLine & {seq: number}];
	'room-accepted': [accepted: {room: string; id: string; seq: number; time: number}];
	'room-delivered': [delivered: {room: string; id: string; delivered: number; of: number}];
	'room-invite': [invite: {room: string; from: string; time: number}];
	'room-declined': [declined: {room: string; username: string}];
	'room-error': [error: {room: string; code: string; message: string; id?: string}];
	'room-rejected': [rejection: {room: string; from: string; code: string; reason: string}];
	rooms: [rooms: RoomView[]];
};

export type RoomInvite = {room: string; from: string; time: number};

/** RoomSession's public API: local checks throw an Error whose message a person can act on. */
export interface Rooms {
	create(name: string, topic?: string): void;
	invite(room: string, username: string): void;
	accept(room: string): void;
	decline(room: string): void;
	kick(room: string, username: string): void;
	leave(room: string): void;
	makeAdmin(room: string, username: string): void;
	setTopic(room: string, topic: string): void;
	rekey(room: string): void;
	send(room: string, text: string): string;
	list(): RoomView[];
	invites(): RoomInvite[];
}

/** A connection with rooms: ChatClient's `rooms` getter throws 'not connected' before the first login. */
export type RoomConnection = ChatConnection & {readonly rooms: Rooms};

/** The connection's rooms; throws when it has none (not logged in yet, or a connection without rooms). */
export function roomsOf(connection: ChatConnection): Rooms {
	const rooms = (connection as Partial<RoomConnection>).rooms;
	if (rooms === undefined) throw new Error('rooms are not available on this connection');
	return rooms;
}

/** Listens to a room event of `connection`; returns the unsubscribe. */
export function onRoomEvent<E extends keyof RoomEvents>(connection: ChatConnection, event: E, listener: (...args: RoomEvents[E]) => void): () => void {
	type Listener = (...args: unknown[]) => void;
	const emitter = connection as unknown as {on(event: string, listener: Listener): unknown; off(event: string, listener: Listener): unknown};
	const untyped = listener as unknown as Listener;
	emitter.on(event, untyped);
	return () => {
		emitter.off(event, untyped);
	};
}
