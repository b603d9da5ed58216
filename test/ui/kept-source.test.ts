import {describe, expect, test} from 'vitest';
import {chatReducer, createChatState} from '../../source/hooks/chat-state/reducer.js';
import {sidebarEntries} from '../../source/hooks/chat-state/conversations.js';
import type {ChatLine, ChatState, MessageLine} from '../../source/hooks/chat-state/types.js';
import {compositeSource} from '../../source/components/message-log/composite-source.js';
import {keptLineSeq, keptPart, type KeptReader} from '../../source/components/message-log/kept-source.js';
import {lineRows, timeLabel} from '../../source/components/message-log/line-rows.js';
import {logWindow, scrollBy, scrollToTop} from '../../source/components/message-log/scroll.js';
import {FakeConnection} from './fake-connection.js';
import {keepConversation} from './kept-history.js';

/** A reader over the fake's kept history that counts what it was asked. */
function countingReader(fake: FakeConnection) {
	const calls = {pages: 0, largest: 0, rows: 0};
	const reader: KeptReader = {
		history(conversation, options) {
			const page = fake.history(conversation, options);
			calls.pages++;
			calls.largest = Math.max(calls.largest, page.length);
			calls.rows += page.length;
			return page;
		},
		historyFrom(conversation, seq, limit) {
			const page = fake.historyFrom(conversation, seq, limit);
			calls.pages++;
			calls.largest = Math.max(calls.largest, page.length);
			calls.rows += page.length;
			return page;
		},
	};
	return {reader, calls};
}

const live = (seq: number, text: string, fields: Partial<MessageLine> = {}): ChatLine => ({kind: 'message', seq, id: `live${seq}`, from: 'amy', to: 'me1', text, time: Date.now(), ...fields});
const texts = (lines: readonly ChatLine[]) => lines.map(line => line.text);
const rowsOf = (line: ChatLine) => lineRows(line, {width: 60, me: 'me1', maxRows: 12});

describe('the kept part of a conversation, read a page at a time', () => {
	test('kept messages come before the live lines, in order, both directions, with the delivery they had', () => {
		const fake = new FakeConnection();
		keepConversation(fake.kept, 'amy', 'me1', 1000);
		fake.kept.stored('amy-kept-1000', Date.now());
		const newest = fake.history('amy', {limit: 1})[0]!.seq;
		const part = keptPart(fake, 'amy', newest, {me: 'me1'});
		const source = compositeSource(part, [live(0, 'live a'), live(1, 'live b')]);
		expect(texts(source.before(undefined, 4))).toEqual(['old 999', 'old 1000', 'live a', 'live b']);
		expect(texts(source.after(undefined, 2))).toEqual(['old 1', 'old 2']);
		const [first, second] = source.after(undefined, 2) as MessageLine[];
		expect(first).toMatchObject({from: 'amy', seq: keptLineSeq(fake.history('amy', {limit: 1, before: 2})[0]!.seq), dated: true});
		expect(second).toMatchObject({from: 'me1', delivery: {state: 'queued'}});
		expect(source.before(undefined, 3).at(0)).toMatchObject({text: 'old 1000', delivery: {state: 'stored'}});
		expect(timeLabel(first!)).toMatch(/^Mar 03 (2024 )?09:01$/);
		// Across the seam: after the newest kept line come the live ones.
		expect(texts(source.after(source.before(undefined, 3)[0]!.seq, 2))).toEqual(['live a', 'live b']);
		expect(source.countAfter(first!.seq)).toBe(999 + 2);
		expect(source.countAfter(source.before(undefined, 3)[0]!.seq)).toBe(2);
		expect(source.get(first!.seq)?.text).toBe('old 1');
	});

	test('a kept message that also arrived in this run is shown once', () => {
		const fake = new FakeConnection();
		keepConversation(fake.kept, 'amy', 'me1', 3);
		const newest = fake.history('amy', {limit: 1})[0]!.seq;
		const source = compositeSource(keptPart(fake, 'amy', newest, {me: 'me1'}), [live(0, 'old 3', {id: 'amy-kept-3'})]);
		expect(texts(source.before(undefined, 10))).toEqual(['old 1', 'old 2', 'old 3']);
		expect(source.before(undefined, 10).at(-1)!.seq).toBe(0);
	});

	test('scrolling from the newest line to the oldest of 1,000 reads pages, never the whole conversation at once', () => {
		const fake = new FakeConnection();
		keepConversation(fake.kept, 'amy', 'me1', 1000);
		const newest = fake.history('amy', {limit: 1})[0]!.seq;
		const {reader, calls} = countingReader(fake);
		const part = keptPart(reader, 'amy', newest, {me: 'me1', cachedLines: 100});
		const source = compositeSource(part, [live(0, 'live a')]);
		let position = scrollBy(source, {follow: true}, -18, 20, rowsOf);
		const shownAt = (at: typeof position) => logWindow(source, at, 20, rowsOf).rows.map(row => row.map(segment => segment.text).join(''));
		expect(logWindow(source, position, 20, rowsOf).below).toBe(18);
		let pages = 1;
		while (!/<amy> old 1$/.test(shownAt(position)[0]!) && pages < 100) {
			position = scrollBy(source, position, -18, 20, rowsOf);
			pages++;
		}

		const window = logWindow(source, position, 20, rowsOf);
		const shown = shownAt(position);
		// About 1,000 rows, 18 a page.
		expect(pages, shown.join('\n')).toBe(55);
		expect(shown[0]).toContain('<amy> old 1');
		expect(window.below).toBe(1000 - 19 + 1);
		expect(calls.largest).toBeLessThanOrEqual(500);
		// Ctrl+Home: the oldest at the top.
		const topPosition = scrollToTop(source, 20, rowsOf);
		const top = logWindow(source, topPosition, 20, rowsOf);
		expect(top.rows[0]!.map(segment => segment.text).join('')).toContain('<amy> old 1');
		// A page down from there counts from what it counted at the top, and counts right.
		const down = scrollBy(source, topPosition, 18, 20, rowsOf);
		const rowsBefore = calls.rows;
		const fresh = compositeSource(keptPart(fake, 'amy', newest, {me: 'me1'}), [live(0, 'live a')]);
		expect(logWindow(source, down, 20, rowsOf).below).toBe(logWindow(fresh, down, 20, rowsOf).below);
		expect(calls.rows - rowsBefore).toBeLessThan(100);
	});
});

