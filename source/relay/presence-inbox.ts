import type {PresenceChange} from './cluster.js';

/** Names whose latest change waits at most; past it the inbox is dropped and the whole set read again (a resync), which is what it would have said. */
export const maxWaitingPresence = 100_000;

/** Names handled per step, so one step's store reads stay bounded. */
const stepNames = 1000;

export type PresenceWork = {
	apply: (change: PresenceChange, names: readonly string[]) => Promise<void>;
	resync: () => Promise<void>;
	failed: (operation: string, error: unknown) => void;
};

/**
 * Joins and leaves from other relays, waiting to be applied one step at a time: only the latest
 * change of each name waits (an online then offline is just offline), so however fast the other
 * relays announce and however slow the store is, what waits is bounded by the names, and a resync
 * asked for while one waits is one resync.
 */
export class PresenceInbox {
	private readonly waiting = new Map<string, PresenceChange>();
	private resyncWanted = false;
	private running = false;
	/** Settles when the inbox is next empty (for tests and an orderly stop). */
	private idle: Promise<void> = Promise.resolve();
	private settle: () => void = () => {};

	constructor(private readonly work: PresenceWork) {}

	add(change: PresenceChange, names: readonly string[]): void {
		for (const name of names) {
			if (!this.waiting.has(name) && this.waiting.size >= maxWaitingPresence) {
				this.waiting.clear();
				this.resyncWanted = true;
				break;
			}
			// Deleted first: the name moves to the end, after the changes that came before it.
			this.waiting.delete(name);
			this.waiting.set(name, change);
		}
		this.run();
	}

	resync(): void {
		this.resyncWanted = true;
		this.run();
	}

	get size(): number {
		return this.waiting.size;
	}

	whenIdle(): Promise<void> {
		return this.idle;
	}

	private run(): void {
		if (this.running) return;
		this.running = true;
		this.idle = new Promise(resolve => {
			this.settle = resolve;
		});
		void this.drain();
	}

	private async drain(): Promise<void> {
		for (;;) {
			if (this.resyncWanted) {
				this.resyncWanted = false;
				// What waits is older than what the resync reads.
				this.waiting.clear();
				await this.work.resync().catch(error => this.work.failed('resync', error));
				continue;
			}
			if (this.waiting.size === 0) break;
			const step: Array<[string, PresenceChange]> = [];
			for (const entry of this.waiting) {
				step.push(entry);
				if (step.length >= stepNames) break;
			}
			for (const [name] of step) this.waiting.delete(name);
			// Runs of one change in arrival order: the order of each name's changes is kept.
			let start = 0;
			while (start < step.length) {
				const change = step[start]![1];
				let end = start;
				while (end < step.length && step[end]![1] === change) end++;
				const names = step.slice(start, end).map(([name]) => name);
				await this.work.apply(change, names).catch(error => this.work.failed('presence', error));
				start = end;
			}
		}
		this.running = false;
		this.settle();
	}
}
