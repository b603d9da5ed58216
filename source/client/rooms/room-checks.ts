import {Buffer} from 'node:buffer';
import {isValidRoomName, maxRoomAdmins, maxRoomMembers, maxTopicBytes} from '../../crypto/room-log.js';
import {checkUsername, foldUsername} from '../../net/usernames.js';
import type {RoomView} from './room-types.js';

/** Rooms one user may be a member of (the relay's limit too). */
export const maxRoomsPerUser = 100;

/**
 * The checks RoomSession makes before it asks for anything, each an Error in words a person can
 * act on. What only the relay knows (a name taken, its limits) comes back as a room-error event.
 */
export function roomName(raw: string): string {
	const name = foldUsername(raw.startsWith('#') ? raw.slice(1) : raw);
	if (!isValidRoomName(name)) throw new Error(`"${raw}" is not a room name: 1 to 32 of a-z, 0-9, _ and -, and not "everyone"`);
	return name;
}

export function userName(raw: string): string {
	const check = checkUsername(raw);
	if (!check.ok) throw new Error(check.message);
	return check.username;
}

export function checkTopic(topic: string): void {
	const bytes = Buffer.byteLength(topic, 'utf8');
	if (bytes > maxTopicBytes) throw new Error(`a topic is at most ${maxTopicBytes} bytes, this one is ${bytes}`);
}

/** The room, where `me` is a member (or an admin, with `admin`). */
export function memberOf(view: RoomView | undefined, room: string, me: string, admin = false): RoomView {
	if (view === undefined) throw new Error(`there is no room #${room} here`);
	if (view.status === 'invited') throw new Error(`you are invited to #${room}, not a member yet: accept the invitation first`);
	if (view.status === 'left' || view.status === 'removed') throw new Error(`you are no longer a member of #${room}`);
	if (admin && !view.admins.includes(me)) throw new Error(`only an admin of #${room} can do that (its admins: ${view.admins.join(', ')})`);
	return view;
}

export function isMember(view: RoomView, name: string): boolean {
	return view.members.some(member => member.username === name);
}

export function checkCreate(rooms: readonly RoomView[], room: string, topic: string): void {
	checkTopic(topic);
	const existing = rooms.find(view => view.room === room);
	if (existing !== undefined && (existing.status === 'member' || existing.status === 'stalled')) throw new Error(`you are in #${room} already`);
	const member = rooms.filter(view => view.status === 'member' || view.status === 'stalled').length;
	if (member >= maxRoomsPerUser) throw new Error(`you are in ${maxRoomsPerUser} rooms, the most there can be: leave one first`);
}

export function checkInvite(view: RoomView, room: string, me: string, invitee: string): void {
	if (invitee === me) throw new Error(`you are in #${room} already`);
	if (isMember(view, invitee)) throw new Error(`${invitee} is in #${room} already`);
	if (view.members.length >= maxRoomMembers) throw new Error(`#${room} has ${maxRoomMembers} members, the most there can be`);
}

export function checkKick(view: RoomView, room: string, me: string, member: string): void {
	if (member === me) throw new Error(`to leave #${room}, leave it (you cannot remove yourself)`);
	if (!isMember(view, member)) throw new Error(`${member} is not in #${room}`);
	if (member === view.creator) throw new Error(`${member} made #${room}: nobody can remove them`);
}

export function checkLeave(view: RoomView, room: string, me: string): void {
	if (view.admins.length === 1 && view.admins[0] === me && view.members.length > 1) {
		throw new Error(`you are the only admin of #${room}: make someone else an admin first`);
	}
}

export function checkMakeAdmin(view: RoomView, room: string, member: string): void {
	if (!isMember(view, member)) throw new Error(`${member} is not in #${room}`);
	if (view.admins.includes(member)) throw new Error(`${member} is an admin of #${room} already`);
	if (view.admins.length >= maxRoomAdmins) throw new Error(`#${room} has ${maxRoomAdmins} admins, the most there can be`);
}

export function checkSend(view: RoomView, room: string): void {
	if (view.status === 'stalled') throw new Error(`#${room} is stalled${view.note === undefined ? '' : ` (${view.note})`}: nothing can be sent until it has a new key`);
}
