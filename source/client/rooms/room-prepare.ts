import {Buffer} from 'node:buffer';
import {publicIdentity} from '../../crypto/identity.js';
import {deriveEpochSecret, newEpochSecret} from '../../crypto/room-epoch.js';
import {
	applyChange,
	isValidRoomName,
	roomConfirm,
	RoomLogError,
	signChange,
	type RoomEntry,
	type RoomRecord,
	type UnsignedRoomEntry,
} from '../../crypto/room-log.js';
import type {PendingSecrets, RoomAccount} from './room-account.js';
import {RoomKeyError} from './room-key-error.js';

export type RoomChange =
	| {action: 'create'; topic: string}
	| {action: 'add'; record: RoomRecord; nonce: Buffer; accept: Buffer}
	| {action: 'remove'; member: string}
	| {action: 'leave'}
	| {action: 'admin'; member: string}
	| {action: 'topic'; topic: string}
	| {action: 'rekey'};

/** A change this account makes, signed, with the epoch secret it sends and to whom. */
export type PreparedChange = {entry: RoomEntry; secret?: Buffer; recipients: string[]};

/**
 * Builds (does not apply) a change of this account's to `room`, checked against the room's state
 * as applyChange will check it. A fresh epoch's secret is also kept in `pending` (memory only), so
 * the change opens its epoch when it comes back in the room's stream.
 */
export function prepareRoomChange(account: RoomAccount, pending: PendingSecrets, room: string, change: RoomChange): PreparedChange {
	const {store, username} = account;
	const sign = (unsigned: UnsignedRoomEntry) => signChange(unsigned, account.identity.identity.privateKey);
	const time = account.clock();
	const stored = store.room(room);
	if (change.action === 'create') {
		if (!isValidRoomName(room)) throw new RoomLogError('bad_change', 'a room name is 1 to 32 of a-z, 0-9, _ and -, and not "everyone"');
		if (stored !== undefined && stored.status !== 'left' && stored.status !== 'removed') throw new RoomLogError('bad_change', `#${room} exists here already`);
		const secret = newEpochSecret();
		const record = {username, ...publicIdentity(account.identity, username)};
		const entry = sign({room, index: 0, prev: Buffer.alloc(32), author: username, time, action: 'create', topic: change.topic, record, confirm: roomConfirm(secret, room, 0)});
		pending.keep(room, applyChange(undefined, entry).head, secret);
		return {entry, secret, recipients: []};
	}
	if (stored === undefined || (stored.status !== 'member' && stored.status !== 'stalled')) {
		throw new RoomLogError('not_member', `this account is not a member of #${room}`);
	}
	const {state} = stored;
	const base = {room, index: state.index + 1, prev: state.head, author: username, time};
	const fresh = change.action === 'remove' || change.action === 'rekey' ? newEpochSecret() : undefined;
	let unsigned: UnsignedRoomEntry;
	switch (change.action) {
		case 'add':
			unsigned = {...base, action: 'add', record: change.record, nonce: change.nonce, accept: change.accept};
			break;
		case 'remove':
			unsigned = {...base, action: 'remove', member: change.member, confirm: roomConfirm(fresh!, room, base.index)};
			break;
		case 'rekey':
			unsigned = {...base, action: 'rekey', confirm: roomConfirm(fresh!, room, base.index)};
			break;
		case 'leave':
			unsigned = {...base, action: 'leave'};
			break;
		case 'admin':
			unsigned = {...base, action: 'admin', member: change.member};
			break;
		case 'topic':
			unsigned = {...base, action: 'topic', topic: change.topic};
			break;
	}
	const entry = sign(unsigned);
	const after = applyChange(state, entry);
	if (fresh !== undefined) {
		pending.keep(room, after.head, fresh);
		return {entry, secret: fresh, recipients: [...after.members.keys()].filter(name => name !== username).sort()};
	}
	if (entry.action === 'add') {
		// The new member cannot derive the epoch its add starts: its author sends it.
		if (stored.next === undefined || stored.epoch === undefined) throw new RoomKeyError('no_epoch', `this account holds no key of #${room}'s current epoch to add a member with`);
		return {entry, secret: deriveEpochSecret(stored.next, after.head, room, entry.index), recipients: [entry.record.username]};
	}
	return {entry, recipients: []};
}
