import {toBase64Url} from '../crypto/base64url.js';
import {roomEntryToJson, roomEntryFromJson} from '../crypto/room-entry-codec.js';
import {applyChange, isFreshEpoch, RoomLogError, type RoomEntry, type RoomState} from '../crypto/room-log.js';
import type {ErrorMessage, RoomEntryWire, RoomKeyEnvelope} from '../net/messages.js';
import {LoadedRoom} from './loaded-room.js';
import {changeRefusals, isRegisteredRecord, refusal, roomItemOverhead, sameText, storageText, type RoomContext} from './room-context.js';
import {asciiJson, roomChangeJson} from './room-json.js';
import {roomLogOverhead, type StoredMember, type StoredRoom, type StoredRoomItem} from './room-store.js';
import type {Session} from './session.js';
import {guardStorage} from './storage-guard.js';

/**
 * `room_change` (design rooms.md sections 4 and 5): the relay runs applyChange on the room's state,
 * checks the keys staged for it and what only the relay knows (registered records, invitations,
 * limits), and commits the log entry, the stream item, the keys and the membership in one
 * transaction, then delivers the item.
 */
export class RoomChanges {
	constructor(
		private readonly context: RoomContext,
		/** Commits the messages accepted so far: a change takes the next position after them. */
		private readonly flush: () => void,
	) {}

	change(session: Session, username: string, message: {room: string; entry: RoomEntryWire}): ErrorMessage | undefined {
		const {cache, limits, log, relay} = this.context;
		const name = message.room;
		const rooms = this.context.streams.of(session);
		const staged = rooms.staged?.room === name ? rooms.staged.keys : [];
		rooms.staged = undefined;
		let entry: RoomEntry;
		try {
			entry = roomEntryFromJson(message.entry);
		} catch (error) {
			return refusal('bad_room_change', (error as Error).message, name);
		}
		if (entry.room !== name || entry.author !== username) return refusal('bad_room_change', 'a change is sent by its author, to its room', name);
		this.flush();
		const room = cache.get(name);
		if (room === undefined) return refusal('storage_failed', storageText, name);
		if (entry.action === 'create') {
			if (room !== null) return refusal('room_exists', `#${name} exists already`, name);
			const refused = this.roomLimit(username, name);
			if (refused !== undefined) return refused;
		} else if (room === null) {
			return refusal('no_such_room', `there is no room #${name}`, name);
		}
		const state = room?.state;
		if (state !== undefined && (entry.index !== state.index + 1 || !entry.prev.equals(state.head))) {
			return refusal('room_conflict', `the change does not follow the last change of #${name}: read the room and try again`, name);
		}
		// A full log still takes what lets members go and the room be left (each such change removes a member, or ends a rekey wait).
		const freeing = entry.action === 'leave' || entry.action === 'remove' || (entry.action === 'rekey' && state?.needsRekey === true);
		if (entry.index >= limits.maxRoomLog && !freeing) return refusal('room_full', `the log of #${name} is full`, name);
		let next: RoomState;
		try {
			next = applyChange(state, entry);
		} catch (error) {
			if (error instanceof RoomLogError) return refusal(changeRefusals[error.code], error.message, name);
			throw error;
		}
		if (entry.action === 'create' || entry.action === 'add') {
			const user = guardStorage(log, 'user', () => relay.registered(entry.record.username) ?? null);
			if (user === undefined) return refusal('storage_failed', storageText, name);
			if (user === null || !isRegisteredRecord(entry.record, user)) {
				return refusal('bad_room_change', `the record is not the one ${entry.record.username} is registered with`, name);
			}
		}
		if (!keysMatch(staged, expectedKeys(entry, next))) {
			return refusal('room_keys', 'the staged room keys are not one for each member who needs one', name);
		}
		if (entry.action === 'add') {
			const refused = this.roomLimit(entry.record.username, name) ?? this.acceptedInvite(name, entry);
			if (refused !== undefined) return refused;
		}
		return this.commit(session, username, entry, next, room ?? undefined, staged, freeing);
	}

	private roomLimit(username: string, name: string): ErrorMessage | undefined {
		const count = guardStorage(this.context.log, 'rooms', () => this.context.store.memberRoomCount(username));
		if (count === undefined) return refusal('storage_failed', storageText, name);
		const {maxRoomsPerUser} = this.context.limits;
		if (count >= maxRoomsPerUser) return refusal('room_limit', `${username} is in ${maxRoomsPerUser} rooms already, the most one may be in`, name);
		return undefined;
	}

	private acceptedInvite(name: string, entry: RoomEntry & {action: 'add'}): ErrorMessage | undefined {
		const invite = guardStorage(this.context.log, 'invite', () => this.context.store.invite(name, entry.record.username) ?? null);
		if (invite === undefined) return refusal('storage_failed', storageText, name);
		if (invite === null || invite.accept === null || !sameText(invite.nonce, toBase64Url(entry.nonce))) {
			return refusal('bad_room_change', `${entry.record.username} has not accepted an invitation with that nonce`, name);
		}
		return undefined;
	}

