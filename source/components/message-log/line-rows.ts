import type {ChatLine, Delivery, MessageLine, SystemLine, SystemTone} from '../../hooks/chat-state/types.js';
import {safeName, sanitizeMessage, sanitizeText} from '../../sanitize.js';
import {toCells, widthOf, wrapCells, type Cell} from '../../terminal/cells.js';
import type {ColorName} from '../theme.js';

/** How a run of text is drawn. Colours are names; the theme decides whether they are used at all. */
export type Style = {color?: ColorName; bold?: boolean; dim?: boolean; italic?: boolean; inverse?: boolean};

export type Segment = {text: string; style: Style};

/** One screen row of the log: segments side by side, never wider than the log. */
export type Row = Segment[];

export type LayoutOptions = {
	width: number;
	/** My username: my messages are drawn in another colour. */
	me: string | undefined;
	/** Rows one line may fill before the rest is folded away (Infinity: never fold). */
	maxRows: number;
};

/**
 * Every kind of line starts with a marker readable without colour: `<name>` for a message, and for
 * system lines -!- (information), =!= (an error or a warning), --> and <-- (someone joined or
 * left), *** (the relay operator's words, also prefixed "relay:").
 */
export const toneMarker: Record<SystemTone, string> = {info: '-!-', error: '=!=', warning: '=!=', announcement: '***', join: '-->', leave: '<--'};

const toneColor: Record<SystemTone, ColorName> = {info: 'yellow', error: 'red', warning: 'red', announcement: 'magenta', join: 'green', leave: 'gray'};

const timeWidth = 6;

