import {toBase64Url} from '../crypto/base64url.js';
import {roomEntryToJson, roomEntryFromJson} from '../crypto/room-entry-codec.js';
import {applyChange, isFreshEpoch, RoomLogError, type RoomEntry, type RoomState} from '../crypto/room-log.js';
import type {ErrorMessage, RoomEntryWire, RoomKeyEnvelope} from '../net/messages.js';
import {KeyedLock} from './keyed-lock.js';
import {LoadedRoom} from './loaded-room.js';
import {commitChange} from './room-change-commit.js';
import {changeRefusals, isRegisteredRecord, refusal, roomItemOverhead, sameText, storageText, type RoomContext} from './room-context.js';
import {asciiJson, roomChangeJson} from './room-json.js';
import {roomLogOverhead} from './room-store.js';
import type {RoomRefresh} from './room-wakeups.js';
import type {Session} from './session.js';
import {guardStorage} from './storage-guard.js';

/** Refusals a room in memory behind the store's may give wrongly: decided again on the room read again. */
const behind = new Set(['room_conflict', 'room_exists', 'no_such_room']);

/**
 * `room_change` (design rooms.md sections 4 and 5): the relay runs applyChange on the room's state,
 * checks the keys staged for it and what only the relay knows (registered records, invitations,
 * limits), and commits the log entry, the stream item, the keys and the membership in one
 * transaction, then delivers the item.
 *
 * The changes of one room run one at a time, and the room's messages wait while one is under way.
 * The room in memory decides first whether a change follows the last one; the store decides again
 * as it commits (room-change-commit.ts), since relays sharing it may race. A store shared (PostgreSQL)
 * may be ahead of the room in memory: a change refused as not following it, or that lost in the
 * store, is decided once more on the room read again, so a client that read the room elsewhere is
 * not refused for this relay's old copy. Changes also hold the room's reader lock (`readers`),
 * which acknowledgements and reads of the room take, since all of them move readers.
 */
export class RoomChanges {
	private readonly changes = new KeyedLock();

	constructor(
		private readonly context: RoomContext,
		/** The room's reader positions, one writer at a time (room-readers.ts). */
		private readonly readers: KeyedLock,
		/** Commits the messages accepted so far, inside a job of the commit queue: a change takes the next position after them. */
		private readonly flush: () => Promise<void>,
		private readonly refresh: RoomRefresh,
	) {}

	/** Settles once the changes under way in `room` are done; undefined if none is: a message waits for it. */
	underWay(room: string): Promise<void> | undefined {
		return this.changes.whenFree(room);
	}

	async change(session: Session, username: string, message: {room: string; entry: RoomEntryWire}): Promise<ErrorMessage | undefined> {
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
		return this.changes.run(name, () => this.readers.run(name, () => this.checked(session, username, entry, staged)));
	}

	/** The change decided and committed, holding the room's turn. */
	private async checked(session: Session, username: string, entry: RoomEntry, staged: RoomKeyEnvelope[]): Promise<ErrorMessage | undefined> {
		const {cache, store} = this.context;
		let room = await cache.get(entry.room);
		for (let attempt = 0; ; attempt += 1) {
			if (room === undefined) return refusal('storage_failed', storageText, entry.room);
			// Kept in memory until the change is done: this is the copy it changes.
			if (room !== null) room.changing += 1;
			let answer: ErrorMessage | undefined;
			try {
				answer = await this.decide(session, username, entry, staged, room);
			} finally {
				if (room !== null) room.changing -= 1;
			}
			if (store.kind === 'sqlite' || attempt > 0 || !behind.has(answer?.code ?? '')) return answer;
			room = await this.refresh.reload(entry.room);
		}
	}

