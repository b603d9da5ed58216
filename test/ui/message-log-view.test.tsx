import React from 'react';
import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import type {ChatLine, Delivery, MessageLine, SystemTone} from '../../source/hooks/chat-state/types.js';
import {formatTime, lineRows, toneMarker} from '../../source/components/message-log/line-rows.js';
import {memorySource} from '../../source/components/message-log/line-source.js';
import {belowMarker, MessageLog} from '../../source/components/message-log/message-log.js';
import {following, logWindow, scrollBy, type ScrollPosition} from '../../source/components/message-log/scroll.js';

const systemMarker = toneMarker.info;

const at = new Date(2024, 0, 2, 9, 5).getTime();
let seq = 0;

function message(from: string, text: string, delivery?: Delivery, receipts?: MessageLine['receipts']): ChatLine {
	return {kind: 'message', seq: seq++, id: `m${seq}`, from, to: from === 'me1' ? 'amy' : 'me1', text, time: at, delivery, receipts};
}

function system(text: string, tone: SystemTone = 'info'): ChatLine {
	return {kind: 'system', seq: seq++, tone, text, time: at};
}

/** The log as drawn: the window over `lines` at `position`, through MessageLog. */
function drawn(lines: ChatLine[], width: number, height: number, position: ScrollPosition = following): string {
	const rowsOf = (line: ChatLine) => lineRows(line, {width, me: 'me1', maxRows: 12});
	const window = logWindow(memorySource(lines), position, height, rowsOf);
	const {lastFrame} = render(<MessageLog window={window} pinned={!position.follow} width={width} height={height} />);
	return lastFrame() ?? '';
}

function frameRows(lines: ChatLine[], width = 40, height = 10, position: ScrollPosition = following): string[] {
	return drawn(lines, width, height, position).split('\n').map(row => row.trimEnd());
}

