import {Buffer} from 'node:buffer';
import {createHash, createHmac, sign, type KeyObject} from 'node:crypto';
import {lp, u64be} from './length-prefix.js';
import {isValidUsername} from './username-rule.js';
import {isBytes, isPrivateKey} from './x25519.js';

/** Room log entries and their signed bytes (design of issue 15, section 2). Pure: no I/O, no logging. */
export type RoomRecord = {username: string; identity: Buffer; x25519: Buffer; binding: Buffer};
export type RoomAction = 'create' | 'add' | 'remove' | 'leave' | 'admin' | 'topic' | 'rekey';
type Common = {room: string; index: number; prev: Buffer; author: string; time: number};
export type UnsignedRoomEntry = Common &
	(
		| {action: 'create'; topic: string; record: RoomRecord; confirm: Buffer}
		| {action: 'add'; record: RoomRecord; nonce: Buffer; accept: Buffer}
		| {action: 'remove'; member: string; confirm: Buffer}
		| {action: 'leave'}
		| {action: 'admin'; member: string}
		| {action: 'topic'; topic: string}
		| {action: 'rekey'; confirm: Buffer}
	);
export type RoomEntry = UnsignedRoomEntry & {signature: Buffer};

export const maxRoomMembers = 1000;
export const maxRoomAdmins = 10;
export const maxTopicBytes = 256;
export const roomActions: ReadonlySet<string> = new Set<RoomAction>(['create', 'add', 'remove', 'leave', 'admin', 'topic', 'rekey']);

export type RoomLogErrorCode =
	| 'bad_change'
	| 'not_admin'
	| 'not_member'
	| 'already_member'
	| 'room_full'
	| 'admin_limit'
	| 'needs_rekey'
	| 'last_admin'
	| 'creator';

export class RoomLogError extends Error {
	override readonly name = 'RoomLogError';

	constructor(
		readonly code: RoomLogErrorCode,
		message: string,
	) {
		super(message);
	}
}

const changeLabel = 'im-tui/4 room change';
const confirmLabel = 'im-tui/4 room confirm';
const roomNamePattern = /^[a-z0-9_-]{1,32}$/;
const loneSurrogate = /\p{Cs}/u;

/** 1 to 32 of a-z, 0-9, _ and -, and not `everyone`. */
export function isValidRoomName(name: string): boolean {
	return typeof name === 'string' && roomNamePattern.test(name) && name !== 'everyone';
}

/** A topic whose UTF-8 bytes are the string: no lone surrogate, at most maxTopicBytes. */
export function isValidTopic(topic: unknown): topic is string {
	return typeof topic === 'string' && !loneSurrogate.test(topic) && Buffer.byteLength(topic, 'utf8') <= maxTopicBytes;
}

/** `S(entry)`; a RoomLogError('bad_change') when the entry is malformed. */
export function changeBytes(entry: UnsignedRoomEntry): Buffer {
	const problem = entryProblem(entry);
	if (problem !== undefined) throw new RoomLogError('bad_change', `malformed room change: ${problem}`);
	const common = [lp(changeLabel, entry.room), u64be(entry.index), entry.prev, lp(entry.author), u64be(entry.time), lp(entry.action)];
	return Buffer.concat([...common, ...actionFields(entry)]);
}

export function signChange(entry: UnsignedRoomEntry, identityPrivate: KeyObject): RoomEntry {
	if (!isPrivateKey(identityPrivate, 'ed25519')) throw new TypeError('a room change is signed with an Ed25519 private key');
	const signature = sign(null, changeBytes(entry), identityPrivate);
	return {...entry, signature};
}

/** H(entry) = SHA-256(S || signature): the next entry's `prev`, and the id of the epoch it starts. */
export function entryHash(entry: RoomEntry): Buffer {
	const signed = changeBytes(entry);
	if (!isBytes(entry.signature, 64)) throw new RoomLogError('bad_change', 'malformed room change: the signature is not 64 bytes');
	return hashOf(signed, entry.signature);
}

