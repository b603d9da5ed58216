import {fromBase64Url} from '../crypto/base64url.js';
import {ProtocolError} from './error-codes.js';
import {
	maxAckDeliveries,
	maxLookupNames,
	maxOneTimePrekeysPerMessage,
	maxPrekeyId,
	ratchetHeaderLengths,
	type EnvelopeKind,
	type Envelope,
	type OneTimePrekey,
	type PrekeyCount,
	type SignedPrekey,
	type UserRecord,
} from './message-types.js';
import {isFoldedName, isValidUsername} from './usernames.js';

/**
 * The checks of one field of a protocol message, each throwing bad_message (a ProtocolError)
 * when the field is missing or wrong; messages.ts builds whole messages from them.
 */

export type Fields = Record<string, unknown>;

/** Names a bad value in an error without echoing whatever a peer put there. */
export function describe(value: unknown): string {
	return typeof value === 'string' && /^[a-z_]{1,32}$/.test(value) ? JSON.stringify(value) : typeof value;
}

/** A message id as clients choose them. */
export const messageIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
/** A Fernet token's alphabet (padded base64url); the relay cannot check more of a body than this. */
const bodyPattern = /^[A-Za-z0-9_=-]+$/;

export function bad(message: string): never {
	throw new ProtocolError('bad_message', message);
}

export function str(fields: Fields, key: string): string {
	const value = fields[key];
	if (typeof value !== 'string') bad(`"${key}" must be a string`);
	return value;
}

/**
 * A name a client sends (a login's `username`, a send's `to`): any string the username rule then
 * judges, but not a long one: a client cannot make the relay fold megabytes of letters.
 */
const maxNameFieldChars = 256;

export function nameField(fields: Fields, key: string): string {
	const value = str(fields, key);
	if (value.length > maxNameFieldChars) bad(`"${key}" is longer than ${maxNameFieldChars} characters`);
	return value;
}

export function int(fields: Fields, key: string): number {
	const value = fields[key];
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
		bad(`"${key}" must be a non-negative integer`);
	}
	return value;
}

/** A username the relay sends: already folded and valid, or the relay is broken or hostile. */
export function username(fields: Fields, key: string): string {
	const value = str(fields, key);
	if (!isValidUsername(value)) bad(`"${key}" must be a valid username`);
	return value;
}

export function messageId(fields: Fields, key: string): string {
	const value = str(fields, key);
	if (!messageIdPattern.test(value)) bad(`"${key}" must be 1 to 64 of A-Z a-z 0-9 _ -`);
	return value;
}

