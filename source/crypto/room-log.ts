import {Buffer} from 'node:buffer';
import {verifyBinding} from './identity.js';
import {
	changeBytes,
	hashOf,
	maxRoomAdmins,
	maxRoomMembers,
	RoomLogError,
	type RoomAction,
	type RoomEntry,
	type RoomLogErrorCode,
	type RoomRecord,
} from './room-entry.js';
import {verifiedBy, verifyAccept} from './room-signature.js';
import {isBytes, sameKey} from './x25519.js';

/**
 * A room's membership as its log of changes makes it (design of issue 15, section 2). Both the
 * relay and the clients run applyChange on every entry; it is pure and never changes a state.
 */
export {
	changeBytes,
	entryHash,
	isValidRoomName,
	isValidTopic,
	maxRoomAdmins,
	maxRoomMembers,
	maxTopicBytes,
	roomConfirm,
	RoomLogError,
	signChange,
	type RoomAction,
	type RoomEntry,
	type RoomLogErrorCode,
	type RoomRecord,
	type UnsignedRoomEntry,
} from './room-entry.js';
export {signAccept, signInvite, verifyAccept, verifyInvite} from './room-signature.js';

export type RoomMember = {record: RoomRecord; admin: boolean};
export type RoomState = {
	room: string;
	index: number;
	head: Buffer;
	creator: string;
	topic: string;
	members: ReadonlyMap<string, RoomMember>;
	needsRekey: boolean;
};

/** Whether the change's author draws a new random epoch secret (the others derive theirs). */
export function isFreshEpoch(action: RoomAction): boolean {
	return action === 'create' || action === 'remove' || action === 'rekey';
}

/** The state after `entry`, or a RoomLogError; `state` is undefined before a create. */
export function applyChange(state: RoomState | undefined, entry: RoomEntry): RoomState {
	const signed = changeBytes(entry);
	if (!isBytes(entry.signature, 64)) refuse('bad_change', 'the signature is not 64 bytes');
	if (state === undefined) return applyCreate(entry, signed);
	if (entry.room !== state.room) refuse('bad_change', 'the change is for another room');
	if (entry.index !== state.index + 1 || !sameKey(entry.prev, state.head)) refuse('bad_change', 'the change does not follow the last one');
	const author = state.members.get(entry.author);
	if (author === undefined) refuse('not_member', `${entry.author} is not a member of #${state.room}`);
	if (!verifiedBy(author.record.identity, signed, entry.signature)) refuse('bad_change', "the signature is not the author's");
	const next = {...state, index: entry.index, head: hashOf(signed, entry.signature)};
	const members = new Map(state.members);
	switch (entry.action) {
		case 'create':
			return refuse('bad_change', 'the room exists');
		case 'add': {
			requireAdmin(author, entry.author);
			requireNoRekey(state);
			const {record} = entry;
			if (members.has(record.username)) refuse('already_member', `${record.username} is already a member`);
			if (!verifyBinding(record.username, record)) refuse('bad_change', "the new member's record is not bound");
			const accepted = verifyAccept({room: entry.room, member: record.username, nonce: entry.nonce, accept: entry.accept}, record.identity);
			if (!accepted) refuse('bad_change', "the new member's acceptance does not verify");
			if (members.size >= maxRoomMembers) refuse('room_full', `a room has at most ${maxRoomMembers} members`);
			members.set(record.username, {record: copyRecord(record), admin: false});
			return {...next, members};
		}
		case 'remove': {
			requireAdmin(author, entry.author);
			if (entry.member === entry.author) refuse('bad_change', 'an author leaves, it does not remove itself');
			if (!members.has(entry.member)) refuse('not_member', `${entry.member} is not a member`);
			if (entry.member === state.creator) refuse('creator', "the room's creator cannot be removed");
			members.delete(entry.member);
			return {...next, members, needsRekey: false};
		}
		case 'leave': {
			members.delete(entry.author);
			if (author.admin && members.size > 0 && adminCount(members) === 0) {
				refuse('last_admin', 'make someone else an admin first');
			}
			return {...next, members, needsRekey: members.size > 0};
		}
		case 'admin': {
			requireAdmin(author, entry.author);
			requireNoRekey(state);
			const member = members.get(entry.member);
			if (member === undefined) refuse('not_member', `${entry.member} is not a member`);
			if (member.admin) refuse('bad_change', `${entry.member} is already an admin`);
			if (adminCount(members) >= maxRoomAdmins) refuse('admin_limit', `a room has at most ${maxRoomAdmins} admins`);
			members.set(entry.member, {record: member.record, admin: true});
			return {...next, members};
		}
		case 'topic':
			requireAdmin(author, entry.author);
			requireNoRekey(state);
			return {...next, members, topic: entry.topic};
		case 'rekey':
			requireAdmin(author, entry.author);
			return {...next, members, needsRekey: false};
	}
}

function applyCreate(entry: RoomEntry, signed: Buffer): RoomState {
	if (entry.action !== 'create' || entry.index !== 0) refuse('bad_change', 'a room starts with a create at index 0');
	if (!isZero(entry.prev)) refuse('bad_change', "a create's prev is all zero");
	const {record} = entry;
	if (record.username !== entry.author) refuse('bad_change', "the creator's record is not the author's");
	if (!verifyBinding(record.username, record)) refuse('bad_change', "the creator's record is not bound");
	if (!verifiedBy(record.identity, signed, entry.signature)) refuse('bad_change', "the signature is not the author's");
	return {
		room: entry.room,
		index: 0,
		head: hashOf(signed, entry.signature),
		creator: entry.author,
		topic: entry.topic,
		members: new Map([[entry.author, {record: copyRecord(record), admin: true}]]),
		needsRekey: false,
	};
}

function requireAdmin(author: RoomMember, name: string): void {
	if (!author.admin) refuse('not_admin', `${name} is not an admin of the room`);
}

function requireNoRekey(state: RoomState): void {
	if (state.needsRekey) refuse('needs_rekey', 'the room needs a rekey first');
}

function adminCount(members: ReadonlyMap<string, RoomMember>): number {
	let count = 0;
	for (const member of members.values()) if (member.admin) count++;
	return count;
}

function isZero(bytes: Buffer): boolean {
	let bits = 0;
	for (const byte of bytes) bits |= byte;
	return bits === 0;
}

/** Only the record's four fields, in one allocation of their own (not a slice of Node's shared pool). */
function copyRecord(record: RoomRecord): RoomRecord {
	const keys = Buffer.alloc(128);
	keys.set(record.identity, 0);
	keys.set(record.x25519, 32);
	keys.set(record.binding, 64);
	return {username: record.username, identity: keys.subarray(0, 32), x25519: keys.subarray(32, 64), binding: keys.subarray(64)};
}

function refuse(code: RoomLogErrorCode, message: string): never {
	throw new RoomLogError(code, message);
}
