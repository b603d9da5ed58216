import {Buffer} from 'node:buffer';
import {fromBase64Url} from '../crypto/base64url.js';
import {EnvelopeError} from '../crypto/envelope.js';
import {isValidRoomName} from '../crypto/room-entry.js';

/** The plaintext inside an end-to-end envelope (PROTOCOL.md section 10). */
/** `original`: the id a text was first sent under, when it is sent again in a new session (section 14.5). */
export type TextPayload = {v: 1; counter: number; type: 'text'; text: string; sent: number; original?: string};
export type ReceiptPayload = {v: 1; counter: number; type: 'receipt'; ids: string[]};
/** The first message of a session rebuilt because this side could not read the old one (section 14.5). */
export type ResetPayload = {v: 1; counter: number; type: 'reset'};
/**
 * A room's epoch secret for the member it is sealed to, sent with the room change `index` whose
 * hash is `head` (design of issue 15, section 1). `head` and `secret` are B64U of 32 bytes.
 */
export type RoomKeyPayload = {v: 1; counter: number; type: 'room_key'; room: string; index: number; head: string; secret: string};
export type Payload = TextPayload | ReceiptPayload | ResetPayload | RoomKeyPayload;

export const maxTextBytes = 8192;
export const maxReceiptIds = 1024;
/**
 * Nothing valid is longer: 1,024 ids of 64 characters are about 68 KB of JSON, 8,192 bytes of
 * text escaped as \uXXXX about 49 KB. Longer plaintexts are refused before JSON.parse.
 */
export const maxPayloadBytes = 131_072;

const messageIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const loneSurrogate = /\p{Cs}/u;
const utf8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true});

export function encodePayload(payload: Payload): Buffer {
	const problem = payloadProblem(payload);
	if (problem !== undefined) throw new TypeError(`cannot encode the payload: ${problem}`);
	return Buffer.from(JSON.stringify(knownFields(payload)), 'utf8');
}

/** A checked payload with only the known fields, or an EnvelopeError (code `payload`). */
export function parsePayload(bytes: Buffer): Payload {
	const value = decodeJson(bytes);
	const problem = payloadProblem(value);
	if (problem !== undefined) throw new EnvelopeError(`payload: ${problem}`, 'payload');
	return knownFields(value as Payload);
}

/** A copy with only the fields this version knows, in a fixed order. */
function knownFields(payload: Payload): Payload {
	switch (payload.type) {
		case 'text': {
			const {counter, text, sent, original} = payload;
			return {v: 1, counter, type: 'text', text, sent, ...(original === undefined ? {} : {original})};
		}
		case 'receipt':
			return {v: 1, counter: payload.counter, type: 'receipt', ids: [...payload.ids]};
		case 'reset':
			return {v: 1, counter: payload.counter, type: 'reset'};
		case 'room_key': {
			const {counter, room, index, head, secret} = payload;
			return {v: 1, counter, type: 'room_key', room, index, head, secret};
		}
	}
}

/**
 * The counter of a plaintext, valid or not, when it can be read: UTF-8 JSON (within
 * maxPayloadBytes), one object, `v` 1 and `counter` a non-negative safe integer. An authenticated
 * envelope spends it even when the rest is malformed (PROTOCOL.md section 10).
 */
export function payloadCounter(bytes: Buffer): number | undefined {
	let value: unknown;
	try {
		value = decodeJson(bytes);
	} catch {
		return undefined;
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
	const {v, counter} = value as Record<string, unknown>;
	return v === 1 && isCounter(counter) ? counter : undefined;
}

/** The JSON value of at most maxPayloadBytes of UTF-8, or an EnvelopeError (code `payload`). */
function decodeJson(bytes: Buffer): unknown {
	if (!(bytes instanceof Uint8Array)) throw new EnvelopeError('payload: expected bytes', 'payload');
	if (bytes.byteLength > maxPayloadBytes) {
		throw new EnvelopeError(`payload: ${bytes.byteLength} bytes, more than ${maxPayloadBytes}`, 'payload');
	}
	try {
		return JSON.parse(utf8.decode(bytes));
	} catch {
		throw new EnvelopeError('payload: not UTF-8 JSON', 'payload');
	}
}

/** What is wrong with a payload, or undefined. Unknown fields are ignored, as in section 4. */
function payloadProblem(value: unknown): string | undefined {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
	const fields = value as Record<string, unknown>;
	if (fields.v !== 1) return '"v" is not 1';
	if (!isCounter(fields.counter)) return '"counter" is not a non-negative safe integer';
	if (fields.type === 'text') {
		if (typeof fields.text !== 'string') return '"text" is not a string';
		if (loneSurrogate.test(fields.text)) return '"text" is not valid Unicode (a lone surrogate)';
		const length = Buffer.byteLength(fields.text, 'utf8');
		if (length > maxTextBytes) return `"text" is ${length} UTF-8 bytes, more than ${maxTextBytes}`;
		if (!Number.isSafeInteger(fields.sent)) return '"sent" is not an integer';
		if (fields.original !== undefined && (typeof fields.original !== 'string' || !messageIdPattern.test(fields.original))) {
			return '"original" is not a message id';
		}
		return undefined;
	}
	if (fields.type === 'receipt') {
		const {ids} = fields;
		if (!Array.isArray(ids) || ids.length === 0 || ids.length > maxReceiptIds) {
			return `"ids" is not an array of 1 to ${maxReceiptIds} message ids`;
		}
		if (!ids.every(id => typeof id === 'string' && messageIdPattern.test(id))) return '"ids" holds an invalid message id';
		return undefined;
	}
	if (fields.type === 'reset') return undefined;
	if (fields.type === 'room_key') {
		if (typeof fields.room !== 'string' || !isValidRoomName(fields.room)) return '"room" is not a room name';
		if (!isCounter(fields.index)) return '"index" is not a non-negative safe integer';
		if (!isKey(fields.head)) return '"head" is not 32 bytes of base64url';
		if (!isKey(fields.secret)) return '"secret" is not 32 bytes of base64url';
		return undefined;
	}
	return typeof fields.type === 'string' ? 'unknown "type"' : '"type" is not a string';
}

function isKey(value: unknown): boolean {
	if (typeof value !== 'string' || value.length !== 43) return false;
	try {
		fromBase64Url(value, 32).fill(0);
		return true;
	} catch {
		return false;
	}
}

function isCounter(value: unknown): value is number {
	return Number.isSafeInteger(value) && (value as number) >= 0;
}
