import {Buffer} from 'node:buffer';
import {timingSafeEqual} from 'node:crypto';
import type {IdentityKeys} from '../../crypto/identity.js';
import type {RoomStore} from './room-store.js';

/** What every part of the room keeper works with: this account's store, name, keys and clock. */
export type RoomAccount = {store: RoomStore; username: string; identity: IdentityKeys; clock: () => number};

/**
 * The fresh epoch secret of the last change this account prepared in each room, in memory (the
 * room sender keeps it in room_my_changes too, so a kill does not lose it), until that change comes
 * back in the room's stream.
 * One per room: a change that lost the race is prepared again, and the older secret is of no use.
 */
export class PendingSecrets {
	readonly #byRoom = new Map<string, {head: Buffer; secret: Buffer}>();

	keep(room: string, head: Buffer, secret: Buffer): void {
		this.drop(room);
		this.#byRoom.set(room, {head: Buffer.from(head), secret: Buffer.from(secret)});
	}

	/** The secret of the change `head` in `room`, if this account prepared it. */
	take(room: string, head: Buffer): Buffer | undefined {
		const pending = this.#byRoom.get(room);
		if (pending === undefined || !timingSafeEqual(pending.head, head)) return undefined;
		return Buffer.from(pending.secret);
	}

	drop(room: string): void {
		this.#byRoom.get(room)?.secret.fill(0);
		this.#byRoom.delete(room);
	}
}