describe('the chat state and the kept history', () => {
	const welcomed = (kept: Array<[string, number]>): ChatState => {
		let state = createChatState({status: 'online', username: 'me1'});
		state = chatReducer(state, {type: 'kept', kept});
		return chatReducer(state, {type: 'welcome', welcome: {username: 'me1', users: [], motd: null, online: [], onlineCount: 1, waiting: 0}, time: 1});
	};

	test('conversations kept from before are in the sidebar; the most recent opens; nothing of them is held in memory', () => {
		const state = welcomed([['zoe', 40], ['#everyone', 30], ['bob', 20], ['b@d', 10], ['me1', 5]]);
		expect(sidebarEntries(state).map(entry => entry.key)).toEqual(['*status', '#everyone', 'bob', 'zoe']);
		expect(state.selected).toBe('zoe');
		expect(state.conversations.get('zoe')).toBeUndefined();
		expect(chatReducer(state, {type: 'kept', kept: []})).toBe(state);
	});

	test('forgotten: the kept part and the lines of this run go, a line and the status line say how many', () => {
		let state = welcomed([['amy', 40]]);
		state = chatReducer(state, {type: 'message', message: {id: 'm1', from: 'amy', to: 'me1', kind: 'direct', text: 'hi', time: 2, sent: 2}});
		state = chatReducer(state, {type: 'outgoing', id: 'o1', to: 'amy', recipients: ['amy'], text: 'yo', time: 3});
		state = chatReducer(state, {type: 'forgotten', key: 'amy', count: 1234, time: 4});
		expect(state.kept.has('amy')).toBe(false);
		expect(texts(state.conversations.get('amy')!)).toEqual(["Deleted 1,234 messages of amy from this device; amy's copy is theirs."]);
		expect(state.notice?.text).toBe("Deleted 1,234 messages of amy from this device; amy's copy is theirs.");
		expect(state.tracking.has('o1')).toBe(false);
		expect(state.held.lines).toBe(state.conversations.get('*status')!.length + 1);
	});

	test('a receipt for a message of an earlier run makes the log read it again', () => {
		const state = welcomed([['amy', 40]]);
		expect(chatReducer(state, {type: 'delivered', receipt: {id: 'old', by: 'amy'}}).keptRevision).toBe(state.keptRevision + 1);
	});
});
