import type {ChatLine} from '../../hooks/chat-state/types.js';

/**
 * The lines of one conversation as the log reads them: a page at a time around a line, never the
 * whole conversation. Lines are identified by `seq`, ascending. Today the lines are in memory; a
 * stored history implements the same calls over its database.
 */
export type LineSource = {
	/** Up to `count` lines just before `seq` (before the end when undefined), oldest first. */
	before(seq: number | undefined, count: number): readonly ChatLine[];
	/** Up to `count` lines just after `seq` (from the start when undefined), oldest first. */
	after(seq: number | undefined, count: number): readonly ChatLine[];
	/** How many lines come after `seq`. */
	countAfter(seq: number): number;
	/** The line `seq`, if it is still there. */
	get(seq: number): ChatLine | undefined;
};

/** A LineSource over lines held in memory, sorted by seq. */
export function memorySource(lines: readonly ChatLine[]): LineSource {
	/** Index of the first line whose seq is greater than or equal to `seq`. */
	const lowerBound = (seq: number) => {
		let low = 0;
		let high = lines.length;
		while (low < high) {
			const middle = (low + high) >>> 1;
			if (lines[middle]!.seq < seq) low = middle + 1;
			else high = middle;
		}

		return low;
	};

	return {
		before(seq, count) {
			const end = seq === undefined ? lines.length : lowerBound(seq);
			return lines.slice(Math.max(end - count, 0), end);
		},
		after(seq, count) {
			const start = seq === undefined ? 0 : lowerBound(seq + 1);
			return lines.slice(start, start + count);
		},
		countAfter(seq) {
			return lines.length - lowerBound(seq + 1);
		},
		get(seq) {
			const line = lines[lowerBound(seq)];
			return line?.seq === seq ? line : undefined;
		},
	};
}
