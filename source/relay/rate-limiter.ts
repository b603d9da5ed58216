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

	/** Spends one token and returns true, or returns false and spends nothing. */
	take(): boolean {
		if (this.unlimited) return true;
		this.refill();
		if (this.tokens < 1) return false;
		this.tokens -= 1;
		return true;
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
