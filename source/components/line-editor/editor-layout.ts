import {toCells, type Cell} from '../../terminal/cells.js';

/** One screen row of the input: the text before the cursor, the cell under it, and the rest. */
export type EditorRow = {before: string; cursor: string | undefined; after: string};

type Mark = 'text' | 'cursor';

/**
 * The input's text as screen rows of `width` cells, the first `firstWidth` wide (the prompt takes
 * the rest), broken at every newline and wherever a row is full; at most `maxRows` rows, chosen so
 * that the cursor's row is always among them. The cursor is the cell it stands on, or a space at
 * the end of a line.
 */
export type EditorLayout = {rows: EditorRow[]};

/** The last layout: the screen asks for it twice a render (its height, then the view). */
let last: {key: string; layout: EditorLayout} | undefined;

export function editorRows(value: string, cursor: number, firstWidth: number, width: number, maxRows: number): EditorLayout {
	const key = `${cursor}|${firstWidth}|${width}|${maxRows}|${value}`;
	if (last?.key !== key) last = {key, layout: layOut(value, cursor, firstWidth, width, maxRows)};
	return last.layout;
}

function layOut(value: string, cursor: number, firstWidth: number, width: number, maxRows: number): EditorLayout {
	const cells: Array<Cell<Mark> | 'newline'> = [];
	const push = (text: string, mark: Mark) => {
		for (const [index, line] of text.split('\n').entries()) {
			if (index > 0) cells.push('newline');
			for (const cell of toCells<Mark>(line, mark)) cells.push(cell);
		}
	};

	push(value.slice(0, cursor), 'text');
	const after = value.slice(cursor);
	const cursorAt = cells.length;
	push(after, 'text');
	const atCursor = cells[cursorAt];
	if (atCursor === undefined || atCursor === 'newline') cells.splice(cursorAt, 0, {text: ' ', width: 1, style: 'cursor'});
	else cells[cursorAt] = {...atCursor, style: 'cursor'};

	const rows: EditorRow[] = [];
	let row: EditorRow = {before: '', cursor: undefined, after: ''};
	let used = 0;
	let cursorRow = 0;
	const limit = () => Math.max(rows.length === 0 ? firstWidth : width, 1);
	const flush = () => {
		rows.push(row);
		row = {before: '', cursor: undefined, after: ''};
		used = 0;
	};

	for (const cell of cells) {
		if (cell === 'newline') {
			flush();
			continue;
		}

		if (used + cell.width > limit() && used > 0) flush();
		used += cell.width;
		if (cell.style === 'cursor') {
			row.cursor = cell.text;
			cursorRow = rows.length;
		} else if (row.cursor === undefined) row.before += cell.text;
		else row.after += cell.text;
	}

	flush();
	const shown = Math.max(Math.min(maxRows, rows.length), 1);
	const top = Math.min(Math.max(cursorRow - shown + 1, 0), rows.length - shown);
	return {rows: rows.slice(top, top + shown)};
}
