/** Messages that may wait behind one still being handled before the connection stops reading its socket. */
export const maxWaitingMessages = 64;

export type SessionQueueEvents = {
	/** A task threw or rejected: a bug, or a storage failure no part caught. The connection pays for it. */
	failed(error: unknown): void;
	/** The queue was full and has drained to half: the connection may read again. */
	drained(): void;
};

/**
 * What one connection asked, handled one message at a time in the order it arrived, each finished
 * (every await of it) before the next starts. A task that needs no store runs at once, inside the
 * call that pushed it, when nothing waits before it. Once `limit` wait, `full` says so and the
 * connection stops reading until `drained`: the queue never grows past what one frame carries
 * beyond it, and nothing is dropped.
 */
export class SessionQueue {
	private readonly waiting: Array<() => Promise<void> | void> = [];
	private running = false;
	private wasFull = false;
	/** The most that ever waited here at once. */
	highWater = 0;

	constructor(
		private readonly events: SessionQueueEvents,
		private readonly limit = maxWaitingMessages,
	) {}

	get length(): number {
		return this.waiting.length;
	}

	get full(): boolean {
		return this.length >= this.limit;
	}

	push(task: () => Promise<void> | void): void {
		this.waiting.push(task);
		const length = this.length;
		if (length > this.highWater) this.highWater = length;
		if (length >= this.limit) this.wasFull = true;
		if (!this.running) void this.run();
	}

	private async run(): Promise<void> {
		this.running = true;
		for (let task = this.waiting.shift(); task !== undefined; task = this.waiting.shift()) {
			try {
				const pending = task();
				if (pending !== undefined) await pending;
			} catch (error) {
				this.events.failed(error);
			}
			if (this.wasFull && this.length <= this.limit / 2) {
				this.wasFull = false;
				this.events.drained();
			}
		}
		this.running = false;
	}
}