	/** `freeing`: a change a full log still takes; a full quota takes it too (charged all the same), or nobody could leave. */
	private commit(session: Session, username: string, entry: RoomEntry, next: RoomState, room: LoadedRoom | undefined, staged: RoomKeyEnvelope[], freeing: boolean): ErrorMessage | undefined {
		const {store, cache, ledger, log, clock, stats, relay, streams} = this.context;
		const name = entry.room;
		const seq = (room?.lastSeq ?? 0) + 1;
		const time = clock();
		const entryJson = asciiJson(roomEntryToJson(entry));
		const json = roomChangeJson(name, seq, time, entryJson);
		const keys = new Map(staged.map(key => [key.to, asciiJson({from: username, to: key.to, id: key.id, kind: 'direct', ratchet: key.ratchet, body: key.body})]));
		if (next.members.size === 0) {
			// The last member left: the room goes, with everything waiting in it.
			const deleted = guardStorage(log, 'room_change', () => store.batch(() => store.deleteRoom(name)));
			if (deleted === undefined) return refusal('storage_failed', storageText, name);
			for (const item of deleted) ledger.removeRoomItem(item.sender, item.bytes);
			for (const reader of room?.readers.keys() ?? []) streams.restart(name, reader);
			cache.delete(name);
			stats.roomChanges += 1;
			session.sink.sendJson(json);
			session.sink.send({type: 'room_changed', room: name, index: entry.index, seq});
			return undefined;
		}
		let bytes = json.length + roomItemOverhead;
		for (const key of keys.values()) bytes += key.length;
		// The log entry stays as long as the room: its author's until then (roomLogOverhead).
		const logBytes = entryJson.length + roomLogOverhead;
		if (!freeing && ledger.checkRoomItem(username, bytes + logBytes, relay.priority(username)) !== 'ok') {
			return refusal('quota_exceeded', 'you have as much stored on the relay as it keeps for one sender (room logs count as long as their room lives); wait until your rooms read it', name);
		}
		const item: StoredRoomItem = {room: name, seq, kind: 'change', sender: username, id: '', time, json, of: next.members.size - 1, bytes};
		const row: StoredRoom = {
			room: name,
			index: next.index,
			head: toBase64Url(next.head),
			creator: next.creator,
			topic: next.topic,
			needsRekey: next.needsRekey,
			lastSeq: seq,
		};
		const committed = guardStorage(log, 'room_change', () =>
			store.batch(() => {
				store.saveRoom(row);
				store.appendLog(name, entry.index, entryJson);
				store.insertRoomItem(item);
				store.insertRoomKeys(name, seq, [...keys].map(([member, key]) => ({member, json: key})));
				this.changeMembership(name, entry, next, seq);
				return true;
			}),
		);
		if (committed === undefined) return refusal('storage_failed', storageText, name);
		const loaded = room ?? new LoadedRoom(next, seq, new Map(), []);
		loaded.setState(next);
		loaded.lastSeq = seq;
		switch (entry.action) {
			case 'create':
			case 'add': {
				const joined = entry.action === 'create' ? entry.author : entry.record.username;
				loaded.setReader(joined, {position: seq - 1, until: undefined});
				streams.restart(name, joined);
				break;
			}
			case 'remove':
			case 'leave': {
				const departed = entry.action === 'remove' ? entry.member : entry.author;
				loaded.setReader(departed, {position: loaded.readers.get(departed)?.position ?? seq - 1, until: seq});
				break;
			}
			default:
		}
		loaded.itemsAdded(username, 'change');
		ledger.addRoomItem(username, bytes);
		ledger.addRoomItem(username, logBytes);
		cache.set(name, loaded);
		stats.roomChanges += 1;
		relay.used(username);
		streams.deliver(loaded, {room: name, seq, kind: 'change', sender: username, json, keys});
		session.sink.send({type: 'room_changed', room: name, index: entry.index, seq});
		return undefined;
	}

	/** The membership rows a committed change makes (inside its transaction). */
	private changeMembership(name: string, entry: RoomEntry, next: RoomState, seq: number): void {
		const {store} = this.context;
		switch (entry.action) {
			case 'create':
			case 'add': {
				const {record} = entry;
				const member: StoredMember = {
					member: record.username,
					admin: next.members.get(record.username)!.admin,
					position: seq - 1,
					until: null,
					identity: toBase64Url(record.identity),
					x25519: toBase64Url(record.x25519),
					binding: toBase64Url(record.binding),
				};
				store.saveMember(name, member);
				if (entry.action === 'add') {
					// Keys left from an earlier membership that ended unread.
					store.deleteRoomKeys(name, record.username, seq - 1);
					store.deleteInvite(name, record.username);
				}
				return;
			}
			case 'remove':
				store.departMember(name, entry.member, seq);
				return;
			case 'leave':
				store.departMember(name, entry.author, seq);
				return;
			case 'admin':
				store.setAdmin(name, entry.member);
				return;
			default:
		}
	}
}

/** Who must get a room key with this change: every other member for a fresh epoch, the new member for an add. */
function expectedKeys(entry: RoomEntry, next: RoomState): Set<string> {
	if (next.members.size === 0) return new Set();
	if (isFreshEpoch(entry.action)) return new Set([...next.members.keys()].filter(member => member !== entry.author));
	if (entry.action === 'add') return new Set([entry.record.username]);
	return new Set();
}

/** Exactly one staged key for each expected member, and none for anyone else. */
function keysMatch(staged: readonly RoomKeyEnvelope[], expected: ReadonlySet<string>): boolean {
	if (staged.length !== expected.size) return false;
	const seen = new Set<string>();
	for (const key of staged) {
		if (!expected.has(key.to) || seen.has(key.to)) return false;
		seen.add(key.to);
	}
	return true;
}
