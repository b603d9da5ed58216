import {Buffer} from 'node:buffer';
import {timingSafeEqual} from 'node:crypto';
import {deriveEpochSecret, epochKeys} from '../../crypto/room-epoch.js';
import {applyChange, entryHash, isFreshEpoch, roomConfirm, RoomLogError, type RoomEntry, type RoomState} from '../../crypto/room-log.js';
import type {PendingSecrets, RoomAccount} from './room-account.js';
import {RoomKeyError} from './room-key-error.js';
import type {RoomStatus, StoredRoom} from './room-store.js';
import type {ChangeLine} from './room-types.js';

/** What applying a change leaves this account with: the room's new row and the chains of its new epoch. */
type Outcome = {row: StoredRoom; chains?: ReadonlyMap<string, Buffer>};

/**
 * Applies the change `entry`, the room's stream item `seq` (design sections 1 and 2), in one
 * transaction (joining the caller's). `stall` applies it without keys: the room is then 'stalled'
 * until a later fresh epoch whose key this account reads. Throws RoomLogError or RoomKeyError with
 * nothing written.
 */
export function applyRoomChange(
	account: RoomAccount,
	pending: PendingSecrets,
	entry: RoomEntry,
	seq: number,
	secret: Buffer | undefined,
	stall?: {note: string},
): ChangeLine {
	const {store} = account;
	const stored = store.room(entry.room);
	// A room made again under a name this account was in before starts over.
	const restart = entry.index === 0 && stored !== undefined && (stored.status === 'left' || stored.status === 'removed');
	const before = restart ? undefined : stored;
	if (before !== undefined && (before.status === 'left' || before.status === 'removed')) {
		throw new RoomLogError('not_member', `you are no longer a member of #${entry.room}`);
	}
	if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('a stream position is a non-negative safe integer');
	if (before !== undefined && seq <= before.position) throw new RoomLogError('bad_change', `item ${seq} of #${entry.room} was processed already`);
	const state = applyChange(before?.state, entry);
	const outcome = stall === undefined ? epochAfter(account, pending, before, state, entry, seq, secret) : stalled(account, before, state, entry, seq, stall.note);
	store.transaction(() => {
		if (restart) store.forgetRoom(entry.room);
		store.dropKeys(entry.room);
		for (const [member, chainKey] of outcome.chains ?? []) store.saveChain(entry.room, state.head, member, 0, chainKey);
		store.appendLog(entry);
		store.saveRoom(outcome.row, before?.state);
		if (state.members.has(account.username)) store.dropInvite(entry.room);
	});
	// Inside a transaction of the caller's, which may still roll back and have the item applied
	// again, this account's own fresh secret stays (in memory) until the next change or prepare.
	if (!store.inTransaction) pending.drop(entry.room);
	return changeLine(entry);
}

function epochAfter(
	account: RoomAccount,
	pending: PendingSecrets,
	before: StoredRoom | undefined,
	state: RoomState,
	entry: RoomEntry,
	seq: number,
	secret: Buffer | undefined,
): Outcome {
	const out = leftOrRemoved(account, before, state, entry, seq);
	if (out !== undefined) return out;
	const row: StoredRoom = {room: state.room, state, position: seq, status: before?.status === 'stalled' ? 'stalled' : 'member'};
	if (before?.status === 'stalled' && before.note !== undefined) row.note = before.note;
	// The leaver knows the next secret: nothing derives from it, the room waits for a rekey.
	if (entry.action === 'leave') return {row};
	const now = account.clock();
	let epochSecret: Buffer;
	// A secret of this keeper's own making (not the caller's buffer) is wiped once the chains are made.
	let own = false;
	let freshAt: number | undefined;
	if (isFreshEpoch(entry.action)) {
		own = secret === undefined;
		const given = secret ?? (entry.author === account.username ? pending.take(state.room, state.head) : undefined);
		if (given === undefined) throw new RoomKeyError('missing_secret', `no key came with change ${entry.index} of #${state.room}`);
		const confirm = 'confirm' in entry ? entry.confirm : Buffer.alloc(0);
		if (given.length !== 32 || !timingSafeEqual(roomConfirm(given, state.room, entry.index), confirm)) {
			throw new RoomKeyError('wrong_secret', `the key that came with change ${entry.index} of #${state.room} is not its key`);
		}
		epochSecret = given;
		freshAt = Math.min(entry.time, now);
	} else if (before?.next !== undefined && before.epoch !== undefined) {
		epochSecret = deriveEpochSecret(before.next, state.head, state.room, entry.index);
		own = true;
		freshAt = before.freshAt;
	} else if (secret !== undefined && entry.action === 'add' && entry.record.username === account.username) {
		// This account's own add: the one epoch it cannot derive, so its author sent it.
		if (secret.length !== 32) throw new RoomKeyError('wrong_secret', `the key that came with change ${entry.index} of #${state.room} is not 32 bytes`);
		epochSecret = secret;
		freshAt = Math.min(entry.time, now);
	} else {
		throw new RoomKeyError('missing_secret', `this account has no key to derive change ${entry.index} of #${state.room} from`);
	}
	const members = [...state.members.values()].map(({record}) => ({username: record.username, identity: record.identity}));
	const {next, chains} = epochKeys(epochSecret, state.head, state.room, members);
	if (own) epochSecret.fill(0);
	row.status = 'member';
	delete row.note;
	row.epoch = state.head;
	row.next = next;
	if (freshAt !== undefined) row.freshAt = freshAt;
	return {row, chains};
}

