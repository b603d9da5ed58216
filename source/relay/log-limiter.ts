import type {Logger} from './logger.js';
import {realTimer, type Timer} from './presence-batcher.js';
import {TokenBucket} from './rate-limiter.js';

export type LogLimits = {
	/** Lines of one event that may be written at once... */
	burst: number;
	/** ...and a second after that. */
	perSecond: number;
	/** Lines held back are counted and written as one `log_suppressed` line this often. */
	summaryMs: number;
};

export const defaultLogLimits: LogLimits = {burst: 100, perSecond: 10, summaryMs: 10_000};

/** Lines of all events together, at once and a second: many kinds of event cannot add up. */
const allEvents = {burst: 400, perSecond: 40};

/**
 * A logger that writes at most `burst` lines of an event at once and `perSecond` after that (and
 * of all events together 400 at once and 40 a second), and instead of the rest one summary line
 * per `summaryMs`: {"event":"log_suppressed","connect":5123,…}.
 * A flood of connections or refusals then grows the log by a few lines a second, not by two
 * lines per attempt.
 */
export function rateLimitedLogger(log: Logger, clock: () => number, limits: LogLimits = defaultLogLimits, timer: Timer = realTimer): Logger {
	const buckets = new Map<string, TokenBucket>();
	const all = new TokenBucket(allEvents.burst, allEvents.perSecond, clock);
	let suppressed = new Map<string, number>();
	let cancel: (() => void) | undefined;
	const summarise = () => {
		cancel = undefined;
		const counts = suppressed;
		suppressed = new Map();
		for (const [event, bucket] of buckets) if (bucket.full) buckets.delete(event);
		if (counts.size > 0) log('log_suppressed', Object.fromEntries(counts));
	};
	return (event, fields) => {
		let bucket = buckets.get(event);
		if (bucket === undefined) {
			bucket = new TokenBucket(limits.burst, limits.perSecond, clock);
			buckets.set(event, bucket);
		}
		if (bucket.take() && all.take()) {
			log(event, fields);
			return;
		}
		suppressed.set(event, (suppressed.get(event) ?? 0) + 1);
		cancel ??= timer(summarise, limits.summaryMs);
	};
}
