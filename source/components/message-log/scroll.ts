import type {ChatLine} from '../../hooks/chat-state/types.js';
import type {Row} from './line-rows.js';
import type {LineSource} from './line-source.js';

/**
 * Where the log is scrolled to. Following: the newest rows, and new lines scroll in. Otherwise the
 * view is pinned to a line, so it stays put while lines arrive: `seq` is the line at the bottom of
 * the view, `hidden` how many of its rows are below the view, `newestSeen` the newest line when the
 * person scrolled up (what came after it is new to them). While pinned, the bottom row of the log
 * says what is below.
 */
export type ScrollPosition = {follow: true} | {follow: false; seq: number; hidden: number; newestSeen: number};

export const following: ScrollPosition = {follow: true};

export type RowsOf = (line: ChatLine) => readonly Row[];

export type LogWindow = {
	/** The rows to draw, top to bottom (while following they sit at the bottom of the log). */
	rows: Row[];
	/** Lines wholly or partly below the view. */
	below: number;
	/** Of those, lines that arrived after the person scrolled up. */
	fresh: number;
};

/** Rows of the log the window shows: all of them while following, one fewer (the marker) while pinned. */
function contentHeight(position: ScrollPosition, height: number): number {
	return position.follow ? height : Math.max(height - 1, 1);
}

/** The rows that end at `line` (less its `hidden` bottom rows) and the `want` rows above them, at most. */
function rowsUpTo(source: LineSource, line: ChatLine | undefined, hidden: number, want: number, rowsOf: RowsOf): Row[] {
	const collected: Row[][] = [];
	let count = 0;
	let cursor: number | undefined;
	if (line !== undefined) {
		const rows = rowsOf(line);
		const shown = rows.slice(0, Math.max(rows.length - hidden, 0));
		collected.push(shown);
		count += shown.length;
		cursor = line.seq;
	}

	while (count < want) {
		// Every line fills at least one row, so `want` lines are always enough.
		const page = source.before(cursor, want - count);
		if (page.length === 0) break;
		for (let index = page.length - 1; index >= 0 && count < want; index--) {
			const rows = rowsOf(page[index]!);
			collected.push([...rows]);
			count += rows.length;
		}

		cursor = page[0]!.seq;
	}

	const rows = collected.reverse().flat();
	return rows.slice(Math.max(rows.length - want, 0));
}

export function logWindow(source: LineSource, position: ScrollPosition, height: number, rowsOf: RowsOf): LogWindow {
	const want = contentHeight(position, height);
	if (position.follow) return {rows: rowsUpTo(source, undefined, 0, want, rowsOf), below: 0, fresh: 0};
	const line = source.get(position.seq) ?? source.after(position.seq, 1)[0];
	if (line === undefined) return logWindow(source, following, height, rowsOf);
	const hidden = line.seq === position.seq ? position.hidden : 0;
	const rows = rowsUpTo(source, line, hidden, want, rowsOf);
	// New: arrived after the person scrolled up, and not yet (wholly) on screen.
	const fresh = source.countAfter(Math.max(position.newestSeen, line.seq)) + (hidden > 0 && line.seq > position.newestSeen ? 1 : 0);
	return {rows, below: source.countAfter(line.seq) + (hidden > 0 ? 1 : 0), fresh};
}

/** Scrolls by `delta` rows: negative is up (older), positive down (newer); past the newest row it follows again. */
export function scrollBy(source: LineSource, position: ScrollPosition, delta: number, height: number, rowsOf: RowsOf): ScrollPosition {
	if (delta === 0) return position;
	const newest = source.before(undefined, 1)[0];
	if (newest === undefined) return following;
	const start = position.follow ? newest : (source.get(position.seq) ?? source.after(position.seq, 1)[0]);
	if (start === undefined) return following;
	let line: ChatLine = start;
	let hidden = position.follow || line.seq !== position.seq ? 0 : position.hidden;
	const newestSeen = position.follow ? newest.seq : position.newestSeen;
	if (delta > 0) {
		if (position.follow) return following;
		hidden -= delta;
		while (hidden < 0) {
			const next: ChatLine | undefined = source.after(line.seq, 1)[0];
			if (next === undefined) return following;
			line = next;
			hidden += rowsOf(next).length;
		}

		return line.seq === newest.seq && hidden === 0 ? following : {follow: false, seq: line.seq, hidden, newestSeen};
	}

	hidden -= delta;
	while (hidden >= rowsOf(line).length) {
		hidden -= rowsOf(line).length;
		const previous: ChatLine | undefined = source.before(line.seq, 1)[0];
		if (previous === undefined) return scrollToTop(source, height, rowsOf, newestSeen);
		line = previous;
	}

	const pinned: ScrollPosition = {follow: false, seq: line.seq, hidden, newestSeen};
	// Never further up than the oldest row at the top of the view.
	const above = rowsUpTo(source, line, hidden, contentHeight(pinned, height), rowsOf);
	return above.length < contentHeight(pinned, height) ? scrollToTop(source, height, rowsOf, newestSeen) : pinned;
}

/** The oldest rows at the top of the view; following when everything fits anyway. */
export function scrollToTop(source: LineSource, height: number, rowsOf: RowsOf, newestSeen?: number): ScrollPosition {
	const newest = source.before(undefined, 1)[0];
	if (newest === undefined) return following;
	// Everything fits on the screen: nothing to scroll.
	if (rowsUpTo(source, undefined, 0, height + 1, rowsOf).length <= height) return following;
	const want = Math.max(height - 1, 1);
	let count = 0;
	let cursor: number | undefined;
	for (;;) {
		const page = source.after(cursor, want);
		if (page.length === 0) return following;
		for (const line of page) {
			count += rowsOf(line).length;
			if (count >= want) {
				const position: ScrollPosition = {follow: false, seq: line.seq, hidden: count - want, newestSeen: newestSeen ?? newest.seq};
				return line.seq === newest.seq && count - want === 0 && count <= height ? following : position;
			}
		}

		cursor = page.at(-1)!.seq;
	}
}

/** Line `seq` on screen, about half a page above the bottom of the view (following when that is the newest rows). */
export function revealLine(source: LineSource, seq: number, height: number, rowsOf: RowsOf): ScrollPosition {
	const newest = source.before(undefined, 1)[0];
	if (newest === undefined) return following;
	const pinned: ScrollPosition = {follow: false, seq, hidden: 0, newestSeen: newest.seq};
	return scrollBy(source, pinned, Math.floor(contentHeight(pinned, height) / 2), height, rowsOf);
}
