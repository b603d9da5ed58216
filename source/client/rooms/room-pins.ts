import {toBase64Url} from '../../crypto/base64url.js';
import type {RoomRecord, RoomState} from '../../crypto/room-log.js';
import type {EndToEnd} from '../end-to-end.js';

/**
 * Pins the records a room's log holds (its members') in the contact store, as a lookup would, so
 * that their 1:1 envelopes (room keys) open. Returns the names whose record differs from the one
 * pinned here: the store now holds it as a pending key change, and until /trust their room
 * messages are refused.
 */
export function pinRecords(e2e: EndToEnd, records: readonly RoomRecord[]): string[] {
	const others = records.filter(record => record.username !== e2e.username);
	if (others.length === 0) return [];
	const verdicts = e2e.observeAll(
		others.map(record => ({
			username: record.username,
			online: false,
			identity: toBase64Url(record.identity),
			x25519: toBase64Url(record.x25519),
			binding: toBase64Url(record.binding),
		})),
	);
	return others.filter((_, index) => verdicts[index] === 'changed').map(record => record.username);
}

export function memberRecords(state: RoomState): RoomRecord[] {
	return [...state.members.values()].map(member => member.record);
}

/** The words of the warning for a member whose key in a room differs from the pinned one. */
export function keyChangedWarning(room: string, name: string): string {
	return `${name}'s key in #${room} differs from the one pinned on this device: compare safety numbers (/verify ${name}); their messages in #${room} are refused until you /trust ${name}`;
}