export function hashOf(signed: Buffer, signature: Buffer): Buffer {
	return createHash('sha256').update(signed).update(signature).digest();
}

/** `confirm = HMAC(E, lp("im-tui/4 room confirm", room) || u64be(index))`. */
export function roomConfirm(secret: Buffer, room: string, index: number): Buffer {
	if (!isBytes(secret, 32)) throw new TypeError('an epoch secret is 32 bytes');
	if (!isValidRoomName(room)) throw new TypeError('not a room name');
	return createHmac('sha256', secret).update(lp(confirmLabel, room)).update(u64be(index)).digest();
}

function actionFields(entry: UnsignedRoomEntry): Buffer[] {
	switch (entry.action) {
		case 'create':
			return [lp(entry.topic), recordBytes(entry.record), entry.confirm];
		case 'add':
			return [recordBytes(entry.record), entry.nonce, entry.accept];
		case 'remove':
			return [lp(entry.member), entry.confirm];
		case 'leave':
			return [];
		case 'admin':
			return [lp(entry.member)];
		case 'topic':
			return [lp(entry.topic)];
		case 'rekey':
			return [entry.confirm];
	}
}

function recordBytes(record: RoomRecord): Buffer {
	return Buffer.concat([lp(record.username), record.identity, record.x25519, record.binding]);
}

/** What is wrong with an unsigned entry's form, or undefined. Signatures and bindings are not checked here. */
function entryProblem(entry: UnsignedRoomEntry): string | undefined {
	if (typeof entry !== 'object' || entry === null) return 'not an object';
	if (!isValidRoomName(entry.room)) return 'the room is not a room name';
	if (!isIndex(entry.index)) return 'the index is not a non-negative safe integer';
	if (!isBytes(entry.prev, 32)) return 'prev is not 32 bytes';
	if (typeof entry.author !== 'string' || !isValidUsername(entry.author)) return 'the author is not a username';
	if (!isIndex(entry.time)) return 'the time is not a non-negative safe integer';
	if (typeof entry.action !== 'string' || !roomActions.has(entry.action)) return 'unknown action';
	switch (entry.action) {
		case 'create':
			return topicProblem(entry.topic) ?? recordProblem(entry.record) ?? confirmProblem(entry.confirm);
		case 'add':
			if (!isBytes(entry.nonce, 16)) return 'the nonce is not 16 bytes';
			if (!isBytes(entry.accept, 64)) return 'accept is not 64 bytes';
			return recordProblem(entry.record);
		case 'remove':
			return memberProblem(entry.member) ?? confirmProblem(entry.confirm);
		case 'leave':
			return undefined;
		case 'admin':
			return memberProblem(entry.member);
		case 'topic':
			return topicProblem(entry.topic);
		case 'rekey':
			return confirmProblem(entry.confirm);
	}
}

function topicProblem(topic: unknown): string | undefined {
	return isValidTopic(topic) ? undefined : `the topic is not a string of at most ${maxTopicBytes} UTF-8 bytes`;
}

function memberProblem(member: unknown): string | undefined {
	return typeof member === 'string' && isValidUsername(member) ? undefined : 'the member is not a username';
}

function confirmProblem(confirm: unknown): string | undefined {
	return isBytes(confirm, 32) ? undefined : 'confirm is not 32 bytes';
}

function recordProblem(record: RoomRecord): string | undefined {
	if (typeof record !== 'object' || record === null) return 'the record is not an object';
	if (typeof record.username !== 'string' || !isValidUsername(record.username)) return "the record's username is not a username";
	if (!isBytes(record.identity, 32) || !isBytes(record.x25519, 32) || !isBytes(record.binding, 64)) {
		return "the record's keys are not 32, 32 and 64 bytes";
	}
	return undefined;
}

export function isIndex(value: unknown): value is number {
	return Number.isSafeInteger(value) && (value as number) >= 0;
}