function stalled(account: RoomAccount, before: StoredRoom | undefined, state: RoomState, entry: RoomEntry, seq: number, note: string): Outcome {
	return leftOrRemoved(account, before, state, entry, seq) ?? {row: {room: state.room, state, position: seq, status: 'stalled', note}};
}

/** The outcome when this account is not in the room after `entry`: no keys, ever again. */
function leftOrRemoved(account: RoomAccount, before: StoredRoom | undefined, state: RoomState, entry: RoomEntry, seq: number): Outcome | undefined {
	if (state.members.has(account.username)) return undefined;
	let status: RoomStatus;
	if (entry.action === 'leave' && entry.author === account.username) status = 'left';
	else if (entry.action === 'remove' && entry.member === account.username) status = 'removed';
	else throw new RoomLogError('not_member', `this account is not a member of #${state.room}`);
	if (before === undefined) throw new RoomLogError('not_member', `this account is not a member of #${state.room}`);
	return {row: {room: state.room, state, position: seq, status}};
}

/**
 * Entries 0..k-1 of a room's log, fetched before the change k that adds this account: verified as a
 * chain and kept, with no epoch (nothing sent before the add is readable). Nothing is written on error.
 * Returns true when it replaced a room this account was still in (see madeAgain): that room is over.
 */
export function applyRoomHistory(account: RoomAccount, room: string, entries: readonly RoomEntry[]): boolean {
	const {store} = account;
	const stored = store.room(room);
	if (entries.length === 0) throw new RoomLogError('bad_change', 'a history starts with the room’s create');
	let state: RoomState | undefined;
	for (const entry of entries) {
		if (entry.room !== room) throw new RoomLogError('bad_change', 'the history holds a change of another room');
		state = applyChange(state, entry);
	}
	const held = stored !== undefined && (stored.status === 'member' || stored.status === 'stalled');
	if (held) madeAgain(store.log(room, -1, 1)[0], entries[0]!);
	// The stream of a room made again under this name starts over: so does the position.
	const row: StoredRoom = {room, state: state!, position: 0, status: 'invited'};
	store.transaction(() => {
		store.forgetRoom(room);
		for (const entry of entries) store.appendLog(entry);
		store.saveRoom(row);
	});
	return held;
}

/**
 * Throws unless `create` starts another room than the one this account is in under the name (whose
 * create is `ours`): the relay deleted that one (its last member left) and someone made the name
 * again. The evidence is the signed creates, not the relay's word: the same create is this room (a
 * relay must not have a member join its own room from scratch), and one no later than ours is an
 * older room of the name (a relay replaying a deleted room's log must not roll this one back).
 */
function madeAgain(ours: RoomEntry | undefined, create: RoomEntry): void {
	if (ours === undefined || entryHash(ours).equals(entryHash(create))) throw new RoomLogError('bad_change', `#${create.room} has a log here already`);
	if (create.time <= ours.time) throw new RoomLogError('bad_change', `the log of #${create.room} starts before the one you are in`);
}

function changeLine(entry: RoomEntry): ChangeLine {
	const line: ChangeLine = {room: entry.room, index: entry.index, author: entry.author, action: entry.action, time: entry.time};
	switch (entry.action) {
		case 'create':
		case 'topic':
			line.topic = entry.topic;
			break;
		case 'add':
			line.member = entry.record.username;
			break;
		case 'remove':
		case 'admin':
			line.member = entry.member;
			break;
		default:
			break;
	}
	return line;
}
