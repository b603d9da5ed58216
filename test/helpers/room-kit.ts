import {randomBytes} from 'node:crypto';
import {join as joinPath} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import {expect} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {generateIdentity, publicIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import {roomEntryToJson, type RoomEntryJson} from '../../source/crypto/room-entry-codec.js';
import {applyChange, entryHash, isFreshEpoch, roomConfirm, signAccept, signChange, signInvite, type RoomEntry, type RoomRecord, type RoomState, type UnsignedRoomEntry} from '../../source/crypto/room-log.js';
import {databaseFileName} from '../../source/relay/sqlite-store.js';
import {loggedInPeer, type PeerMessage} from './logged-in-peer.js';

export type Peer = Awaited<ReturnType<typeof loggedInPeer>>;

/** A user with a real identity, logged in with a raw peer that never acks by itself. */
export type RoomUser = {name: string; keys: IdentityKeys; record: RoomRecord; peer: Peer};

export async function roomUser(port: number, name: string, options: {keys?: IdentityKeys; roster?: false; localAddress?: string} = {}): Promise<RoomUser> {
	const keys = options.keys ?? generateIdentity();
	const peer = await loggedInPeer(port, name, {
		keys,
		...(options.roster === false ? {roster: false} : {}),
		...(options.localAddress === undefined ? {} : {localAddress: options.localAddress}),
	});
	return {name, keys, record: {username: name, ...publicIdentity(keys, name)}, peer};
}

/** The same user on a new connection (the old one closed first). */
export async function again(port: number, user: RoomUser): Promise<RoomUser> {
	user.peer.close();
	await new Promise(resolve => setTimeout(resolve, 50));
	return roomUser(port, user.name, {keys: user.keys});
}

export type Change =
	| {action: 'create'; topic?: string}
	| {action: 'add'; record: RoomRecord; nonce: Buffer; accept: Buffer}
	| {action: 'remove'; member: string}
	| {action: 'leave'}
	| {action: 'admin'; member: string}
	| {action: 'topic'; topic: string}
	| {action: 'rekey'};

/** A room's log as a test follows it: builds the next signed entry and applies those the relay took. */
export class TestRoom {
	state: RoomState | undefined;

	constructor(readonly name: string) {}

	/** The next entry (signed by `author`), not applied. */
	entry(author: RoomUser, change: Change, options: {index?: number; prev?: Buffer} = {}): RoomEntry {
		const common = {
			room: this.name,
			index: options.index ?? (this.state === undefined ? 0 : this.state.index + 1),
			prev: options.prev ?? this.state?.head ?? Buffer.alloc(32),
			author: author.name,
			time: 1_700_000_000_000,
		};
		const confirm = () => roomConfirm(randomBytes(32), this.name, common.index);
		let unsigned: UnsignedRoomEntry;
		switch (change.action) {
			case 'create':
				unsigned = {...common, action: 'create', topic: change.topic ?? '', record: author.record, confirm: confirm()};
				break;
			case 'add':
				unsigned = {...common, ...change};
				break;
			case 'remove':
				unsigned = {...common, action: 'remove', member: change.member, confirm: confirm()};
				break;
			case 'rekey':
				unsigned = {...common, action: 'rekey', confirm: confirm()};
				break;
			default:
				unsigned = {...common, ...change};
		}
		return signChange(unsigned, author.keys.identity.privateKey);
	}

	apply(entry: RoomEntry): void {
		this.state = applyChange(this.state, entry);
	}

	get epoch(): string {
		return toBase64Url(this.state!.head);
	}

	/** Who needs a room key with `entry`, once applied to `state` (nobody when it does not apply). */
	keyHolders(entry: RoomEntry): string[] {
		let next: RoomState;
		try {
			next = applyChange(this.state, entry);
		} catch {
			return [];
		}
		if (next.members.size === 0) return [];
		if (isFreshEpoch(entry.action)) return [...next.members.keys()].filter(name => name !== entry.author);
		return entry.action === 'add' ? [entry.record.username] : [];
	}
}

/** An opaque sealed room key for `to`: the relay checks its shape only. */
export function fakeKey(to: string, id = `k-${to}`) {
	return {to, id, ratchet: 'A'.repeat(99), body: `gAAAA${to}`};
}

/** The first message after index `from` that `wanted` picks. */
export async function next(user: RoomUser, wanted: (message: PeerMessage) => boolean, from = 0, timeout = 5000): Promise<PeerMessage> {
	return user.peer.until(wanted, from, timeout);
}

/** Sends a change (its keys staged first, fake ones for whoever needs one unless given) and returns the answer: room_changed or an error. */
export async function change(user: RoomUser, room: TestRoom, entry: RoomEntry, keys?: object[]): Promise<PeerMessage> {
	const from = user.peer.messages().length;
	const staged = keys ?? room.keyHolders(entry).map(name => fakeKey(name));
	for (let start = 0; start < staged.length; start += 200) user.peer.send({type: 'room_stage', room: room.name, keys: staged.slice(start, start + 200)});
	user.peer.send({type: 'room_change', room: room.name, entry: roomEntryToJson(entry)});
	const answer = await next(user, message => (message.type === 'room_changed' || message.type === 'error') && (message.room === room.name || message.ref === room.name), from);
	if (answer.type === 'room_changed') room.apply(entry);
	return answer;
}

/** A change that must be taken. */
export async function changed(user: RoomUser, room: TestRoom, changeOf: Change): Promise<PeerMessage> {
	const answer = await change(user, room, room.entry(user, changeOf));
	expect(answer).toMatchObject({type: 'room_changed', room: room.name});
	return answer;
}

export async function create(user: RoomUser, name: string, topic = ''): Promise<TestRoom> {
	const room = new TestRoom(name);
	await changed(user, room, {action: 'create', topic});
	return room;
}

/** Invites `user`; it accepts; `admin` adds it. */
export async function join(admin: RoomUser, room: TestRoom, user: RoomUser): Promise<void> {
	const nonce = randomBytes(16);
	const fromUser = user.peer.messages().length;
	const fromAdmin = admin.peer.messages().length;
	const signature = signInvite({room: room.name, inviter: admin.name, invitee: user.name, nonce}, admin.keys.identity.privateKey);
	admin.peer.send({type: 'room_invite', room: room.name, to: user.name, nonce: toBase64Url(nonce), signature: toBase64Url(signature)});
	await next(user, message => message.type === 'room_invitation' && message.room === room.name, fromUser);
	const accept = signAccept({room: room.name, member: user.name, nonce}, user.keys.identity.privateKey);
	user.peer.send({type: 'room_accept', room: room.name, nonce: toBase64Url(nonce), accept: toBase64Url(accept)});
	await next(admin, message => message.type === 'room_join_request' && message.room === room.name, fromAdmin);
	await changed(admin, room, {action: 'add', record: user.record, nonce, accept});
}

/** A room_send as a client makes one: the relay checks its shape, member, epoch and size only. */
export function roomSend(room: TestRoom, id: string, options: {epoch?: string; body?: string} = {}) {
	return {type: 'room_send', room: room.name, id, epoch: options.epoch ?? room.epoch, n: 0, body: options.body ?? `gAAAA${id}`, signature: 'A'.repeat(86)};
}

/** Sends a room message and returns its answer: room_accepted or the error whose ref is its id. */
export async function send(user: RoomUser, room: TestRoom, id: string, options: {epoch?: string; body?: string} = {}): Promise<PeerMessage> {
	const from = user.peer.messages().length;
	user.peer.send(roomSend(room, id, options));
	return next(user, message => (message.type === 'room_accepted' && message.id === id) || (message.type === 'error' && message.ref === id), from);
}

/** The log entry of a room_change item (or a room_log's), as JSON. */
export function entryOf(message: PeerMessage): RoomEntryJson {
	return message.entry as RoomEntryJson;
}

/** A change item whose entry has this action. */
export function isChange(action: string, room = 'dev') {
	return (message: PeerMessage) => message.type === 'room_change' && message.room === room && entryOf(message).action === action;
}

/** The items of `room` a user was sent, in order. */
export function items(user: RoomUser, room: string): PeerMessage[] {
	return user.peer.messages().filter(message => (message.type === 'room_message' || message.type === 'room_change') && message.room === room);
}

/** The relay's database, read beside the running relay (WAL lets a reader in). */
export function readDatabase(dataDir: string): Database.Database {
	return new Database(joinPath(dataDir, databaseFileName), {readonly: true});
}

export {entryHash};
