import type {Maybe} from './maybe.js';

/** Messages that may wait behind one still being handled before the connection stops reading its socket. */
export const maxWaitingMessages = 64;

export type SessionQueueEvents = {
	/** An item threw or rejected: a bug, or a storage failure no part caught. The connection pays for it. */
	failed(error: unknown): void;
	/** The queue was full and has drained to half: the connection may read again. */
	drained(): void;
};

/**
 * What one connection asked, handled one item at a time in the order it arrived, each finished
 * (every await of it) before the next starts. Items handled at once (no store needed) run inside
 * the call that pushed them, as long as nothing waits before them: no promise, no microtask. Once
 * `limit` wait, `full` says so and the connection stops reading until `drained`: the queue never
 * grows past what one frame carries beyond it, and nothing is dropped.
 */
export class SessionQueue<Item> {
	private readonly waiting: Item[] = [];
	private running = false;
	private wasFull = false;
	/** Waiting for the queue to be empty (idle()). */
	private idleWaiters: Array<() => void> = [];

	constructor(
		private readonly handle: (item: Item) => Maybe<void>,
		private readonly events: SessionQueueEvents,
		private readonly limit = maxWaitingMessages,
	) {}

	get length(): number {
		return this.waiting.length;
	}

	get full(): boolean {
		return this.waiting.length >= this.limit;
	}

	/** Settles once nothing waits and nothing is being handled; undefined if that is so now. */
	idle(): Promise<void> | undefined {
		if (!this.running) return undefined;
		return new Promise(resolve => this.idleWaiters.push(resolve));
	}

	push(item: Item): void {
		this.waiting.push(item);
		if (this.waiting.length >= this.limit) this.wasFull = true;
		if (!this.running) this.run();
	}

	/** Handles what waits: synchronously while each item is done at once, then on from the first that is not, once it is. */
	private run(): void {
		this.running = true;
		for (let item = this.waiting.shift(); item !== undefined; item = this.waiting.shift()) {
			const pending = this.attempt(item);
			if (pending !== undefined) {
				void pending.then(() => {
					this.settled();
					this.run();
				});
				return;
			}
			this.settled();
		}
		this.running = false;
		for (const resolve of this.idleWaiters.splice(0)) resolve();
	}

	/** Runs one item; a promise (never rejected) if it is not done at once. */
	private attempt(item: Item): Promise<void> | undefined {
		try {
			const pending = this.handle(item);
			return pending === undefined ? undefined : pending.catch((error: unknown) => this.tell(() => this.events.failed(error)));
		} catch (error) {
			this.tell(() => this.events.failed(error));
			return undefined;
		}
	}

	private settled(): void {
		if (this.wasFull && this.waiting.length <= this.limit / 2) {
			this.wasFull = false;
			this.tell(() => this.events.drained());
		}
	}

	/** The connection's handlers answer for their own failures; one that throws anyway must not stop this queue or reject into nowhere. */
	private tell(event: () => void): void {
		try {
			event();
		} catch {
			// Nothing left to tell: the connection is failing already.
		}
	}
}
