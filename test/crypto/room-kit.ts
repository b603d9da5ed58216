import {Buffer} from 'node:buffer';
import {randomBytes} from 'node:crypto';
import {expect} from 'vitest';
import {generateIdentity, publicIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import {
	applyChange,
	RoomLogError,
	signAccept,
	signChange,
	type RoomEntry,
	type RoomLogErrorCode,
	type RoomRecord,
	type RoomState,
	type UnsignedRoomEntry,
} from '../../source/crypto/room-log.js';

/** A user who can take part in rooms: keys and the bound record. */
export type User = {name: string; keys: IdentityKeys; record: RoomRecord};

export function user(name: string, keys: IdentityKeys = generateIdentity()): User {
	return {name, keys, record: {username: name, ...publicIdentity(keys, name)}};
}

type Body = DistributiveOmit<UnsignedRoomEntry, 'room' | 'index' | 'prev' | 'author' | 'time'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The next change after `state` by `author`, signed by `signer` (the author by default). */
export function change(state: RoomState, author: User, body: Body, signer: User = author): RoomEntry {
	const unsigned = {room: state.room, index: state.index + 1, prev: state.head, author: author.name, time: 1_767_225_600_000 + state.index, ...body} as UnsignedRoomEntry;
	return signChange(unsigned, signer.keys.identity.privateKey);
}

export function createEntry(room: string, creator: User, topic = ''): RoomEntry {
	return signChange(
		{room, index: 0, prev: Buffer.alloc(32), author: creator.name, time: 1_767_225_600_000, action: 'create', topic, record: creator.record, confirm: randomBytes(32)},
		creator.keys.identity.privateKey,
	);
}

export function create(room: string, creator: User, topic = ''): RoomState {
	return applyChange(undefined, createEntry(room, creator, topic));
}

/** An add of `newcomer` by `author`, with the newcomer's valid acceptance of a fresh invite nonce. */
export function addEntry(state: RoomState, author: User, newcomer: User): RoomEntry {
	const nonce = randomBytes(16);
	const accept = signAccept({room: state.room, member: newcomer.name, nonce}, newcomer.keys.identity.privateKey);
	return change(state, author, {action: 'add', record: newcomer.record, nonce, accept});
}

export function add(state: RoomState, author: User, ...newcomers: User[]): RoomState {
	let next = state;
	for (const newcomer of newcomers) next = applyChange(next, addEntry(next, author, newcomer));
	return next;
}

export function refusal(run: () => unknown): RoomLogErrorCode | 'none' | 'other' {
	try {
		run();
	} catch (error) {
		if (error instanceof RoomLogError) return error.code;
		return 'other';
	}
	return 'none';
}

export function expectRefused(state: RoomState | undefined, entry: RoomEntry, code: RoomLogErrorCode): void {
	expect(refusal(() => applyChange(state, entry))).toBe(code);
}

export function names(state: RoomState): string[] {
	return [...state.members.keys()].sort();
}

export function admins(state: RoomState): string[] {
	return [...state.members].filter(([, member]) => member.admin).map(([name]) => name).sort();
}
