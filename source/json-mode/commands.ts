import {everyoneConversation, maxHistoryPage} from '../client/history.js';
import {checkUsername, foldUsername, isFoldedName} from '../net/usernames.js';
import {isRoomName} from '../hooks/chat-state/room-keys.js';

/** What a script may send, one JSON object per line (README, "Scripts and bots: --json"). */
export type JsonCommand = {ref: Ref} & (
	| {type: 'send'; to: string; text: string}
	| {type: 'history'; with: string; before?: number; limit: number}
	| {type: 'search'; words: string; limit: number}
	| {type: 'forget'; with: string}
	| {type: 'lookup'; names: string[]}
	| {type: 'who'}
	| {type: 'trust'; user: string}
	| RoomJsonCommand
	| {type: 'quit'}
);

/** The room commands: `room` is the bare name (given as "dev" or "#dev"). */
export type RoomJsonCommand =
	| {type: 'create'; room: string; topic: string}
	| {type: 'invite' | 'kick' | 'admin'; room: string; user: string}
	| {type: 'accept' | 'decline' | 'leave' | 'rekey'; room: string}
	| {type: 'topic'; room: string; topic: string}
	| {type: 'rooms'};

/** A script's own label for a command, echoed in its answer: a string or a number, null when none was given. */
export type Ref = string | number | null;

/** Stable codes of the error lines: scripts (and tests) branch on these, not on the messages. */
export type CommandErrorCode =
	| 'line_too_long'
	| 'invalid_json'
	| 'invalid_command'
	| 'unknown_command'
	| 'missing_field'
	| 'invalid_field'
	| 'not_a_contact'
	| 'offline'
	| 'refused';

export type CommandError = {code: CommandErrorCode; message: string; ref: Ref};

export type ParsedCommand = {ok: true; command: JsonCommand} | ({ok: false} & CommandError);

/** Messages a history or search answer holds when the command gives no limit. */
export const defaultPageLimit = 50;
export const maxRefChars = 128;
export const maxLookupNames = 100;
export const maxSearchChars = 1000;

class Invalid extends Error {
	constructor(
		readonly code: CommandErrorCode,
		message: string,
	) {
		super(message);
	}
}

type Fields = Record<string, unknown>;

const parsers: Record<JsonCommand['type'], (fields: Fields) => object> = {
	send: fields => ({to: recipient(fields, 'to'), text: text(fields)}),
	history: fields => ({with: conversation(fields, 'with'), ...optionalInteger(fields, 'before', 1, Number.MAX_SAFE_INTEGER), limit: limit(fields)}),
	search: fields => ({words: words(fields), limit: limit(fields)}),
	forget: fields => ({with: conversation(fields, 'with')}),
	lookup: fields => ({names: names(fields)}),
	who: () => ({}),
	trust: fields => ({user: username(fields, 'user')}),
	create: fields => ({room: room(fields), topic: fields.topic === undefined || fields.topic === null ? '' : string(fields, 'topic')}),
	invite: fields => ({room: room(fields), user: username(fields, 'user')}),
	kick: fields => ({room: room(fields), user: username(fields, 'user')}),
	admin: fields => ({room: room(fields), user: username(fields, 'user')}),
	accept: fields => ({room: room(fields)}),
	decline: fields => ({room: room(fields)}),
	leave: fields => ({room: room(fields)}),
	rekey: fields => ({room: room(fields)}),
	topic: fields => ({room: room(fields), topic: string(fields, 'topic')}),
	rooms: () => ({}),
	quit: () => ({}),
};

/** One input line to a command, or the error line's code and words. Pure: never throws. */
export function parseCommand(line: string): ParsedCommand {
	let value: unknown;
	try {
		value = JSON.parse(line);
	} catch {
		return {ok: false, code: 'invalid_json', message: 'the line is not JSON: one JSON object per line', ref: null};
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		return {ok: false, code: 'invalid_command', message: 'a command is a JSON object with a "type"', ref: null};
	}
	const fields = value as Fields;
	let ref: Ref = null;
	try {
		ref = refOf(fields);
		const {type} = fields;
		if (type === undefined) throw new Invalid('invalid_command', 'a command is a JSON object with a "type"');
		if (typeof type !== 'string') throw new Invalid('invalid_command', '"type" must be a string');
		if (!Object.hasOwn(parsers, type)) throw new Invalid('unknown_command', `unknown command type "${type.slice(0, 40)}" (one of ${Object.keys(parsers).join(', ')})`);
		const parse = parsers[type as JsonCommand['type']];
		return {ok: true, command: {type, ref, ...parse(fields)} as JsonCommand};
	} catch (error) {
		if (error instanceof Invalid) return {ok: false, code: error.code, message: error.message, ref};
		throw error;
	}
}

