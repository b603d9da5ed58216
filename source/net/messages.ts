import {isErrorCode, ProtocolError, type ErrorCode} from './error-codes.js';

/** Protocol messages (PROTOCOL.md section 4) as discriminated unions. Only parse*() makes them from wire data. */
export type Ping = {type: 'ping'; nonce: number};
export type Pong = {type: 'pong'; nonce: number};

export type RelayMessage =
	| {type: 'login_request'}
	| {type: 'welcome'; username: string; users: string[]; motd: string | null}
	| {type: 'user_joined'; username: string}
	| {type: 'user_left'; username: string}
	| {type: 'message'; id: string; from: string; to: string; text: string; time: number}
	| {type: 'sent'; id: string; time: number}
	| {type: 'announcement'; text: string; time: number}
	| {type: 'shutdown'; reason: string}
	| ErrorMessage
	| Ping
	| Pong;

export type ErrorMessage = {type: 'error'; code: ErrorCode; message: string; fatal: boolean; ref: string | null};

export type ClientMessage =
	| {type: 'login'; username: string}
	| {type: 'send'; id: string; to: string; text: string}
	| {type: 'bye'}
	| Ping
	| Pong;

type Fields = Record<string, unknown>;

const messageIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

function bad(message: string): never {
	throw new ProtocolError('bad_message', message);
}

function str(fields: Fields, key: string): string {
	const value = fields[key];
	if (typeof value !== 'string') bad(`"${key}" must be a string`);
	return value;
}

function int(fields: Fields, key: string): number {
	const value = fields[key];
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
		bad(`"${key}" must be a non-negative integer`);
	}
	return value;
}

function messageId(fields: Fields, key: string): string {
	const value = str(fields, key);
	if (!messageIdPattern.test(value)) bad(`"${key}" must be 1 to 64 of A-Z a-z 0-9 _ -`);
	return value;
}

function nullableString(fields: Fields, key: string): string | null {
	const value = fields[key];
	if (value === null) return null;
	if (typeof value !== 'string') bad(`"${key}" must be a string or null`);
	return value;
}

function stringArray(fields: Fields, key: string): string[] {
	const value = fields[key];
	if (!Array.isArray(value) || !value.every(item => typeof item === 'string')) {
		bad(`"${key}" must be an array of strings`);
	}
	return value as string[];
}

export function asObject(value: unknown): Fields {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('a message must be a JSON object');
	return value as Fields;
}

export function parseClientMessage(value: unknown): ClientMessage {
	const fields = asObject(value);
	switch (fields.type) {
		case 'login':
			return {type: 'login', username: str(fields, 'username')};
		case 'send':
			return {type: 'send', id: messageId(fields, 'id'), to: str(fields, 'to'), text: str(fields, 'text')};
		case 'bye':
			return {type: 'bye'};
		case 'ping':
		case 'pong':
			return {type: fields.type, nonce: int(fields, 'nonce')};
		default:
			return bad(`unknown client message type ${JSON.stringify(fields.type)}`);
	}
}

export function parseRelayMessage(value: unknown): RelayMessage {
	const fields = asObject(value);
	switch (fields.type) {
		case 'login_request':
			return {type: 'login_request'};
		case 'welcome':
			return {
				type: 'welcome',
				username: str(fields, 'username'),
				users: stringArray(fields, 'users'),
				motd: nullableString(fields, 'motd'),
			};
		case 'user_joined':
		case 'user_left':
			return {type: fields.type, username: str(fields, 'username')};
		case 'message':
			return {
				type: 'message',
				id: messageId(fields, 'id'),
				from: str(fields, 'from'),
				to: str(fields, 'to'),
				text: str(fields, 'text'),
				time: int(fields, 'time'),
			};
		case 'sent':
			return {type: 'sent', id: messageId(fields, 'id'), time: int(fields, 'time')};
		case 'announcement':
			return {type: 'announcement', text: str(fields, 'text'), time: int(fields, 'time')};
		case 'shutdown':
			return {type: 'shutdown', reason: str(fields, 'reason')};
		case 'error':
			return parseErrorMessage(fields);
		case 'ping':
		case 'pong':
			return {type: fields.type, nonce: int(fields, 'nonce')};
		default:
			return bad(`unknown relay message type ${JSON.stringify(fields.type)}`);
	}
}

export function parseErrorMessage(fields: Fields): ErrorMessage {
	const code = fields.code;
	if (!isErrorCode(code)) bad(`unknown error code ${JSON.stringify(code)}`);
	const fatal = fields.fatal;
	if (typeof fatal !== 'boolean') bad('"fatal" must be a boolean');
	return {type: 'error', code, message: str(fields, 'message'), fatal, ref: nullableString(fields, 'ref')};
}
