import {describe, expect, test} from 'vitest';
import type {ChatLine} from '../../source/hooks/chat-state/types.js';
import {formatTime, lineRows, type Row} from '../../source/components/message-log/line-rows.js';
import {memorySource} from '../../source/components/message-log/line-source.js';
import {following, logWindow, scrollBy, scrollToTop, type ScrollPosition} from '../../source/components/message-log/scroll.js';

const at = new Date(2026, 11, 6, 9, 5).getTime();
const time = formatTime(at);

const message = (seq: number, text: string, from = 'amy'): ChatLine => ({kind: 'message', seq, id: `m${seq}`, from, to: 'me1', text, time: at});

const plain = (row: Row) => row.map(segment => segment.text).join('');
const rows = (line: ChatLine, width: number, maxRows = Number.POSITIVE_INFINITY) => lineRows(line, {width, me: 'me1', maxRows}).map(plain);

describe('a line as rows', () => {
	test('a short message is one row: time, <name>, text', () => {
		expect(rows(message(1, 'hello'), 40)).toEqual([`${time} <amy> hello`]);
	});

	test('long text wraps at spaces, and every wrapped row keeps one indent under the text', () => {
		expect(rows(message(1, 'the quick brown fox jumps over the lazy dog'), 30)).toEqual([
			`${time} <amy> the quick brown`,
			'            fox jumps over the',
			'            lazy dog',
		]);
	});

	test('a word longer than a row is cut where the row ends', () => {
		expect(rows(message(1, 'x'.repeat(40)), 30)).toEqual([`${time} <amy> ${'x'.repeat(18)}`, `            ${'x'.repeat(18)}`, `            ${'x'.repeat(4)}`]);
	});

	test('wide characters are measured in cells: a row of CJK never spills over', () => {
		for (const row of rows(message(1, '世界'.repeat(20)), 25)) expect(row.length + (row.match(/[世界]/g)?.length ?? 0)).toBeLessThanOrEqual(25);
	});

	test('a multi-line message keeps its lines, each under the text column', () => {
		expect(rows(message(1, 'one\n\ntwo\r\nthree'), 40)).toEqual([`${time} <amy> one`, '', '            two', '            three'].map(row => (row === '' ? '            ' : row)));
	});

	test('a message its sender dates another day than it arrived shows the date too', () => {
		const claimed = new Date(2026, 11, 3, 8, 59).getTime();
		const line: ChatLine = {kind: 'message', seq: 1, id: 'm1', from: 'mallory', to: 'me1', text: 'old news', time: claimed, arrived: at};
		expect(rows(line, 60)).toEqual(['Dec 03 08:59 <mallory> old news']);
		expect(rows({...line, time: at - 60_000}, 60)[0]).toMatch(/^\d\d:\d\d <mallory> old news$/);
	});

	test('my message carries its delivery mark after the text', () => {
		const mine: ChatLine = {kind: 'message', seq: 1, id: 'm1', from: 'me1', to: 'amy', text: 'hi', time: at, delivery: {state: 'delivered'}};
		expect(rows(mine, 40)).toEqual([`${time} <me1> hi ✓`]);
	});

	test('each kind of system line has its own marker, readable without colour', () => {
		const system = (tone: 'info' | 'error' | 'warning' | 'announcement' | 'join' | 'leave', text: string): ChatLine => ({kind: 'system', seq: 1, tone, text, time: at});
		expect(rows(system('info', 'hello'), 60)).toEqual([`${time} -!- hello`]);
		expect(rows(system('error', 'bad'), 60)).toEqual([`${time} =!= bad`]);
		expect(rows(system('warning', 'WARNING: x'), 60)).toEqual([`${time} =!= WARNING: x`]);
		expect(rows(system('announcement', 'maintenance at 5'), 60)).toEqual([`${time} *** relay: maintenance at 5`]);
		expect(rows(system('join', 'bob joined'), 60)).toEqual([`${time} --> bob joined`]);
		expect(rows(system('leave', 'bob left'), 60)).toEqual([`${time} <-- bob left`]);
	});

	test('a message cannot draw escape sequences or fake a system row', () => {
		const [row] = rows(message(1, '\u001B[2J\n-!- fake'), 60);
		expect(row).toBe(`${time} <amy> `);
		expect(rows(message(1, '\u001B[2J\n-!- fake'), 60)[1]).toBe('            -!- fake');
	});

	test('past maxRows a message is folded, and the fold says how to see it whole', () => {
		const long = message(1, Array.from({length: 30}, (_, index) => `line ${index}`).join('\n'));
		const folded = rows(long, 60, 5);
		expect(folded).toHaveLength(5);
		expect(folded[3]).toBe('            line 3');
		expect(folded[4]).toBe('            … 30 lines, folded: /fold off shows all');
		expect(rows(long, 60)).toHaveLength(30);
	});

	test('a sender name too long for the width wraps after a gutter, never where a line starts', () => {
		const line = message(1, 'abc def ghi jkl', 'a'.repeat(32));
		const [first, second] = rows(line, 44);
		expect(first).toBe(`${time} <${'a'.repeat(32)}> abc`);
		expect(second).toBe('      │ def ghi jkl');
		// A hostile sender's own lines cannot start at the column where markers stand.
		const forged = message(2, 'x\n<alice> please send me the key file\n-!- alice is verified', 'b'.repeat(32));
		for (const row of rows(forged, 59).slice(1)) expect(row).toMatch(/^ {6}│ /);
	});
});

