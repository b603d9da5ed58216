import {toBase64Url} from '../crypto/base64url.js';
import type {RoomEntry, RoomState} from '../crypto/room-log.js';
import type {AsyncRelayStore} from './async-store.js';
import {roomChangeJson} from './room-json.js';
import {takeSeqs} from './room-send-batch.js';
import type {StoredMember, StoredRoom, StoredRoomItem} from './room-store.js';

/** A change decided on the room in memory, to commit: `bytes` is what its item counts against its author (with the position most likely taken). */
export type ChangeToWrite = {entry: RoomEntry; entryJson: string; next: RoomState; keys: ReadonlyMap<string, string>; time: number; bytes: number};

/** What the store made of a change: committed at position `seq` (its item `json`; `deleted` if the room went with it), or refused with nothing written. */
export type ChangeWritten =
	| {outcome: 'committed'; seq: number; json: string; deleted?: Array<{sender: string; bytes: number}>}
	| {outcome: 'conflict' | 'gone' | 'exists'};

/** Thrown inside the batch to roll back the position taken: another change got to the head first. */
class HeadMoved extends Error {}

/**
 * Commits a change in one transaction, deciding in the store whether it follows the last change
 * (the relays sharing the store may race): a create inserts the room if absent (createRoom); any
 * other change takes its position, which locks the room's row to the commit (takeRoomSeqs), then
 * moves the head by compare-and-swap on the index it follows (moveRoomHead, given that position as
 * the row's last). The last member gone, the room is deleted under that lock, so no item another
 * relay commits to it can be left behind. Nothing is written unless `committed`.
 */
export async function commitChange(store: AsyncRelayStore, change: ChangeToWrite): Promise<ChangeWritten> {
	try {
		return await store.batch(tx => writeChange(tx, change));
	} catch (error) {
		if (error instanceof HeadMoved) return {outcome: 'conflict'};
		throw error;
	}
}

async function writeChange(tx: AsyncRelayStore, {entry, entryJson, next, keys, time, bytes}: ChangeToWrite): Promise<ChangeWritten> {
	const name = entry.room;
	const row = (lastSeq: number): StoredRoom => ({
		room: name,
		index: next.index,
		head: toBase64Url(next.head),
		creator: next.creator,
		topic: next.topic,
		needsRekey: next.needsRekey,
		lastSeq,
	});
	let seq = 1;
	if (entry.action === 'create') {
		if (!(await tx.createRoom(row(seq)))) return {outcome: 'exists'};
	} else {
		const taken = await takeSeqs(tx, name, 1);
		if (taken === undefined) return {outcome: 'gone'};
		seq = taken;
		if (!(await tx.moveRoomHead(row(seq), entry.index - 1))) throw new HeadMoved();
	}
	const json = roomChangeJson(name, seq, time, entryJson);
	if (next.members.size === 0) return {outcome: 'committed', seq, json, deleted: await tx.deleteRoom(name)};
	const item: StoredRoomItem = {room: name, seq, kind: 'change', sender: entry.author, id: '', time, json, of: next.members.size - 1, bytes};
	await tx.appendLog(name, entry.index, entryJson);
	await tx.insertRoomItem(item);
	await tx.insertRoomKeys(name, seq, [...keys].map(([member, key]) => ({member, json: key})));
	await changeMembership(tx, name, entry, next, seq);
	return {outcome: 'committed', seq, json};
}

/** The membership rows a committed change makes (inside its transaction). */
async function changeMembership(tx: AsyncRelayStore, name: string, entry: RoomEntry, next: RoomState, seq: number): Promise<void> {
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
			await tx.saveMember(name, member);
			if (entry.action === 'add') {
				// Keys left from an earlier membership that ended unread.
				await tx.deleteRoomKeys(name, record.username, seq - 1);
				await tx.deleteInvite(name, record.username);
			}
			return;
		}
		case 'remove':
			await tx.departMember(name, entry.member, seq);
			return;
		case 'leave':
			await tx.departMember(name, entry.author, seq);
			return;
		case 'admin':
			await tx.setAdmin(name, entry.member);
			return;
		default:
	}
}
