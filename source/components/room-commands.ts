import {isRoomName} from '../hooks/chat-state/room-keys.js';
import {checkUsername, foldUsername} from '../net/usernames.js';

/**
 * The room commands: their rows of the /help table and their parsing. A room is written `#name`
 * (`name` alone where nothing else could be meant); left out, it is the room on screen. Names are
 * case-folded and checked here; whether such a room or member exists is for the caller to say.
 */
export type RoomCommand =
	/** `topic` as typed after the name ('' when none). */
	| {name: 'create'; room: string; topic: string}
	| {name: 'invite' | 'kick' | 'admin'; room: string | undefined; target: string}
	| {name: 'accept' | 'decline' | 'leave' | 'members' | 'rekey'; room: string | undefined}
	/** Always about the room on screen: a topic may start with a `#word`. */
	| {name: 'topic'; room: undefined; topic: string};

export type RoomCommandName = RoomCommand['name'];

export type ParsedRoomCommand = {ok: true; command: RoomCommand} | {ok: false; error: string};

export const roomCommands: ReadonlyArray<{name: RoomCommandName; usage: string; help: string}> = [
	{name: 'create', usage: '/create #ROOM [topic]', help: 'makes a room (1 to 32 of a-z, 0-9, _ and -) with you its admin; /invite people to it'},
	{name: 'invite', usage: '/invite [#ROOM] NAME', help: 'invites NAME to the room on screen (or #ROOM): they /accept or /decline it'},
	{name: 'accept', usage: '/accept [#ROOM]', help: 'joins a room you were invited to'},
	{name: 'decline', usage: '/decline [#ROOM]', help: 'turns an invitation down'},
	{name: 'members', usage: '/members [#ROOM]', help: "lists the room's members, admins marked @"},
	{name: 'leave', usage: '/leave [#ROOM]', help: 'leaves the room (its history stays on this device until you /forget it)'},
	{name: 'kick', usage: '/kick [#ROOM] NAME', help: "removes NAME from the room (admins); the room's keys are renewed"},
	{name: 'topic', usage: '/topic TEXT', help: 'sets the topic of the room on screen (admins)'},
	{name: 'admin', usage: '/admin [#ROOM] NAME', help: 'makes NAME an admin of the room too (admins)'},
	{name: 'rekey', usage: '/rekey [#ROOM]', help: "renews the room's keys now (admins; also done by itself weekly and after anyone leaves)"},
];

const roomRule = 'is not a room name (# and 1 to 32 of a-z, 0-9, _ and -)';

type Room = {ok: true; room: string} | {ok: false; error: string};

/** `#name` (or `name` where `bare` allows it), folded and checked. */
function parseRoom(raw: string, usage: string, bare: boolean): Room {
	const hashed = raw.startsWith('#');
	const name = foldUsername(hashed ? raw.slice(1) : raw);
	if (name === 'everyone') return {ok: false, error: `${usage}: #everyone is everyone online, not a room.`};
	if ((!hashed && !bare) || !isRoomName(name)) return {ok: false, error: `${usage}: "${raw}" ${roomRule}.`};
	return {ok: true, room: name};
}

function parseMember(raw: string, usage: string): {ok: true; name: string} | {ok: false; error: string} {
	const check = checkUsername(raw);
	if (check.ok) return {ok: true, name: check.username};
	const why = check.code === 'reserved_username' ? 'is reserved, nobody has it' : 'is not a username (1 to 32 of a-z, 0-9, _ and -)';
	return {ok: false, error: `${usage}: "${raw}" ${why}.`};
}

/** `line` is the whole input, `word` the command as typed, `rest` the words after it. */
export function parseRoomCommand(name: RoomCommandName, line: string, word: string, rest: readonly string[]): ParsedRoomCommand {
	const usage = roomCommands.find(spec => spec.name === name)!.usage;
	const after = line.trimStart().slice(word.length).trimStart();
	switch (name) {
		case 'create': {
			const [raw] = rest;
			if (raw === undefined) return {ok: false, error: `Usage: ${usage}.`};
			const room = parseRoom(raw, usage, true);
			if (!room.ok) return room;
			return {ok: true, command: {name, room: room.room, topic: after.slice(raw.length).trim()}};
		}

		case 'topic': {
			const topic = after.trim();
			return topic === '' ? {ok: false, error: `Usage: ${usage}.`} : {ok: true, command: {name, room: undefined, topic}};
		}

		case 'invite':
		case 'kick':
		case 'admin': {
			if (rest.length === 0 || rest.length > 2) return {ok: false, error: `Usage: ${usage}.`};
			let room: string | undefined;
			if (rest.length === 2) {
				const parsed = parseRoom(rest[0]!, usage, false);
				if (!parsed.ok) return parsed;
				room = parsed.room;
			}

			const member = parseMember(rest.at(-1)!, usage);
			return member.ok ? {ok: true, command: {name, room, target: member.name}} : member;
		}

		default: {
			if (rest.length > 1) return {ok: false, error: `Usage: ${usage}.`};
			const [raw] = rest;
			if (raw === undefined) return {ok: true, command: {name, room: undefined}};
			const room = parseRoom(raw, usage, true);
			return room.ok ? {ok: true, command: {name, room: room.room}} : room;
		}
	}
}

export function isRoomCommandName(name: string): name is RoomCommandName {
	return roomCommands.some(spec => spec.name === name);
}
