import type {Dispatch} from 'react';
import type {ChatConnection} from '../../client/client-events.js';
import type {ChatAction} from '../chat-state/types.js';
import {onRoomEvent, roomsOf} from './room-api.js';

/** At each welcome: the rooms and invitations as this device has them (the client says changes as they come). */
export function listRooms(connection: ChatConnection, dispatch: Dispatch<ChatAction>, now: () => number): void {
	try {
		const rooms = roomsOf(connection);
		dispatch({type: 'rooms', rooms: rooms.list(), invites: rooms.invites(), time: now()});
	} catch {
		// No rooms on this connection: nothing to list.
	}
}

/** Turns the connection's room events into chat actions; returns the unsubscribe. */
export function listenToRooms(connection: ChatConnection, dispatch: Dispatch<ChatAction>, now: () => number): () => void {
	const off = [
		onRoomEvent(connection, 'rooms', rooms => dispatch({type: 'rooms', rooms, time: now()})),
		onRoomEvent(connection, 'room-message', message => dispatch({type: 'room-message', message})),
		onRoomEvent(connection, 'room-change', change => dispatch({type: 'room-change', change})),
		onRoomEvent(connection, 'room-accepted', accepted => dispatch({type: 'room-accepted', accepted})),
		onRoomEvent(connection, 'room-delivered', delivered => dispatch({type: 'room-delivered', delivered})),
		onRoomEvent(connection, 'room-invite', invite => dispatch({type: 'room-invite', invite})),
		onRoomEvent(connection, 'room-declined', declined => dispatch({type: 'room-declined', declined, time: now()})),
		onRoomEvent(connection, 'room-error', error => dispatch({type: 'room-error', error, time: now()})),
		onRoomEvent(connection, 'room-rejected', rejection => dispatch({type: 'room-rejected', rejection, time: now()})),
	];
	return () => {
		for (const each of off) each();
	};
}
