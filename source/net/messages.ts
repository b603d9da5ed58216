import {fromBase64Url} from '../crypto/base64url.js';
import {isErrorCode, isFatal, ProtocolError, type ErrorCode} from './error-codes.js';
import {isFoldedName, isValidUsername} from './usernames.js';

/** Protocol messages (PROTOCOL.md section 4) as discriminated unions. Only parse*() makes them from wire data. */
export type Ping = {type: 'ping'; nonce: number};
export type Pong = {type: 'pong'; nonce: number};

/** A registered user's public identity (PROTOCOL.md sections 4 and 9); keys are B64U strings. */
export type UserRecord = {username: string; online: boolean; identity: string; x25519: string; binding: string};

export type EnvelopeKind = 'direct' | 'everyone';

/** What the relay forwards: routing data plus an opaque end-to-end body (PROTOCOL.md section 10). */
export type Envelope = {id: string; to: string; kind: EnvelopeKind; ephemeral: string; body: string};

export type DeliveredEnvelope = Envelope & {delivery: number; from: string; time: number};

export type RelayMessage =
	| {type: 'login_request'}
	| {
			type: 'welcome';
			username: string;
			/** Your contacts (everyone registered on a small community relay), sorted by name: the first of them. */
			users: UserRecord[];
			motd: string | null;
			/** How many more contact records follow in `directory` messages. */
			more?: number;
			/** Up to whoLimit names of users online, the most recent login first (the who-is-online view). */
			online: string[];
			/** Users online in all, you included. */
			onlineCount: number;
			/** Envelopes waiting for you on the relay as you log in; they follow the welcome (and its directory). */
			waiting: number;
	  }
	| {type: 'directory'; users: UserRecord[]}
	| {type: 'found'; id: string; users: UserRecord[]; missing: string[]}
	| {type: 'online'; users: string[]; total: number}
	| {type: 'user_joined'; user: UserRecord}
	| {type: 'user_left'; username: string}
	| ({type: 'message'} & DeliveredEnvelope)
	| {type: 'accepted'; id: string; to: string; time: number}
	| {type: 'announcement'; text: string; time: number}
	| {type: 'shutdown'; reason: string}
	| ErrorMessage
	| Ping
	| Pong;

export type ErrorMessage = {type: 'error'; code: ErrorCode; message: string; fatal: boolean; ref: string | null};

/** An error message; whether it is fatal follows from its code (PROTOCOL.md section 5). */
export function errorMessage(code: ErrorCode, message: string, ref: string | null = null): ErrorMessage {
	return {type: 'error', code, message, fatal: isFatal(code), ref};
}

export type LoginMessage = {
	type: 'login';
	username: string;
	identity: string;
	x25519: string;
	binding: string;
	proof: string;
	/** false: a headless client (a bot, a load generator) that wants no directory and no presence. */
	roster?: false;
};

/** A request to find users by name: the found become contacts (PROTOCOL.md section 4.3). */
export type LookupMessage = {type: 'lookup'; id: string; names: string[]};

export type ClientMessage =
	| LoginMessage
	| ({type: 'send'} & Envelope)
	| {type: 'ack'; deliveries: number[]}
	| LookupMessage
	| {type: 'who'}
	| {type: 'bye'}
	| Ping
	| Pong;

export const maxAckDeliveries = 1024;

/** Names one lookup may ask for. */
export const maxLookupNames = 100;

type Fields = Record<string, unknown>;

/** Names a bad value in an error without echoing whatever a peer put there. */
function describe(value: unknown): string {
	return typeof value === 'string' && /^[a-z_]{1,32}$/.test(value) ? JSON.stringify(value) : typeof value;
}

const messageIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
/** A Fernet token's alphabet (padded base64url); the relay cannot check more of a body than this. */
const bodyPattern = /^[A-Za-z0-9_=-]+$/;

function bad(message: string): never {
	throw new ProtocolError('bad_message', message);
}

function str(fields: Fields, key: string): string {
	const value = fields[key];
	if (typeof value !== 'string') bad(`"${key}" must be a string`);
	return value;
}

/**
 * A name a client sends (a login's `username`, a send's `to`): any string the username rule then
 * judges, but not a long one: a client cannot make the relay fold megabytes of letters.
 */
const maxNameFieldChars = 256;

function nameField(fields: Fields, key: string): string {
	const value = str(fields, key);
	if (value.length > maxNameFieldChars) bad(`"${key}" is longer than ${maxNameFieldChars} characters`);
	return value;
}