	private async decide(session: Session, username: string, entry: RoomEntry, staged: RoomKeyEnvelope[], room: LoadedRoom | null): Promise<ErrorMessage | undefined> {
		const {limits, log, relay, commits} = this.context;
		const name = entry.room;
		if (entry.action === 'create') {
			if (room !== null) return refusal('room_exists', `#${name} exists already`, name);
			const refused = await this.roomLimit(username, name);
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
			const user = await guardStorage(log, 'user', async () => (await relay.registered(entry.record.username)) ?? null);
			if (user === undefined) return refusal('storage_failed', storageText, name);
			if (user === null || !isRegisteredRecord(entry.record, user)) {
				return refusal('bad_room_change', `the record is not the one ${entry.record.username} is registered with`, name);
			}
		}
		if (!keysMatch(staged, expectedKeys(entry, next))) {
			return refusal('room_keys', 'the staged room keys are not one for each member who needs one', name);
		}
		if (entry.action === 'add') {
			const refused = (await this.roomLimit(entry.record.username, name)) ?? (await this.acceptedInvite(name, entry));
			if (refused !== undefined) return refused;
		}
		// After the messages accepted before it, which commit first: the change takes the position after theirs.
		return commits.run(async () => {
			await this.flush();
			return this.commit(session, username, entry, next, room ?? undefined, staged, freeing);
		});
	}

	private async roomLimit(username: string, name: string): Promise<ErrorMessage | undefined> {
		const count = await guardStorage(this.context.log, 'rooms', () => this.context.store.memberRoomCount(username));
		if (count === undefined) return refusal('storage_failed', storageText, name);
		const {maxRoomsPerUser} = this.context.limits;
		if (count >= maxRoomsPerUser) return refusal('room_limit', `${username} is in ${maxRoomsPerUser} rooms already, the most one may be in`, name);
		return undefined;
	}

	private async acceptedInvite(name: string, entry: RoomEntry & {action: 'add'}): Promise<ErrorMessage | undefined> {
		const invite = await guardStorage(this.context.log, 'invite', async () => (await this.context.store.invite(name, entry.record.username)) ?? null);
		if (invite === undefined) return refusal('storage_failed', storageText, name);
		if (invite === null || invite.accept === null || !sameText(invite.nonce, toBase64Url(entry.nonce))) {
			return refusal('bad_room_change', `${entry.record.username} has not accepted an invitation with that nonce`, name);
		}
		return undefined;
	}

	/** `freeing`: a change a full log still takes; a full quota takes it too (charged all the same), or nobody could leave. A job of the commit queue. */
	private async commit(session: Session, username: string, entry: RoomEntry, next: RoomState, room: LoadedRoom | undefined, staged: RoomKeyEnvelope[], freeing: boolean): Promise<ErrorMessage | undefined> {
		const {store, cache, ledger, log, clock, stats, relay, streams} = this.context;
		const name = entry.room;
		// The position the store most likely gives: the item's bytes are counted with it.
		const guess = (room?.lastSeq ?? 0) + 1;
		const time = clock();
		const entryJson = asciiJson(roomEntryToJson(entry));
		const keys = new Map(staged.map(key => [key.to, asciiJson({from: username, to: key.to, id: key.id, kind: 'direct', ratchet: key.ratchet, body: key.body})]));
		let bytes = roomChangeJson(name, guess, time, entryJson).length + roomItemOverhead;
		for (const key of keys.values()) bytes += key.length;
		// The log entry stays as long as the room: its author's until then (roomLogOverhead).
		const logBytes = entryJson.length + roomLogOverhead;
		if (next.members.size > 0 && !freeing && ledger.checkRoomItem(username, bytes + logBytes, relay.priority(username)) !== 'ok') {
			return refusal('quota_exceeded', 'you have as much stored on the relay as it keeps for one sender (room logs count as long as their room lives); wait until your rooms read it', name);
		}
		const written = await guardStorage(log, 'room_change', () => commitChange(store, {entry, entryJson, next, keys, time, bytes}));
		if (written === undefined) return refusal('storage_failed', storageText, name);
		switch (written.outcome) {
			case 'conflict':
				return refusal('room_conflict', `the change does not follow the last change of #${name}: read the room and try again`, name);
			case 'gone':
				return refusal('no_such_room', `there is no room #${name}`, name);
			case 'exists':
				return refusal('room_exists', `#${name} exists already`, name);
			default:
		}
		const {seq, json, deleted} = written;
		this.context.wake([name]);
		if (deleted !== undefined) {
			// The last member left: the room went, with everything waiting in it.
			for (const item of deleted) ledger.removeRoomItem(item.sender, item.bytes);
			for (const reader of room?.readers.keys() ?? []) streams.restart(name, reader);
			cache.delete(name);
			stats.roomChanges += 1;
			session.sink.sendJson(json);
			session.sink.send({type: 'room_changed', room: name, index: entry.index, seq});
			return undefined;
		}
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
