import stringWidth from 'string-width';

/**
 * Text measured in terminal cells, one grapheme at a time, the way Ink measures it (string-width):
 * so that a row we wrap is a row Ink draws, emoji and CJK included.
 */
export type Cell<S> = {text: string; width: number; style: S};

const segmenter = new Intl.Segmenter(undefined, {granularity: 'grapheme'});

export function graphemes(text: string): string[] {
	return Array.from(segmenter.segment(text), segment => segment.segment);
}

/** The cells of `text`, all in `style`. Text with no line breaks or controls (sanitize it first). */
export function toCells<S>(text: string, style: S): Array<Cell<S>> {
	const cells: Array<Cell<S>> = [];
	for (const segment of segmenter.segment(text)) {
		const grapheme = segment.segment;
		// ASCII is one cell: skip string-width for the common case.
		const width = grapheme.length === 1 && grapheme.charCodeAt(0) < 0x7f ? 1 : stringWidth(grapheme);
		cells.push({text: grapheme, width, style});
	}

	return cells;
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
	for (const cell of cells) {
		if (used + cell.width <= limit() || row.length === 0) {
			row.push(cell);
			used += cell.width;
			if (cell.text === ' ') breakAt = row.length;
			continue;
		}

		if (cell.text === ' ') {
			rows.push(row);
			row = [];
			used = 0;
			breakAt = -1;
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
	return row.at(-1)?.text === ' ' ? row.slice(0, -1) : row;
}