function int(fields: Fields, key: string): number {
	const value = fields[key];
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
		bad(`"${key}" must be a non-negative integer`);
	}
	return value;
}

/** A username the relay sends: already folded and valid, or the relay is broken or hostile. */
function username(fields: Fields, key: string): string {
	const value = str(fields, key);
	if (!isValidUsername(value)) bad(`"${key}" must be a valid username`);
	return value;
}

function messageId(fields: Fields, key: string): string {
	const value = str(fields, key);
	if (!messageIdPattern.test(value)) bad(`"${key}" must be 1 to 64 of A-Z a-z 0-9 _ -`);
	return value;
}

function body(fields: Fields): string {
	const value = str(fields, 'body');
	if (!bodyPattern.test(value)) bad('"body" must be a Fernet token: 1 or more of A-Z a-z 0-9 - _ =');
	return value;
}

/**
 * The relay's own words (the message of the day, an announcement, an error's message, a shutdown
 * reason) are cut to this many characters when read: they are for a person to read, and a relay
 * that sends megabytes of them would only slow its clients down.
 */
export const maxRelayTextChars = 2000;

function relayText(text: string): string {
	if (text.length <= maxRelayTextChars) return text;
	let end = maxRelayTextChars - 1;
	// Never half a surrogate pair.
	if (/[\uD800-\uDBFF]/.test(text[end - 1]!)) end--;
	return `${text.slice(0, end)}…`;
}

function relayTextOrNull(text: string | null): string | null {
	return text === null ? null : relayText(text);
}

function nullableString(fields: Fields, key: string): string | null {
	const value = fields[key];
	if (value === null) return null;
	if (typeof value !== 'string') bad(`"${key}" must be a string or null`);
	return value;
}

function key(fields: Fields, name: string, length: number): string {
	const value = str(fields, name);
	try {
		fromBase64Url(value, length);
	} catch {
		bad(`"${name}" must be ${length} bytes in unpadded base64url`);
	}
	return value;
}

/** Absent means true. */
function roster(fields: Fields): boolean {
	const value = fields.roster;
	if (value !== undefined && typeof value !== 'boolean') bad('"roster" must be a boolean when present');
	return value !== false;
}

function kind(fields: Fields): EnvelopeKind {
	const value = fields.kind;
	if (value !== 'direct' && value !== 'everyone') bad('"kind" must be "direct" or "everyone"');
	return value;
}

function deliveries(fields: Fields): number[] {
	const value = fields.deliveries;
	if (!Array.isArray(value) || value.length === 0 || value.length > maxAckDeliveries) {
		bad(`"deliveries" must hold 1 to ${maxAckDeliveries} numbers`);
	}
	for (const item of value) {
		if (typeof item !== 'number' || !Number.isSafeInteger(item) || item < 1) bad('"deliveries" must be positive integers');
	}
	return value as number[];
}

/**
 * An envelope the relay delivers. Its body may be any string: one that is not a token fails to
 * open and is dropped like any other, where refusing the frame would end the session, and the same
 * envelope would come first again at every login (queued before the relay checked bodies).
 */
function envelope(fields: Fields): Envelope {
	return {
		id: messageId(fields, 'id'),
		to: str(fields, 'to'),
		kind: kind(fields),
		ephemeral: key(fields, 'ephemeral', 32),
		body: str(fields, 'body'),
	};
}

/** Names a client asks for: each any string the username rule then judges, none of them long. */
function lookupNames(fields: Fields): string[] {
	const value = fields.names;
	if (!Array.isArray(value) || value.length === 0 || value.length > maxLookupNames) bad(`"names" must hold 1 to ${maxLookupNames} names`);
	for (const item of value) {
		if (typeof item !== 'string' || item.length > maxNameFieldChars) bad(`"names" must be strings of at most ${maxNameFieldChars} characters`);
	}
	return value as string[];
}

/** Folded usernames the relay sends; `reserved` allows the reserved ones (a lookup's `missing`). */
function usernames(fields: Fields, key: string, {reserved = false} = {}): string[] {
	const value = fields[key];
	if (!Array.isArray(value)) bad(`"${key}" must be an array of usernames`);
	const valid = reserved ? isFoldedName : isValidUsername;
	for (const item of value) if (typeof item !== 'string' || !valid(item)) bad(`"${key}" must hold valid usernames`);
	return value as string[];
}

