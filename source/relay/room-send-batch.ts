import type {RoomClientMessage} from '../net/messages.js';
import type {AsyncRelayStore} from './async-store.js';
import type {LoadedRoom} from './loaded-room.js';
import {roomMessageJson} from './room-json.js';
import type {StoredRoomItem} from './room-store.js';

type RoomSend = RoomClientMessage & {type: 'room_send'};

/** A message accepted and not yet committed: the room it was checked against, and its item as it will most likely be stored. */
export type Accepted = {room: LoadedRoom; message: RoomSend; item: StoredRoomItem};

/** Why a message accepted is not stored after all. */
export type Refused = 'room_stale' | 'room_needs_rekey' | 'no_such_room' | 'storage_failed';

export const refusedText: Record<Refused, (room: string) => string> = {
	room_stale: room => `#${room} has changed: seal the message in its new epoch`,
	room_needs_rekey: room => `#${room} needs a rekey by an admin before messages go again`,
	no_such_room: room => `there is no room #${room}`,
	storage_failed: () => 'the relay could not store the message; send it again later',
};

/** Thrown inside a batch to roll it back: these rooms changed or went since their messages were accepted. */
export class TurnedAway extends Error {
	constructor(readonly rooms: ReadonlyMap<string, Refused>) {
		super('rooms changed since their messages were accepted');
	}
}

/**
 * Takes `count` positions of `room` and locks its row to the commit (takeRoomSeqs); undefined if
 * there is no such room (deleted, say by another relay) and nothing was written.
 */
export async function takeSeqs(tx: AsyncRelayStore, room: string, count: number): Promise<number | undefined> {
	try {
		return await tx.takeRoomSeqs(room, count);
	} catch (error) {
		// A failed statement fails this read too (PostgreSQL refuses a transaction gone wrong): the error stands.
		if ((await tx.room(room)) === undefined) return undefined;
		throw error;
	}
}

/**
 * Inside one transaction: each room's positions (rooms in sorted order, so two relays' batches lock
 * rows in one order and cannot deadlock), the room checked under its lock, then the items with the
 * positions the store gave. Returns the items as stored, in the order of `batch`; throws TurnedAway
 * (rolling everything back) if a room is gone or no longer in the epoch its messages were sealed in.
 */
export async function writeItems(tx: AsyncRelayStore, batch: readonly Accepted[]): Promise<StoredRoomItem[]> {
	const firsts = new Map<string, number>();
	const refused = new Map<string, Refused>();
	const names = [...new Set(batch.map(accepted => accepted.item.room))].sort();
	for (const name of names) {
		const accepted = batch.filter(entry => entry.item.room === name);
		const first = await takeSeqs(tx, name, accepted.length);
		const row = first === undefined ? undefined : await tx.room(name);
		if (first === undefined || row === undefined) refused.set(name, 'no_such_room');
		else if (accepted.some(entry => entry.message.epoch !== row.head)) refused.set(name, 'room_stale');
		else if (row.needsRekey) refused.set(name, 'room_needs_rekey');
		else firsts.set(name, first);
	}
	if (refused.size > 0) throw new TurnedAway(refused);
	const next = new Map(firsts);
	const items = batch.map(({message, item}): StoredRoomItem => {
		const seq = next.get(item.room)!;
		next.set(item.room, seq + 1);
		if (seq === item.seq) return item;
		const {epoch, n, body, signature} = message;
		// The bytes stay those counted at accept: what the ledger holds is what deleting it gives back.
		return {...item, seq, json: roomMessageJson({room: item.room, seq, time: item.time, from: item.sender, id: item.id, epoch, n, body, signature})};
	});
	for (const item of items) await tx.insertRoomItem(item);
	return items;
}
