import type {ChatLine, MessageLine} from '../../hooks/chat-state/types.js';
import type {KeptPart} from './kept-source.js';
import {memorySource, type LineSource} from './line-source.js';

/** A message's identity across the live lines and the kept ones: its direction and id. */
function messageKey(line: MessageLine): string {
	return `${line.delivery === undefined ? 'in' : 'out'} ${line.id}`;
}

/**
 * One conversation's log: its kept messages (read from the database, seqs below 0), then the lines
 * of this run (in memory, seqs from 0). A kept message that this run shows too is shown once, live.
 */
export function compositeSource(kept: KeptPart | undefined, live: readonly ChatLine[]): LineSource {
	const memory = memorySource(live);
	if (kept === undefined) return memory;
	let liveKeys: Set<string> | undefined;
	const skip = (line: MessageLine) => {
		liveKeys ??= new Set(live.flatMap(each => (each.kind === 'message' ? [messageKey(each)] : [])));
		return liveKeys.has(messageKey(line));
	};

	return {
		before(seq, count) {
			if (seq !== undefined && seq < 0) return kept.before(seq, count, skip);
			const recent = memory.before(seq, count);
			return recent.length >= count ? recent : [...kept.before(undefined, count - recent.length, skip), ...recent];
		},
		after(seq, count) {
			if (seq !== undefined && seq >= 0) return memory.after(seq, count);
			const old = kept.after(seq, count, skip);
			return old.length >= count ? old : [...old, ...memory.after(undefined, count - old.length)];
		},
		countAfter(seq) {
			return seq < 0 ? kept.countAfter(seq) + live.length : memory.countAfter(seq);
		},
		get(seq) {
			return seq < 0 ? kept.get(seq, skip) : memory.get(seq);
		},
	};
}