export function formatTime(time: number): string {
	const date = new Date(time);
	return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function sameDay(a: number, b: number): boolean {
	return new Date(a).toDateString() === new Date(b).toDateString();
}

/** "Dec 03 08:59"; "Dec 03 2023 08:59" in another year than `now`'s. */
export function dateTimeLabel(time: number, now = Date.now()): string {
	const date = new Date(time);
	const year = date.getFullYear() === new Date(now).getFullYear() ? '' : ` ${date.getFullYear()}`;
	return `${months[date.getMonth()]} ${String(date.getDate()).padStart(2, '0')}${year} ${formatTime(time)}`;
}

/**
 * A line's time; with its date when a received message says it was written on another day than
 * it arrived (the time is its sender's word: "Dec 03 08:59" cannot pass for today), and for a
 * message kept from another day.
 */
export function timeLabel(line: ChatLine): string {
	if (line.kind !== 'message') return formatTime(line.time);
	if (line.dated !== true && (line.arrived === undefined || sameDay(line.time, line.arrived))) return formatTime(line.time);
	return dateTimeLabel(line.time);
}

const cache = new WeakMap<ChatLine, {key: string; rows: Row[]}>();

/** The rows `line` fills at this width: wrapped under its own text column, folded past maxRows. */
export function lineRows(line: ChatLine, options: LayoutOptions): Row[] {
	const key = `${options.width}|${options.maxRows}|${options.me ?? ''}`;
	const cached = cache.get(line);
	if (cached?.key === key) return cached.rows;
	const rows = layout(line, options);
	cache.set(line, {key, rows});
	return rows;
}

function layout(line: ChatLine, {width, me, maxRows}: LayoutOptions): Row[] {
	const head: Segment[] = [{text: `${timeLabel(line)} `, style: {dim: true}}];
	let body: Array<Array<Cell<Style>>>;
	if (line.kind === 'message') {
		const mine = line.from === me;
		head.push({text: `<${safeName(line.from)}>`, style: {bold: true, color: mine ? 'cyan' : 'green'}}, {text: ' ', style: {}});
		body = messageBody(line);
	} else {
		head.push({text: toneMarker[line.tone], style: {bold: true, color: toneColor[line.tone]}}, {text: ' ', style: {}});
		body = [systemBody(line)];
	}

	const textColumn = head.reduce((sum, segment) => sum + widthOf(segment.text), 0);
	// Wrapped rows start under the text. When a sender's name leaves too little room for that, they
	// start after a gutter ("│ ") right of the time column: never where a line's marker stands, so
	// no row of a message can pass for a line of its own.
	const narrow = textColumn > Math.floor(width / 2);
	const indent = narrow ? Math.min(timeWidth + 2, Math.max(width - 1, 0)) : textColumn;
	const lead: Segment[] = narrow ? [{text: ' '.repeat(timeWidth), style: {}}, {text: '│ ', style: {dim: true}}] : [{text: ' '.repeat(indent), style: {}}];
	const rows: Row[] = [];
	for (const [index, cells] of body.entries()) {
		// Folded, only the rows that can show are laid out (a line of 8,192 tabs is 65,536 cells).
		if (rows.length > maxRows) break;
		const room = Number.isFinite(maxRows) ? (maxRows + 1 - rows.length) * width : cells.length;
		const first = index === 0 ? width - textColumn : width - indent;
		for (const [rowIndex, rowCells] of wrapCells(cells.length > room ? cells.slice(0, room) : cells, first, width - indent).entries()) {
			rows.push([...(index === 0 && rowIndex === 0 ? head : lead), ...segments(rowCells)]);
		}
	}

	if (rows.length <= maxRows) return rows;
	const kept = rows.slice(0, Math.max(maxRows - 1, 1));
	const lines = body.length === 1 ? '' : ` ${body.length} lines,`;
	kept.push([...lead, {text: `…${lines} folded: /fold off shows all`, style: {dim: true, italic: true}}]);
	return kept;
}

function messageBody(line: MessageLine): Array<Array<Cell<Style>>> {
	const lines = sanitizeMessage(line.text).split('\n');
	const body = lines.map(text => toCells<Style>(text, {}));
	if (line.delivery) {
		const last = body[body.length - 1]!;
		for (const cell of toCells<Style>(...deliveryMark(line.delivery, line.receipts, line.roomDelivery))) last.push(cell);
	}
	return body;
}

function systemBody(line: SystemLine): Array<Cell<Style>> {
	const color = toneColor[line.tone];
	const text = line.tone === 'announcement' ? `relay: ${line.text}` : line.text;
	return toCells<Style>(sanitizeText(text), {color, bold: line.tone === 'warning', italic: line.tone === 'info' || line.tone === 'announcement'});
}

/**
 * … sending, · waiting to be sent (offline), · stored by the relay, ✓ delivered end to end (✓ 2/3
 * for a message to everyone; for one to a room, ✓ 3/5: read by 3 of the 5 other members' clients).
 */
export function deliveryMark(delivery: Delivery, receipts: MessageLine['receipts'], room?: MessageLine['roomDelivery']): [string, Style] {
	if (delivery.state === 'failed') {
		return [` ✗ not sent: ${sanitizeText(delivery.message).slice(0, 200)} (${sanitizeText(delivery.code).slice(0, 40)})`, {color: 'red'}];
	}

	if (room !== undefined && (room.delivered > 0 || delivery.state === 'stored')) {
		if (room.delivered === 0) return [` · stored 0/${room.of}`, {dim: true}];
		return [` ✓ ${room.delivered}/${room.of}`, {color: room.delivered >= room.of ? 'green' : 'yellow'}];
	}

	if (receipts !== undefined && receipts.by.length > 0) {
		const all = receipts.by.length === receipts.recipients.length;
		return [` ✓ ${receipts.by.length}/${receipts.recipients.length}`, {color: all ? 'green' : 'yellow'}];
	}

	switch (delivery.state) {
		case 'sending': {
			return [' …', {dim: true}];
		}

		case 'queued': {
			return [' · waiting to be sent', {dim: true}];
		}

		case 'stored': {
			return [receipts === undefined ? ' · stored' : ` · stored 0/${receipts.recipients.length}`, {dim: true}];
		}

		case 'delivered': {
			return [' ✓', {color: 'green'}];
		}
	}
}

/** Cells to segments: neighbouring cells of the same style become one segment. */
function segments(cells: ReadonlyArray<Cell<Style>>): Segment[] {
	const out: Segment[] = [];
	for (const cell of cells) {
		const last = out.at(-1);
		if (last !== undefined && last.style === cell.style) last.text += cell.text;
		else out.push({text: cell.text, style: cell.style});
	}

	return out;
}
