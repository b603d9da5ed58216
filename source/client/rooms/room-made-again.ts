import {entryHash, type RoomEntry} from '../../crypto/room-log.js';
import type {RoomContext} from './room-context.js';
import type {WaitingText} from './room-sending-store.js';

/**
 * A room this account is in may be over without its device having heard: removed while away, then
 * the room deleted on the relay (its last member left) and its name made again by someone, who
 * invites this account. Its add then comes for a room this device holds as 'member': the log
 * fetched before it decides (RoomKeeper.applyHistory compares the creates).
 */

/** Whether the log this account keeps of `room` holds `entry` itself (an item sent again), not only one of its index. */
export function logHolds(ctx: RoomContext, room: string, entry: RoomEntry): boolean {
	const [kept] = ctx.keeper.log(room, entry.index - 1, 1);
	return kept !== undefined && kept.index === entry.index && entryHash(kept).equals(entryHash(entry));
}

/**
 * Keeps the history before this account's add, in one transaction with dropping what waited to go
 * to the room it replaces, if it replaces one this account was in: texts written to that room must
 * not reach the members of another. Throws RoomLogError (nothing written) when it does not hold
 * together, or starts the room this account is in (or an older one of the name).
 */
export function takeHistory(ctx: RoomContext, room: string, entries: RoomEntry[]): void {
	let dropped: WaitingText[] = [];
	const replaced = ctx.atomically(() => {
		const over = ctx.keeper.applyHistory(room, entries);
		if (over) dropped = ctx.sending.forgetRoom(room);
		return over;
	});
	if (!replaced) return;
	ctx.notFollowing.delete(room);
	const creator = entries[0]!.author;
	ctx.warn(room, 'room_made_again', `the #${room} you were in is over: you are joining another room of the name, made by ${creator}`);
	for (const text of dropped) {
		ctx.host.emit('room-error', {room, code: 'not_room_member', message: `not sent: the #${room} you wrote it to is over`, id: text.id});
	}
	ctx.roomsChanged();
}