export function body(fields: Fields): string {
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

export function relayText(text: string): string {
	if (text.length <= maxRelayTextChars) return text;
	let end = maxRelayTextChars - 1;
	// Never half a surrogate pair.
	if (/[\uD800-\uDBFF]/.test(text[end - 1]!)) end--;
	return `${text.slice(0, end)}…`;
}

export function relayTextOrNull(text: string | null): string | null {
	return text === null ? null : relayText(text);
}

export function nullableString(fields: Fields, key: string): string | null {
	const value = fields[key];
	if (value === null) return null;
	if (typeof value !== 'string') bad(`"${key}" must be a string or null`);
	return value;
}

export function key(fields: Fields, name: string, length: number): string {
	const value = str(fields, name);
	try {
		fromBase64Url(value, length);
	} catch {
		bad(`"${name}" must be ${length} bytes in unpadded base64url`);
	}
	return value;
}

/** Absent means true. */
export function roster(fields: Fields): boolean {
	const value = fields.roster;
	if (value !== undefined && typeof value !== 'boolean') bad('"roster" must be a boolean when present');
	return value !== false;
}

export function kind(fields: Fields): EnvelopeKind {
	const value = fields.kind;
	if (value !== 'direct' && value !== 'everyone') bad('"kind" must be "direct" or "everyone"');
	return value;
}

export function deliveries(fields: Fields): number[] {
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
 * An envelope's key field: exactly one of `ephemeral` (B64U 32 bytes) and `ratchet` (B64U of a 74,
 * 78 or 82-byte header: its alphabet and decoded length are checked, not its contents).
 */
export function envelopeKey(fields: Fields): {ephemeral: string} | {ratchet: string} {
	const hasEphemeral = fields.ephemeral !== undefined;
	if (hasEphemeral === (fields.ratchet !== undefined)) bad('an envelope has exactly one of "ephemeral" and "ratchet"');
	if (hasEphemeral) return {ephemeral: key(fields, 'ephemeral', 32)};
	const value = str(fields, 'ratchet');
	let length = -1;
	// 82 bytes are 110 characters: nothing longer is decoded.
	if (value.length <= 110) {
		try {
			length = fromBase64Url(value).length;
		} catch {
			// named below
		}
	}
	if (!ratchetHeaderLengths.includes(length)) bad('"ratchet" must be 74, 78 or 82 bytes in unpadded base64url');
	return {ratchet: value};
}

/**
 * An envelope the relay delivers. Its body may be any string: one that is not a token fails to
 * open and is dropped like any other, where refusing the frame would end the session, and the same
 * envelope would come first again at every login (queued before the relay checked bodies).
 */
export function envelope(fields: Fields): Envelope {
	return {
		id: messageId(fields, 'id'),
		to: str(fields, 'to'),
		kind: kind(fields),
		...envelopeKey(fields),
		body: str(fields, 'body'),
	};
}

/** A prekey id: an integer from 0 to 2^32 - 1. */
export function prekeyId(fields: Fields, name = 'id'): number {
	const value = int(fields, name);
	if (value > maxPrekeyId) bad(`"${name}" must be at most ${maxPrekeyId}`);
	return value;
}

export function signedPrekey(value: unknown): SignedPrekey {
	const fields = asObject(value);
	return {id: prekeyId(fields), key: key(fields, 'key', 32), signature: key(fields, 'signature', 64)};
}

export function oneTimePrekey(value: unknown): OneTimePrekey {
	const fields = asObject(value);
	return {id: prekeyId(fields), key: key(fields, 'key', 32)};
}

/** A `prekeys` message's one-time keys: 1 to 100 of them, with distinct ids. */
export function oneTimePrekeys(value: unknown): OneTimePrekey[] {
	if (!Array.isArray(value) || value.length === 0 || value.length > maxOneTimePrekeysPerMessage) {
		bad(`"oneTime" must hold 1 to ${maxOneTimePrekeysPerMessage} prekeys`);
	}
	const prekeys = value.map(item => oneTimePrekey(item));
	if (new Set(prekeys.map(prekey => prekey.id)).size !== prekeys.length) bad('"oneTime" must have distinct ids');
	return prekeys;
}

/** `prekeys` of a welcome, or the fields of a `prekey_count`. */
export function prekeyCount(fields: Fields): PrekeyCount {
	const signed = fields.signed === null ? null : prekeyId(fields, 'signed');
	return {oneTime: int(fields, 'oneTime'), signed};
}

/** Names a client asks for: each any string the username rule then judges, none of them long. */
export function lookupNames(fields: Fields): string[] {
	const value = fields.names;
	if (!Array.isArray(value) || value.length === 0 || value.length > maxLookupNames) bad(`"names" must hold 1 to ${maxLookupNames} names`);
	for (const item of value) {
		if (typeof item !== 'string' || item.length > maxNameFieldChars) bad(`"names" must be strings of at most ${maxNameFieldChars} characters`);
	}
	return value as string[];
}

/** Folded usernames the relay sends; `reserved` allows the reserved ones (a lookup's `missing`). */
export function usernames(fields: Fields, key: string, {reserved = false} = {}): string[] {
	const value = fields[key];
	if (!Array.isArray(value)) bad(`"${key}" must be an array of usernames`);
	const valid = reserved ? isFoldedName : isValidUsername;
	for (const item of value) if (typeof item !== 'string' || !valid(item)) bad(`"${key}" must hold valid usernames`);
	return value as string[];
}

export function userRecord(value: unknown): UserRecord {
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

export function userRecords(fields: Fields): UserRecord[] {
	const users = fields.users;
	if (!Array.isArray(users)) bad('"users" must be an array of user records');
	return users.map(user => userRecord(user));
}

export function asObject(value: unknown): Fields {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('a message must be a JSON object');
	return value as Fields;
}
