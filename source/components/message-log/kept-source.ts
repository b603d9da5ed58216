import {maxHistoryPage, type HistoryEntry} from '../../client/history.js';
import {shownTime} from '../../hooks/chat-state/received.js';
import {isRoomKey} from '../../hooks/chat-state/room-keys.js';
import {everyone, type MessageLine} from '../../hooks/chat-state/types.js';
import {sameDay} from './line-rows.js';

/** What the log reads kept messages through (ChatConnection's history calls). */
export type KeptReader = {
	history(conversation: string, options: {before?: number; limit: number}): HistoryEntry[];
	historyFrom(conversation: string, seq: number, limit: number): HistoryEntry[];
};

/**
 * Kept messages become lines whose seq is their history seq less 2^50: below every line of this
 * run (those count up from 0), in the database's order.
 */
export const keptOffset = 2 ** 50;

export const keptLineSeq = (historySeq: number): number => historySeq - keptOffset;

const historySeq = (lineSeq: number): number => lineSeq + keptOffset;

/** The time a kept message shows, as its live line did: mine when I sent it, another's as shownTime says. */
export function entryTime(entry: HistoryEntry): number {
	return entry.direction === 'out' ? entry.sent : shownTime(entry);
}

/** A kept message as a line of the log, the way the same message looked when it was live. */
export function entryLine(entry: HistoryEntry, me: string | undefined, now: number): MessageLine {
	const mine = entry.direction === 'out';
	const shared = entry.conversation === everyone || isRoomKey(entry.conversation);
	const to = shared || mine ? entry.conversation : (me ?? '');
	const time = entryTime(entry);
	const line: MessageLine = {kind: 'message', seq: keptLineSeq(entry.seq), id: entry.id, from: entry.author, to, text: entry.text, time};
	if (!sameDay(time, now)) line.dated = true;
	if (!mine) line.arrived = entry.time;
	else {
		// Not acknowledged in its run: it waits in the outbox on disk, and goes out when the client is online.
		const delivery = entry.delivery ?? {state: 'sending'};
		line.delivery = delivery.state === 'sending' ? {state: 'queued'} : delivery;
		if (entry.receipts !== undefined) line.receipts = entry.receipts;
		if (entry.roomDelivery !== undefined) line.roomDelivery = entry.roomDelivery;
	}

	return line;
}

/** Lines this run holds too (a message kept and also shown live): left out of the kept part. */
export type Skip = (line: MessageLine) => boolean;

/** One conversation's kept messages, up to history seq `newest`, read from the database a page at a time. */
export type KeptPart = {
	before(seq: number | undefined, count: number, skip: Skip): MessageLine[];
	after(seq: number | undefined, count: number, skip: Skip): MessageLine[];
	/** Kept messages after line `seq` (those also shown live counted too). */
	countAfter(seq: number): number;
	get(seq: number, skip: Skip): MessageLine | undefined;
	/** Reads lines again (a receipt changed one): drops the lines made so far. */
	refresh(): void;
};

export type KeptOptions = {
	me: string | undefined;
	now?: () => number;
	/** Lines kept made (so that their layout is reused), at most. */
	cachedLines?: number;
	/** Counts remembered (countAfter of a line), at most. */
	checkpoints?: number;
};

export function keptPart(reader: KeptReader, conversation: string, newest: number, options: KeptOptions): KeptPart {
	const {me, now = Date.now, cachedLines = 1000, checkpoints = 256} = options;
	const lines = new Map<number, MessageLine>();
	// History seq → how many kept messages come after it. The newest has none after it.
	const counts = new Map<number, number>([[newest, 0]]);

	const line = (entry: HistoryEntry): MessageLine => {
		const cached = lines.get(entry.seq);
		if (cached !== undefined) return cached;
		const made = entryLine(entry, me, now());
		lines.set(entry.seq, made);
		if (lines.size > cachedLines) lines.delete(lines.keys().next().value!);
		return made;
	};

	const remember = (from: number, total: number) => {
		counts.set(from, total);
		if (counts.size > checkpoints) {
			for (const known of counts.keys()) {
				if (known !== newest) {
					counts.delete(known);
					break;
				}
			}
		}

		return total;
	};

	/** Kept entries from history seq `from` on, in pages, until `visit` says stop or they end. */
	const forward = (from: number, visit: (entry: HistoryEntry) => boolean, page = maxHistoryPage) => {
		let cursor = from;
		for (;;) {
			const entries = reader.historyFrom(conversation, cursor, page);
			for (const entry of entries) {
				if (entry.seq > newest || !visit(entry)) return;
			}

			if (entries.length < page) return;
			cursor = entries.at(-1)!.seq + 1;
		}
	};

	return {
		before(seq, count, skip) {
			const out: MessageLine[] = [];
			let cursor = seq === undefined ? newest + 1 : Math.min(historySeq(seq), newest + 1);
			while (out.length < count) {
				const limit = Math.min(maxHistoryPage, count - out.length);
				const entries = reader.history(conversation, {before: cursor, limit});
				if (entries.length === 0) break;
				out.unshift(...entries.map(line).filter(each => !skip(each)));
				cursor = entries[0]!.seq;
				if (entries.length < limit) break;
			}

			return out;
		},
		after(seq, count, skip) {
			const out: MessageLine[] = [];
			if (count <= 0) return out;
			forward(
				seq === undefined ? 0 : historySeq(seq) + 1,
				entry => {
					const each = line(entry);
					if (!skip(each)) out.push(each);
					return out.length < count;
				},
				Math.min(maxHistoryPage, count),
			);
			return out;
		},
		countAfter(seq) {
			const from = historySeq(seq);
			if (from >= newest) return 0;
			// From the nearest count known, above or below: scrolling moves a page at a time, so this reads a page.
			let above = newest;
			let below: number | undefined;
			for (const known of counts.keys()) {
				if (known > from && known < above) above = known;
				if (known < from && (below === undefined || known > below)) below = known;
			}

			let count = 0;
			const upTo = (last: number) => (entry: HistoryEntry) => {
				if (entry.seq > last) return false;
				count++;
				return entry.seq < last;
			};

			if (below !== undefined && from - below < above - from) {
				// What comes after `below`, less the messages up to `from`.
				// Seqs are shared by every conversation: the gap between them bounds the messages in it.
				forward(below + 1, upTo(from), Math.min(maxHistoryPage, from - below));
				return remember(from, counts.get(below)! - count);
			}

			forward(from + 1, upTo(above), Math.min(maxHistoryPage, above - from));
			return remember(from, count + counts.get(above)!);
		},
		get(seq, skip) {
			const wanted = historySeq(seq);
			if (wanted > newest) return undefined;
			const entry = reader.historyFrom(conversation, wanted, 1)[0];
			if (entry?.seq !== wanted) return undefined;
			const each = line(entry);
			return skip(each) ? undefined : each;
		},
		refresh() {
			lines.clear();
		},
	};
}
