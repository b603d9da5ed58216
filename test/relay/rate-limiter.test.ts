import {describe, expect, it} from 'vitest';
import {TokenBucket} from '../../source/relay/rate-limiter.js';

function clockAt(start = 1_000_000) {
	const clock = {now: start, read: () => clock.now};
	return clock;
}

function takeAll(bucket: TokenBucket, tries: number): number {
	let taken = 0;
	for (let index = 0; index < tries; index++) if (bucket.take()) taken++;
	return taken;
}

describe('TokenBucket', () => {
	it('starts full: a burst of capacity passes at once, the next one is refused', () => {
		const clock = clockAt();
		const bucket = new TokenBucket(200, 50, clock.read);
		expect(takeAll(bucket, 250)).toBe(200);
		expect(bucket.take()).toBe(false);
	});

	it('refills at the rate, in fractions of a token, never past its capacity', () => {
		const clock = clockAt();
		const bucket = new TokenBucket(10, 50, clock.read);
		takeAll(bucket, 10);
		clock.now += 10;
		expect(bucket.take()).toBe(false);
		clock.now += 10;
		expect(bucket.take()).toBe(true);
		clock.now += 1000;
		expect(bucket.available()).toBe(10);
		clock.now += 60_000;
		expect(takeAll(bucket, 100)).toBe(10);
	});

	it('sustains the rate: one second of steady sending at the limit is never refused', () => {
		const clock = clockAt();
		const bucket = new TokenBucket(1, 100, clock.read);
		expect(bucket.take()).toBe(true);
		for (let step = 0; step < 100; step++) {
			clock.now += 10;
			expect(bucket.take()).toBe(true);
		}
	});

	it('a clock that steps back neither refills nor drains', () => {
		const clock = clockAt();
		const bucket = new TokenBucket(5, 1, clock.read);
		takeAll(bucket, 3);
		clock.now -= 60_000;
		expect(bucket.available()).toBe(2);
		clock.now += 1000;
		expect(bucket.available()).toBe(3);
	});

	it('an infinite capacity or rate never refuses', () => {
		const clock = clockAt();
		for (const bucket of [new TokenBucket(Infinity, 1, clock.read), new TokenBucket(1, Infinity, clock.read)]) {
			expect(takeAll(bucket, 10_000)).toBe(10_000);
			expect(bucket.available()).toBe(Infinity);
		}
	});
});
