import type {Dispatch} from 'react';
import type {ChatConnection} from '../client/client-events.js';
import type {RoomCommand} from '../components/room-commands.js';
import {isRoomKey, roomKey, roomOf} from './chat-state/room-keys.js';
import type {ChatAction, ChatState, SystemTone} from './chat-state/types.js';
import {errorText} from './error-text.js';
import {roomsOf, type Rooms} from './rooms/room-api.js';

/** PROTOCOL.md section 10, the same for rooms: a message's text is at most 8,192 bytes of UTF-8. */
const maxTextBytes = 8192;

export type RoomActions = {
	/** Runs a room command; every refusal comes back as a system line. */
	room(command: RoomCommand): void;
	/** Sends text to room conversation `key` (`#name`); false (with a line saying why) if it was not sent. */
	sendToRoom(key: string, text: string): boolean;
};

type Context = {
	connection: ChatConnection;
	state: () => ChatState;
	dispatch: Dispatch<ChatAction>;
	now: () => number;
};

/** What each command asks of the client's rooms, and the line said once it was asked (none: its change line says it). */
const run: {[N in RoomCommand['name']]: (rooms: Rooms, room: string, command: Extract<RoomCommand, {name: N}>) => string | undefined} = {
	create: (rooms, room, {topic}) => {
		rooms.create(room, topic);
		return `Creating #${room}…`;
	},
	invite: (rooms, room, {target}) => {
		rooms.invite(room, target);
		return `Invited ${target} to #${room}: they can /accept #${room} or /decline it.`;
	},
	accept: (rooms, room) => {
		rooms.accept(room);
		return `Accepted: you join #${room} once one of its admins' clients adds you.`;
	},
	decline: (rooms, room) => {
		rooms.decline(room);
		return `You declined the invitation to #${room}.`;
	},
	kick: (rooms, room, {target}) => {
		rooms.kick(room, target);
		return undefined;
	},
	leave: (rooms, room) => {
		rooms.leave(room);
		return undefined;
	},
	admin: (rooms, room, {target}) => {
		rooms.makeAdmin(room, target);
		return undefined;
	},
	topic: (rooms, room, {topic}) => {
		rooms.setTopic(room, topic);
		return undefined;
	},
	rekey: (rooms, room) => {
		rooms.rekey(room);
		return undefined;
	},
	members: () => undefined,
};

/** /create, /invite, /accept… over the connection's rooms; sending to a room. */
export function roomActions({connection, state, dispatch, now}: Context): RoomActions {
	const note = (text: string, tone: SystemTone = 'info', conversation?: string) => {
		dispatch({type: 'local', tone, text, time: now(), ...(conversation === undefined ? {} : {conversation})});
	};

	const members = (room: string) => {
		const key = roomKey(room);
		const view = state().rooms.get(key);
		if (view === undefined || (view.status !== 'member' && view.status !== 'stalled')) {
			note(`You are not a member of ${key}.`, 'error');
			return;
		}

		const names = [...view.members].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0)).map(member => (member.admin ? `@${member.username}` : member.username));
		note(`${key}: ${names.length} ${names.length === 1 ? 'member' : 'members'} (@ an admin): ${names.join(', ')}`, 'info', key);
	};

	return {
		room(command) {
			const room = command.room ?? roomOf(state().selected);
			if (room === undefined) {
				note(`/${command.name} is about a room: name it (#ROOM), or choose the room first.`, 'error');
				return;
			}

			if (command.name === 'members') {
				members(room);
				return;
			}

			try {
				const said = (run[command.name] as (rooms: Rooms, room: string, command: RoomCommand) => string | undefined)(roomsOf(connection), room, command);
				if (command.name === 'decline') dispatch({type: 'invite-answered', room});
				if (said !== undefined) note(said, 'info', roomKey(room));
				if (command.name === 'create' || command.name === 'accept') dispatch({type: 'select', key: roomKey(room)});
			} catch (error) {
				note(`/${command.name} #${room}: ${errorText(error)}`, 'error');
			}
		},
		sendToRoom(key, text) {
			const room = roomOf(key);
			if (room === undefined || !isRoomKey(key)) return false;
			if (Buffer.byteLength(text, 'utf8') > maxTextBytes) {
				note(`Not sent: a message is at most ${maxTextBytes} bytes.`, 'error');
				return false;
			}

			try {
				const id = roomsOf(connection).send(room, text);
				dispatch({type: 'outgoing', id, to: key, recipients: [], text, time: now()});
				return true;
			} catch (error) {
				note(`Not sent: ${errorText(error)}`, 'error', key);
				return false;
			}
		},
	};
}
