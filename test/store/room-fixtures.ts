import {randomBytes} from 'node:crypto';
import type {AsyncRelayStore} from '../../source/relay/async-store.js';
import type {StoredInvite, StoredMember, StoredRoom, StoredRoomItem} from '../../source/relay/room-store.js';

/** How the room behaviours get a store: opened for one test, closed at its end. */
export type OpenStore = () => Promise<AsyncRelayStore>;

/** A time like a real one: beyond 32 bits, as the columns must hold. */
export const now = 1_767_000_000_000;

/**
 * Names no other test uses (`name('room')` → `room-x1y2z3`): the suite may run on one database
 * shared by all its tests and by earlier runs, so each test sees only what it wrote.
 */
export function namer(): (base: string) => string {
	const tag = randomBytes(4).toString('hex');
	return base => `${base}-${tag}`;
}

/** Runs `body` with a store of its own, closed whether it passes or fails. */
export async function withStore(open: OpenStore, body: (store: AsyncRelayStore) => Promise<void>): Promise<void> {
	const store = await open();
	try {
		await body(store);
	} finally {
		await store.close();
	}
}

export function roomRow(room: string, fields: Partial<StoredRoom> = {}): StoredRoom {
	return {room, index: 0, head: 'h'.repeat(43), creator: 'creator', topic: '', needsRekey: false, lastSeq: 0, ...fields};
}

export function memberRow(member: string, fields: Partial<StoredMember> = {}): StoredMember {
	return {member, admin: false, position: 0, until: null, identity: `i-${member}`, x25519: `x-${member}`, binding: `b-${member}`, ...fields};
}

export function itemRow(room: string, seq: number, fields: Partial<StoredRoomItem> = {}): StoredRoomItem {
	return {room, seq, kind: 'message', sender: 'sender', id: `m${seq}`, time: now + seq, json: `{"type":"room_message","seq":${seq}}`, of: 2, bytes: 100 + seq, ...fields};
}

export function inviteRow(room: string, invitee: string, fields: Partial<StoredInvite> = {}): StoredInvite {
	return {room, invitee, inviter: 'inviter', nonce: `n-${invitee}`, signature: `s-${invitee}`, accept: null, time: now, ...fields};
}

/** A log entry as the relay keeps it: JSON naming its author. */
export function logEntry(room: string, index: number, author: string, fields: Record<string, unknown> = {}): string {
	return JSON.stringify({room, index, prev: 'p'.repeat(43), author, time: now, action: 'topic', topic: `topic ${index}`, signature: 's'.repeat(86), ...fields});
}

/** By sender, then bytes: the order the contract leaves open. */
export function byCost<T extends {sender: string; bytes: number}>(costs: readonly T[]): T[] {
	return [...costs].sort((a, b) => a.sender.localeCompare(b.sender) || a.bytes - b.bytes);
}