function refOf(fields: Fields): Ref {
	const {ref} = fields;
	if (ref === undefined || ref === null) return null;
	if (typeof ref === 'number' && Number.isFinite(ref)) return ref;
	if (typeof ref === 'string' && ref.length <= maxRefChars) return ref;
	throw new Invalid('invalid_field', `"ref" must be a number or a string of at most ${maxRefChars} characters`);
}

function present(fields: Fields, name: string): unknown {
	const value = fields[name];
	if (value === undefined || value === null) throw new Invalid('missing_field', `"${name}" is missing`);
	return value;
}

function string(fields: Fields, name: string): string {
	const value = present(fields, name);
	if (typeof value !== 'string') throw new Invalid('invalid_field', `"${name}" must be a string`);
	return value;
}

/** A username that can be written to, folded. */
function username(fields: Fields, name: string): string {
	const check = checkUsername(string(fields, name));
	if (!check.ok) throw new Invalid('invalid_field', `"${name}": ${check.message}`);
	return check.username;
}

/** A username, #everyone, or a room's #name. */
function recipient(fields: Fields, name: string): string {
	const value = string(fields, name);
	if (value === everyoneConversation) return value;
	if (value.startsWith('#')) return `#${roomName(value, name)}`;
	return username(fields, name);
}

/** A conversation kept on this device: a name of the username's shape, #everyone, or a room's #name. */
function conversation(fields: Fields, name: string): string {
	const value = string(fields, name);
	if (value === everyoneConversation) return value;
	if (value.startsWith('#')) return `#${roomName(value, name)}`;
	const folded = foldUsername(value);
	if (!isFoldedName(folded)) throw new Invalid('invalid_field', `"${name}" must be a username, ${everyoneConversation} or a #room`);
	return folded;
}

/** A room's name, bare: given as "dev" or "#dev", case-folded. */
function roomName(value: string, name: string): string {
	const folded = foldUsername(value.startsWith('#') ? value.slice(1) : value);
	if (!isRoomName(folded)) throw new Invalid('invalid_field', `"${name}": a room name is 1 to 32 of a-z, 0-9, _ and - (not "everyone")`);
	return folded;
}

function room(fields: Fields): string {
	return roomName(string(fields, 'room'), 'room');
}

function text(fields: Fields): string {
	const value = string(fields, 'text');
	if (value === '') throw new Invalid('invalid_field', '"text" is empty');
	return value;
}

function words(fields: Fields): string {
	const value = string(fields, 'words');
	if (value.trim() === '') throw new Invalid('invalid_field', '"words" is empty');
	if (value.length > maxSearchChars) throw new Invalid('invalid_field', `"words" is longer than ${maxSearchChars} characters`);
	return value;
}

function names(fields: Fields): string[] {
	const value = present(fields, 'names');
	if (!Array.isArray(value) || value.length === 0 || value.length > maxLookupNames) {
		throw new Invalid('invalid_field', `"names" must be a list of 1 to ${maxLookupNames} usernames`);
	}
	return value.map(item => {
		const folded = typeof item === 'string' ? foldUsername(item) : '';
		if (!isFoldedName(folded)) throw new Invalid('invalid_field', '"names" must hold usernames: 1 to 32 of a-z, 0-9, _ and -');
		return folded;
	});
}

function limit(fields: Fields): number {
	return optionalInteger(fields, 'limit', 1, maxHistoryPage).limit ?? defaultPageLimit;
}

function optionalInteger(fields: Fields, name: string, min: number, max: number): Record<string, number> {
	const value = fields[name];
	if (value === undefined || value === null) return {};
	if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
		throw new Invalid('invalid_field', `"${name}" must be a whole number from ${min} to ${max}`);
	}
	return {[name]: value};
}