describe('MessageLog', () => {
	test('formats times as HH:MM', () => {
		expect(formatTime(at)).toBe('09:05');
		expect(formatTime(new Date(2024, 0, 2, 23, 59).getTime())).toBe('23:59');
	});

	test('shows time, sender and text, oldest first, newest at the bottom', () => {
		const rows = frameRows([message('amy', 'first'), system('bob joined'), message('me1', 'second')], 40, 4);
		expect(rows).toEqual(['', '09:05 <amy> first', `09:05 ${systemMarker} bob joined`, '09:05 <me1> second']);
	});

	test('wraps long text to the width, indented under the text column', () => {
		const rows = frameRows([message('amy', 'one two three four five six seven eight nine ten')], 24, 5);
		for (const row of rows) expect(row.length).toBeLessThanOrEqual(24);
		expect(rows).toEqual(['09:05 <amy> one two', '            three four', '            five six', '            seven eight', '            nine ten']);
	});

	test('shows only the newest lines that fit the height', () => {
		const lines = Array.from({length: 50}, (_, index) => message('amy', `line ${index}`));
		const rows = frameRows(lines, 40, 5);
		expect(rows).toEqual(['line 45', 'line 46', 'line 47', 'line 48', 'line 49'].map(text => `09:05 <amy> ${text}`));
	});

	test('a wrapped line at the top is cut, never the newest one', () => {
		const rows = frameRows([message('amy', 'aaaa bbbb cccc dddd eeee ffff'), message('amy', 'last')], 20, 2);
		// At 20 columns the text column (12) is more than half the width: wrapped rows start after a gutter.
		expect(rows).toEqual(['      │ ffff', '09:05 <amy> last']);
	});

	test('marks the state of your own messages: sending, stored by the relay, delivered, failed with the relay’s error', () => {
		const rows = frameRows(
			[
				message('me1', 'a', {state: 'sending'}),
				message('me1', 'b', {state: 'stored', time: at}),
				message('me1', 'c', {state: 'delivered'}),
				message('me1', 'd', {state: 'failed', code: 'queue_full', message: 'amy has \u001B[31mtoo many'}),
			],
			60,
			4,
		);
		expect(rows).toEqual(['09:05 <me1> a …', '09:05 <me1> b · stored', '09:05 <me1> c ✓', '09:05 <me1> d ✗ not sent: amy has too many (queue_full)']);
	});

	test('a message to everyone shows how many of its recipients confirmed it', () => {
		const recipients = ['amy', 'bob', 'cy'];
		const rows = frameRows(
			[
				message('me1', 'a', {state: 'sending'}, {recipients, by: []}),
				message('me1', 'b', {state: 'stored', time: at}, {recipients, by: []}),
				message('me1', 'c', {state: 'stored', time: at}, {recipients, by: ['amy', 'cy']}),
				message('me1', 'd', {state: 'delivered'}, {recipients, by: recipients}),
				message('bob', 'from bob'),
			],
			60,
			5,
		);
		expect(rows).toEqual(['09:05 <me1> a …', '09:05 <me1> b · stored 0/3', '09:05 <me1> c ✓ 2/3', '09:05 <me1> d ✓ 3/3', '09:05 <bob> from bob']);
	});

	test('the key-change warning, the held count and a gap are system lines', () => {
		const rows = frameRows(
			[
				system("WARNING: bob's identity key changed. Nothing is sent to bob; /verify bob, then /trust bob.", 'warning'),
				system('2 messages from bob are held behind the key warning until you /trust bob.', 'warning'),
				system('3 messages from bob never arrived: the relay withheld or lost them', 'error'),
			],
			120,
			3,
		);
		expect(rows).toEqual([
			`09:05 ${toneMarker.warning} WARNING: bob's identity key changed. Nothing is sent to bob; /verify bob, then /trust bob.`,
			`09:05 ${toneMarker.warning} 2 messages from bob are held behind the key warning until you /trust bob.`,
			`09:05 ${toneMarker.error} 3 messages from bob never arrived: the relay withheld or lost them`,
		]);
	});

	test.each([
		['clear screen', 'hi\u001B[2J there', 'hi there'],
		['alt screen off', '\u001B[?1049lhi', 'hi'],
		['window title', '\u001B]0;pwned\u0007hi', 'hi'],
		['right-to-left override', 'abc\u202Egnp.exe', 'abcgnp.exe'],
		['8-bit CSI', 'a\u009B2Jb', 'ab'],
	])('%s from another user never reaches the screen', (_name, text, shown) => {
		const frame = drawn([message('amy', text)], 40, 1);
		expect(frame).toBe(`09:05 <amy> ${shown}`);
		expect(frame).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/);
	});

	test('a message cannot start a row that looks like a system line', () => {
		const fake = `x\n09:05 ${systemMarker} admin is now an operator\r09:05 ${systemMarker} fake`;
		const rows = frameRows([message('amy', fake), message('evil\u001B[0m', `${systemMarker} hi`)], 30, 8).filter(row => row !== '');
		const systemRows = rows.filter(row => /^\d\d:\d\d (-!-|=!=|\*\*\*|-->|<--)/.test(row) || row.startsWith(systemMarker));
		expect(systemRows).toEqual([]);
		expect(rows[0]).toMatch(/^09:05 <amy> /);
		for (const row of rows.slice(1, -1)) expect(row).toMatch(/^ {12}/);
		expect(rows.at(-1)).toBe(`09:05 <?> ${systemMarker} hi`);
	});

	test('multi-line system text stays on its own line', () => {
		const rows = frameRows([system('relay error: a\nb', 'error')], 40, 1);
		expect(rows).toEqual([`09:05 ${toneMarker.error} relay error: a b`]);
	});

	test('a multi-line message shows as written, every line under the text column', () => {
		expect(frameRows([message('amy', 'roses are red\r\nviolets\n\n  are blue')], 40, 4)).toEqual(['09:05 <amy> roses are red', '            violets', '', '              are blue']);
	});

	test('scrolled up: the view stays on its lines, and the bottom row says what is below and how to get there', () => {
		const lines = Array.from({length: 30}, (_, index) => message('amy', `line ${index}`));
		const rowsOf = (line: ChatLine) => lineRows(line, {width: 60, me: 'me1', maxRows: 12});
		const up = scrollBy(memorySource(lines), following, -10, 6, rowsOf);
		const rows = frameRows(lines, 60, 6, up);
		expect(rows.slice(0, 5)).toEqual([15, 16, 17, 18, 19].map(index => `09:05 <amy> line ${index}`));
		expect(rows[5]).toContain(belowMarker(10, 0).slice(0, 50));
		const later = frameRows([...lines, message('bob', 'new one')], 60, 6, up);
		expect(later.slice(0, 5)).toEqual(rows.slice(0, 5));
		expect(later[5]).toContain(belowMarker(11, 1).slice(0, 50));
		expect(belowMarker(11, 1)).toBe('-- 1 new, 11 lines below: PgDn scrolls down, Ctrl+End (or Alt+End) jumps to the newest --');
	});
});
