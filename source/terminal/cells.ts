import stringWidth from 'string-width';

/**
 * Text measured in terminal cells, one grapheme at a time, the way Ink measures it (string-width):
 * so that a row we wrap is a row Ink draws, emoji and CJK included.
 */
export type Cell<S> = {text: string; width: number; style: S};

const segmenter = new Intl.Segmenter(undefined, {granularity: 'grapheme'});

/** Pieces of text segmented at once; see graphemeIterator. */
const pieceLength = 256;
const longestPiece = 512;

const asciiOnly = /^[\u0020-\u007E]*$/;

function isPrintableAscii(code: number): boolean {
	return code >= 0x20 && code <= 0x7e;
}

/** Between two printable ASCII characters there is always a grapheme boundary (UAX #29, GB999). */
function certainBoundary(text: string, index: number): boolean {
	return isPrintableAscii(text.charCodeAt(index - 1)) && isPrintableAscii(text.charCodeAt(index));
}

// What joins a character to the one before it: combining marks, variation selectors, ZWJ, low surrogates.
const joinsPrevious = /[\u0300-\u036F\u1AB0-\u1AFF\u1DC0-\u1DFF\u200C\u200D\u20D0-\u20FF\uFE00-\uFE0F\uFE20-\uFE2F\uDC00-\uDFFF]/;
// What joins the next character to it: ZWJ, a high surrogate, a Hangul leading or vowel jamo.
const joinsNext = /[\u200D\uD800-\uDBFF\u1100-\u11FF\u3130-\u318F\uA960-\uA97F\uD7B0-\uD7FF]/;

/** A cut where no common cluster spans it: for long text without ASCII (CJK, emoji) only. */
function likelyBoundary(text: string, index: number): boolean {
	return !joinsPrevious.test(text[index]!) && !joinsNext.test(text[index - 1]!);
}

/**
 * The grapheme clusters of `text`, segmented a piece at a time: Intl.Segmenter on Node 20 takes
 * time quadratic in the length of what it is given (64 KiB of mixed text: 46 s). Pieces are cut
 * where a boundary is certain (between two ASCII characters), else where no common cluster can
 * span the cut (not before a combining mark, selector or joiner, not after a joiner, a high
 * surrogate or a Hangul jamo), else at 512 characters, never inside a surrogate pair.
 */
export function* graphemeIterator(text: string): Generator<string> {
	let start = 0;
	while (start < text.length) {
		let end = Math.min(text.length, start + pieceLength);
		if (end < text.length) {
			let cut = end;
			while (cut > start + 1 && !certainBoundary(text, cut)) cut--;
			if (cut > start + 1) end = cut;
			else {
				cut = end;
				while (cut > start + 1 && !likelyBoundary(text, cut)) cut--;
				if (cut > start + 1) end = cut;
				else {
					// Nothing to cut at (a run of joiners): a longer piece, never splitting a surrogate pair.
					end = Math.min(text.length, start + longestPiece);
					if (end < text.length && text.charCodeAt(end) >= 0xdc_00 && text.charCodeAt(end) <= 0xdf_ff) end++;
				}
			}
		}

		const piece = text.slice(start, end);
		// Printable ASCII is one grapheme a character: no segmenter needed.
		if (asciiOnly.test(piece)) yield* piece;
		else for (const segment of segmenter.segment(piece)) yield segment.segment;
		start = end;
	}
}

export function graphemes(text: string): string[] {
	return [...graphemeIterator(text)];
}

/** The cells of `text`, all in `style`. Text with no line breaks or controls (sanitize it first). */
export function toCells<S>(text: string, style: S): Array<Cell<S>> {
	const cells: Array<Cell<S>> = [];
	for (const grapheme of graphemeIterator(text)) {
		// ASCII is one cell: skip string-width for the common case.
		const width = grapheme.length === 1 && grapheme.charCodeAt(0) < 0x7f ? 1 : graphemeWidth(grapheme);
		cells.push({text: grapheme, width, style});
	}

	return cells;
}

/** Widths of graphemes seen, for text that repeats the same few (a CJK paste); cleared when full. */
const widths = new Map<string, number>();

function graphemeWidth(grapheme: string): number {
	let width = widths.get(grapheme);
	if (width === undefined) {
		if (widths.size >= 4096) widths.clear();
		width = stringWidth(grapheme);
		widths.set(grapheme, width);
	}

	return width;
}

export function widthOf(text: string): number {
	return stringWidth(text);
}

/**
 * Wraps cells into rows of at most `firstWidth` cells (the first row) and `restWidth` (the others),
 * breaking after a space where it can and inside a word only when the word is longer than a row.
 * A space that falls at a break is dropped. A cell wider than a whole row gets a row of its own.
 */
export function wrapCells<S>(cells: ReadonlyArray<Cell<S>>, firstWidth: number, restWidth: number): Array<Array<Cell<S>>> {
	const rows: Array<Array<Cell<S>>> = [];
	let row: Array<Cell<S>> = [];
	let used = 0;
	// Cells of `row` after its last space: what moves down when the row overflows.
	let breakAt = -1;
	const limit = () => Math.max(rows.length === 0 ? firstWidth : restWidth, 1);
	// Spaces where a row was broken are dropped, so no row starts with them (or is only them).
	let afterBreak = false;
	for (const cell of cells) {
		if (afterBreak && cell.text === ' ') continue;
		afterBreak = false;
		if (used + cell.width <= limit() || row.length === 0) {
			row.push(cell);
			used += cell.width;
			if (cell.text === ' ') breakAt = row.length;
			continue;
		}

		if (cell.text === ' ') {
			rows.push(trimEndSpace(row));
			row = [];
			used = 0;
			breakAt = -1;
			afterBreak = true;
			continue;
		}

		if (breakAt > 0) {
			const carried = row.slice(breakAt);
			rows.push(trimEndSpace(row.slice(0, breakAt)));
			row = carried;
		} else {
			rows.push(row);
			row = [];
		}

		breakAt = -1;
		row.push(cell);
		used = row.reduce((sum, each) => sum + each.width, 0);
		// A carried word may itself not fit the new row's width: hard-break it.
		while (used > limit() && row.length > 1) {
			let fit = 0;
			let width = 0;
			while (fit < row.length && width + row[fit]!.width <= limit()) width += row[fit++]!.width;
			rows.push(row.slice(0, Math.max(fit, 1)));
			row = row.slice(Math.max(fit, 1));
			used = row.reduce((sum, each) => sum + each.width, 0);
		}
	}

	rows.push(row);
	return rows;
}

function trimEndSpace<S>(row: Array<Cell<S>>): Array<Cell<S>> {
	let end = row.length;
	while (end > 0 && row[end - 1]!.text === ' ') end--;
	return end === row.length ? row : row.slice(0, end);
}
