/**
 * Replay and gap detection for the envelopes of one sender (PROTOCOL.md section 10). Pure: the
 * caller persists the returned state before it acknowledges the envelope.
 *
 * `next` is the counter expected next; `missing` holds the skipped counters, ascending, each
 * below `next`. `next` can reach 2^53 (after a counter of Number.MAX_SAFE_INTEGER), at which
 * point only missing counters are still accepted: a sender can exhaust only its own space.
 */
export type CounterState = {next: number; missing: number[]};

export type CounterVerdict =
	| {verdict: 'new'; gap: number; state: CounterState}
	| {verdict: 'late'; state: CounterState}
	| {verdict: 'replay'};

/**
 * At most this many skipped counters are remembered. On a bigger total the oldest (lowest) are
 * forgotten, so if one of those arrives after all it is rejected as a replay: remembering
 * every counter a jump skips would let one envelope with counter 2^53 - 1 exhaust memory and disk.
 */
export const maxMissingCounters = 10_000;

export function newCounterState(): CounterState {
	return {next: 0, missing: []};
}

export function acceptCounter(state: CounterState, counter: number): CounterVerdict {
	if (!Number.isSafeInteger(counter) || counter < 0) {
		throw new RangeError(`a counter is a non-negative safe integer, got ${counter}`);
	}
	const {next, missing} = state;
	if (counter >= next) {
		const gap = counter - next;
		// Only the most recent skipped counters can survive the cap, so the range is never materialised whole.
		const firstKept = Math.max(next, counter - maxMissingCounters);
		const skipped = Array.from({length: counter - firstKept}, (_, index) => firstKept + index);
		const kept = [...missing, ...skipped].slice(-maxMissingCounters);
		return {verdict: 'new', gap, state: {next: counter + 1, missing: kept}};
	}
	const index = indexOf(missing, counter);
	if (index === -1) return {verdict: 'replay'};
	return {verdict: 'late', state: {next, missing: [...missing.slice(0, index), ...missing.slice(index + 1)]}};
}

/** Binary search in the ascending `missing` list. */
function indexOf(sorted: readonly number[], value: number): number {
	let low = 0;
	let high = sorted.length - 1;
	while (low <= high) {
		const middle = (low + high) >>> 1;
		const found = sorted[middle]!;
		if (found === value) return middle;
		if (found < value) low = middle + 1;
		else high = middle - 1;
	}
	return -1;
}
