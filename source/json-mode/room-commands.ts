import type {RoomInvite, Rooms, RoomView} from '../hooks/rooms/room-api.js';
import type {Ref, RoomJsonCommand} from './commands.js';

/** What a room command answers: the client took it (the outcome comes as room events), or the list. */
export type RoomAnswer =
	| {type: 'requested'; ref: Ref; command: Exclude<RoomJsonCommand['type'], 'rooms'>; room: string}
	| {type: 'rooms'; ref: Ref; rooms: RoomView[]; invites: RoomInvite[]};

/** Runs a room command on the client's rooms; throws what the client refused. */
export function runRoomCommand(rooms: Rooms, command: RoomJsonCommand & {ref: Ref}): RoomAnswer {
	const {ref} = command;
	if (command.type === 'rooms') return {type: 'rooms', ref, rooms: rooms.list(), invites: rooms.invites()};
	const {room} = command;
	switch (command.type) {
		case 'create':
			rooms.create(room, command.topic);
			break;
		case 'invite':
			rooms.invite(room, command.user);
			break;
		case 'kick':
			rooms.kick(room, command.user);
			break;
		case 'admin':
			rooms.makeAdmin(room, command.user);
			break;
		case 'accept':
			rooms.accept(room);
			break;
		case 'decline':
			rooms.decline(room);
			break;
		case 'leave':
			rooms.leave(room);
			break;
		case 'rekey':
			rooms.rekey(room);
			break;
		case 'topic':
			rooms.setTopic(room, command.topic);
			break;
	}
	return {type: 'requested', ref, command: command.type, room};
}
