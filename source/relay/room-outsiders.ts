import type {ErrorMessage, RoomClientMessage} from '../net/messages.js';
import {refusal, storageText, type RoomContext} from './room-context.js';
import {guardStorage} from './storage-guard.js';

/**
 * A message about a room that is not in memory, from someone who has no place in it, is refused
 * after one point read: a non-member's 1-token message must not load a room of 1,000 members (and
 * push rooms in use out of the cache). A create, an accept and a decline are about rooms one is not
 * in yet. Undefined: go on.
 */
export async function outsiderRefusal(context: RoomContext, username: string, message: RoomClientMessage): Promise<ErrorMessage | undefined> {
	if (message.type === 'room_accept' || message.type === 'room_decline') return undefined;
	if (message.type === 'room_change' && message.entry.action === 'create') return undefined;
	const {room} = message;
	if (context.cache.peek(room) !== undefined || (await readsRoom(context, room, username))) return undefined;
	const ref = message.type === 'room_send' ? message.id : room;
	const exists = await guardStorage(context.log, 'room', async () => (await context.store.room(room)) !== undefined);
	if (exists === undefined) return refusal('storage_failed', storageText, ref);
	return exists ? refusal('not_room_member', `you are not a member of #${room}`, ref) : refusal('no_such_room', `there is no room #${room}`, ref);
}

/** Whether `username` has a place in `room`'s stream (a member, or one who left and has yet to read it): one point read. */
export async function readsRoom(context: RoomContext, room: string, username: string): Promise<boolean> {
	return (await guardStorage(context.log, 'room', () => context.store.hasReader(room, username))) ?? false;
}