/** Lines of one row each at width 80, numbered 0..count-1 with seq = index * 10 (gaps, as in a real log). */
function oneRowLines(count: number): ChatLine[] {
	return Array.from({length: count}, (_, index) => message(index * 10, `m${index}`));
}

const rowsOf = (line: ChatLine) => lineRows(line, {width: 80, me: 'me1', maxRows: 12});
const texts = (lines: ChatLine[], position: ScrollPosition, height: number) =>
	logWindow(memorySource(lines), position, height, rowsOf).rows.map(row => plain(row).slice(time.length + 7));

describe('the log window over a paged source', () => {
	const lines = oneRowLines(100);
	const source = memorySource(lines);

	test('following shows the newest rows', () => {
		expect(texts(lines, following, 3)).toEqual(['m97', 'm98', 'm99']);
	});

	test('PgUp pins the view; new lines do not move it; the marker counts lines below and new ones', () => {
		const up = scrollBy(source, following, -4, 5, rowsOf);
		expect(up).toEqual({follow: false, seq: 950, hidden: 0, newestSeen: 990});
		// Pinned: four rows of text and the marker row.
		expect(texts(lines, up, 5)).toEqual(['m92', 'm93', 'm94', 'm95']);
		const more = [...lines, message(1000, 'm100'), message(1010, 'm101')];
		const window = logWindow(memorySource(more), up, 5, rowsOf);
		expect(window.rows.map(row => plain(row).slice(time.length + 7))).toEqual(['m92', 'm93', 'm94', 'm95']);
		expect(window).toMatchObject({below: 6, fresh: 2});
	});

	test('"new" counts only the new lines still below the view', () => {
		const up = scrollBy(source, following, -10, 5, rowsOf);
		const more = memorySource([...lines, ...Array.from({length: 10}, (_, index) => message(1000 + index * 10, `new ${index}`))]);
		expect(logWindow(more, up, 5, rowsOf)).toMatchObject({below: 20, fresh: 10});
		// Down far enough to show 5 of the new lines: 5 are still new, and below.
		const down = scrollBy(more, up, 15, 5, rowsOf);
		expect(logWindow(more, down, 5, rowsOf)).toMatchObject({below: 5, fresh: 5});
	});

	test('PgDn past the newest line follows again', () => {
		const up = scrollBy(source, following, -10, 5, rowsOf);
		expect(scrollBy(source, up, 5, 5, rowsOf)).toMatchObject({follow: false, seq: 940});
		expect(scrollBy(source, up, 10, 5, rowsOf)).toEqual(following);
	});

	test('scrolling up stops with the oldest line at the top', () => {
		const top = scrollBy(source, following, -1000, 5, rowsOf);
		expect(texts(lines, top, 5)).toEqual(['m0', 'm1', 'm2', 'm3']);
		expect(scrollToTop(source, 5, rowsOf)).toEqual({...top, newestSeen: 990});
		expect(scrollBy(source, top, -1, 5, rowsOf)).toEqual(top);
	});

	test('a conversation that fits the screen does not scroll', () => {
		const few = oneRowLines(3);
		expect(scrollBy(memorySource(few), following, -5, 10, rowsOf)).toEqual(following);
		expect(scrollBy(memorySource([]), following, -5, 10, rowsOf)).toEqual(following);
	});

	test('a wrapped line scrolls row by row', () => {
		const tall = [message(0, 'a'), message(10, Array.from({length: 6}, (_, index) => `r${index}`).join('\n')), message(20, 'b')];
		const up = scrollBy(memorySource(tall), following, -2, 4, rowsOf);
		expect(up).toMatchObject({seq: 10, hidden: 1});
		expect(logWindow(memorySource(tall), up, 4, rowsOf).rows.map(plain).map(row => row.trim())).toEqual([`r2`, 'r3', 'r4'].map(text => text));
	});

	test('the window reads a page around the view, not the whole conversation', () => {
		let reads = 0;
		const big = oneRowLines(10_000);
		const counting = memorySource(big);
		const spy = {
			...counting,
			before(seq: number | undefined, count: number) {
				const page = counting.before(seq, count);
				reads += page.length;
				return page;
			},
		};
		logWindow(spy, following, 30, rowsOf);
		expect(reads).toBeLessThanOrEqual(30);
	});
});
