import type {WelcomeRoom} from '../../net/messages.js';
import type {RoomContext} from './room-context.js';

/** How long after a login a room's stream counts as caught up, whatever the welcome said of it. */
export const catchUpGraceMs = 10_000;

/**
 * Whether this account has read each room's stream as far as the relay had it at login (the
 * welcome's `rooms`): until then nothing is sealed or prepared on an epoch that may be over.
 */
export class CatchUp {
	/** room → the last seq of its stream when this connection logged in, until reached. */
	readonly #welcomed = new Map<string, number>();
	#grace: NodeJS.Timeout | undefined;

	constructor(private readonly ctx: RoomContext) {}

	welcomed(rooms: readonly WelcomeRoom[]): void {
		this.#welcomed.clear();
		for (const {room, seq} of rooms) this.#welcomed.set(room, seq);
		// A stream that never reaches it (its last items were my own message the relay took before a
		// drop, or items purged by age) counts as caught up after a while all the same: what is then
		// sealed or prepared on an old epoch is refused (room_stale, room_conflict) and done again.
		clearTimeout(this.#grace);
		this.#grace = setTimeout(() => {
			this.#welcomed.clear();
			this.ctx.host.schedule();
		}, catchUpGraceMs);
		this.#grace.unref();
	}

	detach(): void {
		clearTimeout(this.#grace);
		this.#grace = undefined;
	}

	caughtUp(room: string): boolean {
		const last = this.#welcomed.get(room);
		if (last === undefined) return true;
		const position = this.ctx.keeper.position(room);
		// What is left may be this account's own messages, which the relay never sends back (a room's seqs are consecutive).
		if (position < last && this.ctx.sending.mineBetween(room, position, last) < last - position) return false;
		this.#welcomed.delete(room);
		return true;
	}
}
