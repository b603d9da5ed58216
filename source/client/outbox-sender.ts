import type {ClientMessage} from '../net/messages.js';
import type {Outbox} from './outbox.js';

export type Transmit = (message: ClientMessage) => void;

/**
 * At most this many envelopes from the outbox are out unanswered at once: the relay's default burst
 * (PROTOCOL.md section 6), so a pasted block that fits the burst goes out in one go.
 */
export const maxInFlight = 200;
/**
 * After a rate_limited answer the client pauses, then sends at most as many at once as the relay
 * took during the last pause and the run before it; the pause doubles while the relay takes
 * nothing. So each pause costs the relay's allowance of refusals about what it refills meanwhile,
 * and a long outbox sent after a reconnect never ends in `flooding`.
 */
export const rateLimitPauseMs = 1000;
export const maxRateLimitPauseMs = 30_000;

/** Refusals that mean "not now" (PROTOCOL.md section 5): the envelope is sent again, unchanged. */
export const sendAgainCodes: ReadonlySet<string> = new Set(['rate_limited', 'storage_failed', 'lookup_throttled']);

/**
 * Sends what waits in the outbox on the attached connection, in order, paced by what the relay
 * accepts and refuses (see maxInFlight and rateLimitPauseMs).
 */
export class OutboxSender {
	private out: Transmit | undefined;
	private pause: NodeJS.Timeout | undefined;
	/** How many may be out unanswered: maxInFlight, or less while the relay rate-limits. */
	private window = maxInFlight;
	private acceptedSincePause = 0;
	private strikes = 0;

	constructor(
		private readonly outbox: Outbox,
		/** Nothing goes to a contact whose key changed. */
		private readonly keyChanged: (to: string) => boolean,
	) {}

	/** A connection has logged in: what waits in the outbox goes out on it first, oldest first. */
	attach(out: Transmit): void {
		this.out = out;
		this.transmit();
	}

	/** The connection is gone: nothing goes out until the next attach(); what was sent and not answered goes again then. */
	detach(): void {
		this.out = undefined;
		clearTimeout(this.pause);
		this.pause = undefined;
		this.window = maxInFlight;
		this.acceptedSincePause = 0;
		this.strikes = 0;
		this.outbox.unsend();
	}

	/** Refused before anything is sealed, so no counter is spent on a message that never leaves. */
	makeRoom(count: number): void {
		if (!this.outbox.hasRoom(count)) {
			throw new Error(`${this.outbox.size} messages already wait to be sent; try again once they have gone out`);
		}
	}

	/** The relay has the envelope `id` to `to` safe: it leaves the outbox, and room opens for the next ones. */
	accepted(id: string, to: string): void {
		if (this.outbox.settle(id, to) === undefined) return;
		this.acceptedSincePause++;
		if (this.outbox.size === 0) this.window = maxInFlight;
		this.transmit();
	}

	/**
	 * The relay refused the envelope `id`. Refused for good (unknown recipient, too large, queue
	 * full, the sender's quota on the relay used up), it leaves the outbox. Not taken for now (rate_limited, storage_failed,
	 * lookup_throttled: a first message to someone not yet a contact, past the lookup tokens), it goes out
	 * again, unchanged, after a pause that doubles while the relay takes nothing.
	 */
	refused(id: string, code: string): void {
		if (!sendAgainCodes.has(code)) {
			if (this.outbox.settle(id) !== undefined) this.transmit();
			return;
		}

		if (!this.outbox.resend(id) || this.pause !== undefined) return;
		const delay = Math.min(maxRateLimitPauseMs, rateLimitPauseMs * 2 ** Math.min(this.strikes, 16));
		this.pause = setTimeout(() => {
			this.pause = undefined;
			this.strikes = this.acceptedSincePause === 0 ? this.strikes + 1 : 0;
			this.window = Math.max(1, Math.min(maxInFlight, this.acceptedSincePause));
			this.acceptedSincePause = 0;
			this.transmit();
		}, delay);
		this.pause.unref();
	}

	/**
	 * Sends what waits and has not gone out on this connection, oldest first, at most `window`
	 * unanswered at once; nothing to a contact whose key changed, nothing during a pause.
	 */
	transmit(): void {
		const out = this.out;
		if (out === undefined || this.pause !== undefined) return;
		const room = this.window - this.outbox.inFlight;
		if (room <= 0) return;
		for (const envelope of this.outbox.takeUnsent(waiting => !this.keyChanged(waiting.to), room)) {
			out({type: 'send', ...envelope});
		}
	}
}
