/**
 * One holder per key at a time, the others waiting in arrival order: what runs under a key runs
 * alone among the work of that key (logins of one name, writes to one owner's contacts, changes to
 * one room). Holds nothing for a key no one waits on.
 */
export class KeyedLock {
	private readonly tails = new Map<string, Promise<void>>();

	/** Runs `work` once every earlier holder of `key` is done; its result or rejection is the caller's. */
	async run<T>(key: string, work: () => Promise<T>): Promise<T> {
		const before = this.tails.get(key);
		let release!: () => void;
		const mine = new Promise<void>(resolve => {
			release = resolve;
		});
		this.tails.set(key, mine);
		try {
			if (before !== undefined) await before;
			return await work();
		} finally {
			if (this.tails.get(key) === mine) this.tails.delete(key);
			release();
		}
	}

	/** Settles once every holder of `key` now (and those waiting for it) is done; undefined if none is. */
	whenFree(key: string): Promise<void> | undefined {
		return this.tails.get(key);
	}

	/** Whether someone holds `key` or waits for it. */
	held(key: string): boolean {
		return this.tails.has(key);
	}

	/** Keys held or waited for: as many as there is work in progress. */
	get size(): number {
		return this.tails.size;
	}
}
