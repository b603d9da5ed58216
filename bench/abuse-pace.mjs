// Pacing for the attackers of `npm run bench:abuse`: one shared timer that lets each connection
// send as fast as the relay's token bucket allows (a burst, then a steady rate), and the loop that
// keeps a connection slot busy until the attack's time is up.
import {performance} from 'node:perf_hooks';
import {sleep} from './abuse-wire.mjs';

/**
 * Bytes written and not yet taken by the kernel past which a connection waits: what an attacker
 * counts as sent is then at most this much (plus the kernel's socket buffers) ahead of the relay.
 */
export const maxBacklogBytes = 256 * 1024;

export class Pacer {
	#entries = new Set();
	#last = performance.now();

	constructor(tickMs = 10) {
		this.timer = setInterval(() => this.#tick(), tickMs);
	}

	/**
	 * Calls `step()` up to `rate` times a second after a first `burst`; a step that returns false
	 * (the socket is backed up) keeps its credit for the next tick. Returns a function that stops it.
	 */
	add({rate, burst, step}) {
		const entry = {rate, burst, step, credit: burst};
		this.#entries.add(entry);
		return () => this.#entries.delete(entry);
	}

	stop() {
		clearInterval(this.timer);
		this.#entries.clear();
	}

	#tick() {
		const now = performance.now();
		const seconds = (now - this.#last) / 1000;
		this.#last = now;
		for (const entry of this.#entries) {
			entry.credit = Math.min(entry.burst, entry.credit + seconds * entry.rate);
			while (entry.credit >= 1) {
				if (entry.step() === false) break;
				entry.credit -= 1;
			}
		}
	}
}

/**
 * Runs `once()` again and again while the attack lasts, waiting `pauseMs` after each: one slot
 * of an attacker that reconnects whenever it is dropped. A bench bug is counted, never thrown.
 */
export async function keepBusy(ctx, once, pauseMs = 0) {
	while (ctx.running()) {
		try {
			await once();
		} catch (error) {
			ctx.tally.refuse(`bench error (${error?.message ?? error})`);
			await sleep(100);
		}
		if (pauseMs > 0 && ctx.running()) await sleep(pauseMs);
	}
}

/** Resolves when `connection` closes or the attack's time is up, whichever comes first. */
export function closedOrDone(ctx, connection) {
	return Promise.race([connection.ended, sleep(Math.max(0, ctx.deadline - performance.now()))]);
}
