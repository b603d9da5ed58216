import type {ChatConnection, ClientEvents} from '../../client/client-events.js';
import type {RoomSession} from '../../client/rooms/room-session.js';

export type {RoomEvents} from '../../client/client-events.js';
export type {ChangeLine, RoomStatus, RoomView} from '../../client/rooms/room-types.js';

/**
 * The face of the client's rooms (RoomSession, source/client/rooms/room-session.ts) that the UI
 * and --json use. Room names here are bare (`dev`); the conversation key is `#dev`.
 */
export type RoomInvite = {room: string; from: string; time: number};

/** RoomSession's public API: local checks throw an Error whose message a person can act on. */
export type Rooms = Pick<RoomSession, 'create' | 'invite' | 'accept' | 'decline' | 'kick' | 'leave' | 'makeAdmin' | 'setTopic' | 'rekey' | 'send' | 'list' | 'invites'>;

/** A connection with rooms: ChatClient's `rooms` getter throws 'not connected' before the first login. */
export type RoomConnection = ChatConnection & {readonly rooms: Rooms};

/** The connection's rooms; throws when it has none (not logged in yet, or a connection without rooms). */
export function roomsOf(connection: ChatConnection): Rooms {
	const rooms = (connection as Partial<RoomConnection>).rooms;
	if (rooms === undefined) throw new Error('rooms are not available on this connection');
	return rooms;
}

type RoomEventName = 'rooms' | 'room-message' | 'room-change' | 'room-accepted' | 'room-delivered' | 'room-invite' | 'room-declined' | 'room-error' | 'room-rejected';

/** Listens to a room event of `connection`; returns the unsubscribe. */
export function onRoomEvent<E extends RoomEventName>(connection: ChatConnection, event: E, listener: (...args: ClientEvents[E]) => void): () => void {
	connection.on(event, listener);
	return () => {
		connection.off(event, listener);
	};
}
