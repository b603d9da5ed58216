/**
 * The relay's commits of accepted work, one after another: envelopes accepted in one turn, room
 * messages, room changes, what was forwarded and is now kept, and the recount of what waits. At
 * most one is in flight, so per recipient and per room what commits does so in the order it was
 * accepted, and a job sees every earlier one done. A job must never wait for a later one
 * (run() from inside a job would wait for itself).
 */
export class CommitQueue {
	private tail: Promise<unknown> = Promise.resolve();
	private waiting = 0;

	/** Runs `job` after every job queued before it; its result or rejection is the caller's. */
	run<T>(job: () => Promise<T>): Promise<T> {
		this.waiting += 1;
		const result = this.tail.then(job);
		this.tail = result.then(
			() => this.done(),
			() => this.done(),
		);
		return result;
	}

	/** Settles once every job queued so far is done. */
	async idle(): Promise<void> {
		if (this.waiting > 0) await this.run(async () => {});
	}

	/** Whether a job is queued or in flight. */
	get busy(): boolean {
		return this.waiting > 0;
	}

	private done(): void {
		this.waiting -= 1;
	}
}
