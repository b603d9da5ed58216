/**
 * A token bucket: holds up to `capacity` tokens, starts full and gains `perSecond` tokens a second.
 * Each take() spends one token or, when none is left, refuses. Pure: the clock is passed in, and
 * nothing is scheduled; the bucket refills lazily whenever it is asked. An infinite capacity or
 * rate never refuses (the limit is lifted).
 */
export class TokenBucket {
	private tokens: number;
	private last: number;
	private readonly unlimited: boolean;

	constructor(
		private readonly capacity: number,
		private readonly perSecond: number,
		private readonly clock: () => number,
	) {
		this.unlimited = capacity === Number.POSITIVE_INFINITY || perSecond === Number.POSITIVE_INFINITY;
		this.tokens = capacity;
		this.last = clock();
	}

	/** Spends `cost` tokens and returns true, or returns false and spends nothing. */
	take(cost = 1): boolean {
		if (this.unlimited) return true;
		this.refill();
		if (this.tokens < cost) return false;
		this.tokens -= cost;
		return true;
	}

	/**
	 * Spends `cost` tokens even if they are not there: the bucket goes into debt and refuses until
	 * it has refilled past zero. For work found out only after it was let in.
	 */
	owe(cost: number): void {
		if (this.unlimited) return;
		this.refill();
		this.tokens -= cost;
	}

	/** Whether the bucket is full again: forgetting it changes nothing. */
	get full(): boolean {
		if (this.unlimited) return true;
		this.refill();
		return this.tokens >= this.capacity;
	}

	/** Milliseconds until `cost` tokens are there (0 if they are now). */
	waitMs(cost = 1): number {
		if (this.unlimited) return 0;
		this.refill();
		return this.tokens >= cost ? 0 : Math.ceil(((cost - this.tokens) * 1000) / this.perSecond);
	}

	/** Whole tokens available now. */
	available(): number {
		if (this.unlimited) return Number.POSITIVE_INFINITY;
		this.refill();
		return Math.floor(this.tokens);
	}

	private refill(): void {
		const now = this.clock();
		// A clock that steps back refills nothing; it does not take tokens away either.
		const elapsed = Math.max(0, now - this.last);
		this.last = now;
		this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSecond) / 1000);
	}
}

/**
 * A token bucket per key (an address, a prefix), made on first use. Buckets that have refilled are
 * dropped by sweep(), so the map holds only keys that spent something recently.
 */
export class KeyedBuckets {
	private readonly buckets = new Map<string, TokenBucket>();

	constructor(
		private readonly capacity: number,
		private readonly perSecond: number,
		private readonly clock: () => number,
	) {}

	take(key: string, cost = 1): boolean {
		return this.bucket(key).take(cost);
	}

	available(key: string): number {
		return this.buckets.get(key)?.available() ?? Math.floor(this.capacity);
	}

	waitMs(key: string, cost = 1): number {
		return this.buckets.get(key)?.waitMs(cost) ?? 0;
	}

	/** Forgets the buckets that are full again; call it now and then. */
	sweep(): void {
		for (const [key, bucket] of this.buckets) if (bucket.full) this.buckets.delete(key);
	}

	get size(): number {
		return this.buckets.size;
	}

	private bucket(key: string): TokenBucket {
		let bucket = this.buckets.get(key);
		if (bucket === undefined) {
			bucket = new TokenBucket(this.capacity, this.perSecond, this.clock);
			this.buckets.set(key, bucket);
		}
		return bucket;
	}
}