function userRecord(value: unknown): UserRecord {
	const fields = asObject(value);
	const online = fields.online;
	if (typeof online !== 'boolean') bad('"online" must be a boolean');
	return {
		username: username(fields, 'username'),
		online,
		identity: key(fields, 'identity', 32),
		x25519: key(fields, 'x25519', 32),
		binding: key(fields, 'binding', 64),
	};
}

function userRecords(fields: Fields): UserRecord[] {
	const users = fields.users;
	if (!Array.isArray(users)) bad('"users" must be an array of user records');
	return users.map(user => userRecord(user));
}

export function asObject(value: unknown): Fields {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('a message must be a JSON object');
	return value as Fields;
}

export function parseClientMessage(value: unknown): ClientMessage {
	const fields = asObject(value);
	switch (fields.type) {
		case 'login':
			return {
				type: 'login',
				username: nameField(fields, 'username'),
				identity: key(fields, 'identity', 32),
				x25519: key(fields, 'x25519', 32),
				binding: key(fields, 'binding', 64),
				proof: key(fields, 'proof', 64),
				...(roster(fields) ? {} : {roster: false as const}),
			};
		case 'send':
			return {
				type: 'send',
				id: messageId(fields, 'id'),
				to: nameField(fields, 'to'),
				kind: kind(fields),
				ephemeral: key(fields, 'ephemeral', 32),
				body: body(fields),
			};
		case 'ack':
			return {type: 'ack', deliveries: deliveries(fields)};
		case 'lookup':
			return {type: 'lookup', id: messageId(fields, 'id'), names: lookupNames(fields)};
		case 'who':
			return {type: 'who'};
		case 'bye':
			return {type: 'bye'};
		case 'ping':
		case 'pong':
			return {type: fields.type, nonce: int(fields, 'nonce')};
		default:
			return bad(`unknown client message type (${describe(fields.type)})`);
	}
}

export function parseRelayMessage(value: unknown): RelayMessage {
	const fields = asObject(value);
	switch (fields.type) {
		case 'login_request':
			return {type: 'login_request'};
		case 'welcome': {
			const more = fields.more === undefined ? 0 : int(fields, 'more');
			return {
				type: 'welcome',
				username: username(fields, 'username'),
				users: userRecords(fields),
				motd: relayTextOrNull(nullableString(fields, 'motd')),
				...(more > 0 ? {more} : {}),
				online: usernames(fields, 'online'),
				onlineCount: int(fields, 'onlineCount'),
				waiting: int(fields, 'waiting'),
			};
		}
		case 'directory':
			return {type: 'directory', users: userRecords(fields)};
		case 'found':
			return {type: 'found', id: messageId(fields, 'id'), users: userRecords(fields), missing: usernames(fields, 'missing', {reserved: true})};
		case 'online':
			return {type: 'online', users: usernames(fields, 'users'), total: int(fields, 'total')};
		case 'user_joined':
			return {type: 'user_joined', user: userRecord(fields.user)};
		case 'user_left':
			return {type: 'user_left', username: username(fields, 'username')};
		case 'message': {
			const delivery = int(fields, 'delivery');
			if (delivery < 1) bad('"delivery" must be a positive integer');
			const delivered = envelope(fields);
			if (!isValidUsername(delivered.to)) bad('"to" must be a valid username');
			return {type: 'message', delivery, from: username(fields, 'from'), time: int(fields, 'time'), ...delivered};
		}
		case 'accepted':
			return {type: 'accepted', id: messageId(fields, 'id'), to: username(fields, 'to'), time: int(fields, 'time')};
		case 'announcement':
			return {type: 'announcement', text: relayText(str(fields, 'text')), time: int(fields, 'time')};
		case 'shutdown':
			return {type: 'shutdown', reason: relayText(str(fields, 'reason'))};
		case 'error':
			return parseErrorMessage(fields);
		case 'ping':
		case 'pong':
			return {type: fields.type, nonce: int(fields, 'nonce')};
		default:
			return bad(`unknown relay message type (${describe(fields.type)})`);
	}
}

export function parseErrorMessage(fields: Fields): ErrorMessage {
	const code = fields.code;
	if (!isErrorCode(code)) bad(`unknown error code (${describe(code)})`);
	const fatal = fields.fatal;
	if (typeof fatal !== 'boolean') bad('"fatal" must be a boolean');
	return {type: 'error', code, message: relayText(str(fields, 'message')), fatal, ref: nullableString(fields, 'ref')};
}
