import {Buffer} from 'node:buffer';
import {timingSafeEqual} from 'node:crypto';
import {fromBase64Url} from '../../crypto/base64url.js';
import {entryHash, type RoomEntry} from '../../crypto/room-log.js';

/**
 * Why a change could not give this account the epoch's keys, or why there is no epoch to seal in:
 * `missing_secret` (a fresh epoch without its room_key, or a derived one without the secret it
 * derives from), `wrong_secret` (the secret does not match the change), `no_epoch` (no readable
 * epoch: not a member, stalled, or the room needs a rekey).
 */
export type RoomKeyErrorCode = 'missing_secret' | 'wrong_secret' | 'no_epoch';

export class RoomKeyError extends Error {
	override readonly name = 'RoomKeyError';

	constructor(
		readonly code: RoomKeyErrorCode,
		message: string,
	) {
		super(message);
	}
}

/**
 * The epoch secret of a room_key payload that came with `entry`: the payload must name the entry's
 * room, index and hash, or the author (or the relay) sent a key for another change.
 */
export function roomKeySecret(payload: {room: string; index: number; head: string; secret: string}, entry: RoomEntry): Buffer {
	let head: Buffer;
	let secret: Buffer;
	try {
		head = fromBase64Url(payload.head, 32);
		secret = fromBase64Url(payload.secret, 32);
	} catch {
		throw new RoomKeyError('wrong_secret', 'the room key is malformed');
	}
	if (payload.room !== entry.room || payload.index !== entry.index || !timingSafeEqual(head, entryHash(entry))) {
		throw new RoomKeyError('wrong_secret', 'the room key is for another change');
	}
	return secret;
}
