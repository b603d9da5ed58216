import {dirname} from 'node:path';
import {afterEach, describe, expect, it, vi} from 'vitest';
import type {IncomingMessage} from '../../source/client/client-events.js';
import {everyoneConversation, ftsQuery, maxHistoryPage, type History, type Retention} from '../../source/client/history.js';
import {AccountStore, pruneIntervalMs} from '../../source/client/store/account-store.js';
import {tempDir} from '../helpers/temp-dir.js';
import {filesHolding, filesUnder, marker, relayFingerprint} from './store-files.js';

const relay = relayFingerprint();
const day = 86_400_000;

const open: Array<{close(): void}> = [];
afterEach(() => {
	for (const handle of open.splice(0)) handle.close();
});

function openStore(dataDir = tempDir(), retention?: Retention): AccountStore {
	const store = AccountStore.open(dataDir, relay, 'alice', retention === undefined ? {} : {retention});
	open.push(store);
	return store;
}

function openHistory(retention?: Retention): {history: History; store: AccountStore; dataDir: string} {
	const dataDir = tempDir();
	const store = openStore(dataDir, retention);
	return {history: store.history, store, dataDir};
}

let clock = 1_700_000_000_000;
function incoming(from: string, text: string, fields: Partial<IncomingMessage> = {}): IncomingMessage {
	clock += 1000;
	return {id: `in${clock}`, from, to: 'alice', kind: 'direct', text, sent: clock - 10, time: clock, ...fields};
}

function mine(to: string, text: string, fields: {id?: string; recipients?: string[]; time?: number} = {}) {
	clock += 1000;
	return {id: fields.id ?? `out${clock}`, author: 'alice', to, recipients: fields.recipients ?? [], text, time: fields.time ?? clock};
}

describe('History: what is written', () => {
	it('keeps received messages, direct in the sender\'s conversation and to everyone in one of their own', () => {
		const {history} = openHistory();
		const direct = incoming('bob', 'hello alice');
		const everyone = incoming('carol', 'hello all', {kind: 'everyone', to: 'everyone'});
		history.received(direct);
		history.received(everyone);
		const [entry] = history.page('bob', {limit: 10});
		expect(entry).toEqual({seq: expect.any(Number), conversation: 'bob', direction: 'in', id: direct.id, author: 'bob', text: 'hello alice', sent: direct.sent, time: direct.time});
		expect(history.page(everyoneConversation, {limit: 10})).toEqual([expect.objectContaining({conversation: everyoneConversation, author: 'carol', text: 'hello all', direction: 'in'})]);
		expect(history.page('carol', {limit: 10})).toEqual([]);
	});

	it('follows a direct message of mine from sending to stored to delivered, or failed', () => {
		const {history, dataDir, store} = openHistory();
		const message = mine('bob', 'are you there?');
		history.sent(message);
		expect(history.page('bob', {limit: 1})[0]).toMatchObject({direction: 'out', author: 'alice', id: message.id, sent: message.time, time: message.time, delivery: {state: 'sending'}});
		expect(history.page('bob', {limit: 1})[0]).not.toHaveProperty('receipts');
		history.stored(message.id, 1234);
		expect(history.page('bob', {limit: 1})[0]!.delivery).toEqual({state: 'stored', time: 1234});
		// Only bob's receipt confirms a message to bob.
		history.delivered(message.id, 'carol');
		history.delivered(message.id, 'alice');
		expect(history.page('bob', {limit: 1})[0]!.delivery).toEqual({state: 'stored', time: 1234});
		history.delivered(message.id, 'bob');
		expect(history.page('bob', {limit: 1})[0]!.delivery).toEqual({state: 'delivered'});
		// A late acceptance does not take it back.
		history.stored(message.id, 5678);
		expect(history.page('bob', {limit: 1})[0]!.delivery).toEqual({state: 'delivered'});

		const refused = mine('bob', 'to nobody');
		history.sent(refused);
		history.failed(refused.id, 'unknown_recipient', 'bob is not registered');
		expect(history.page('bob', {limit: 1})[0]!.delivery).toEqual({state: 'failed', code: 'unknown_recipient', message: 'bob is not registered'});
		// Updates of messages not kept change nothing and do not throw.
		history.stored('nothing', 1);
		history.delivered('nothing', 'bob');
		history.failed('nothing', 'x', 'y');
		expect(history.search('nothing')).toEqual([]);

		store.close();
		const reopened = openStore(dataDir).history;
		expect(reopened.page('bob', {limit: 10}).map(entry => entry.delivery)).toEqual([{state: 'delivered'}, {state: 'failed', code: 'unknown_recipient', message: 'bob is not registered'}]);
	});

	it('counts the receipts of a message to everyone: delivered once every recipient confirmed it', () => {
		const {history} = openHistory();
		const message = mine(everyoneConversation, 'hello all', {recipients: ['bob', 'carol']});
		history.sent(message);
		const entry = () => history.page(everyoneConversation, {limit: 1})[0]!;
		expect(entry()).toMatchObject({delivery: {state: 'sending'}, receipts: {recipients: ['bob', 'carol'], by: []}});
		history.stored(message.id, 99);
		history.delivered(message.id, 'bob');
		expect(entry()).toMatchObject({delivery: {state: 'stored', time: 99}, receipts: {recipients: ['bob', 'carol'], by: ['bob']}});
		// A receipt from someone not sent a copy, or a second one from bob, counts for nothing.
		history.delivered(message.id, 'dave');
		history.delivered(message.id, 'bob');
		// A failure of one copy does not fail the message.
		history.failed(message.id, 'unknown_recipient', 'gone');
		expect(entry()).toMatchObject({delivery: {state: 'stored', time: 99}, receipts: {by: ['bob']}});
		history.delivered(message.id, 'carol');
		expect(entry()).toMatchObject({delivery: {state: 'delivered'}, receipts: {recipients: ['bob', 'carol'], by: ['bob', 'carol']}});
	});

	it('stores a message once, however often it is written (as after a kill), and keeps ids apart by direction and conversation', () => {
		const {history} = openHistory();
		const message = incoming('bob', 'once');
		history.received(message);
		history.received({...message, text: 'a second copy that must not replace the first'});
		history.received(message);
		const sent = mine('bob', 'mine', {id: message.id});
		history.sent(sent);
		history.sent(sent);
		history.received({...message, from: 'carol'});
		expect(history.page('bob', {limit: 10}).map(entry => [entry.direction, entry.text])).toEqual([
			['in', 'once'],
			['out', 'mine'],
		]);
		expect(history.page('carol', {limit: 10})).toHaveLength(1);
		expect(history.search('once')).toHaveLength(2);
		expect(history.search('copy')).toEqual([]);
	});

	it("lists conversations, the most recent first", () => {
		const {history} = openHistory();
		history.received(incoming('bob', 'one'));
		history.received(incoming('carol', 'two'));
		history.sent(mine(everyoneConversation, 'three', {recipients: ['bob']}));
		expect(history.conversations()).toEqual([everyoneConversation, 'carol', 'bob']);
		history.sent(mine('bob', 'four'));
		expect(history.conversations()).toEqual(['bob', everyoneConversation, 'carol']);
	});
});

describe('History: reading back', () => {
	function thousand(): {history: History; texts: string[]} {
		const {history} = openHistory();
		const texts: string[] = [];
		for (let index = 0; index < 1000; index++) {
			const text = `message ${index}`;
			texts.push(text);
			if (index % 3 === 0) history.sent(mine('bob', text));
			else history.received(incoming('bob', text));
			// Another conversation in between, which no page of bob's may show.
			if (index % 10 === 0) history.received(incoming('carol', `carol ${index}`));
		}
		return {history, texts};
	}

	it('pages backwards through 1,000 messages, oldest first in each page, none missed or twice', () => {
		const {history, texts} = thousand();
		const pages: string[][] = [];
		let before: number | undefined;
		for (;;) {
			const page = history.page('bob', before === undefined ? {limit: 64} : {before, limit: 64});
			if (page.length === 0) break;
			expect(page.every(entry => entry.conversation === 'bob')).toBe(true);
			const seqs = page.map(entry => entry.seq);
			expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
			pages.push(page.map(entry => entry.text));
			before = page[0]!.seq;
		}
		expect(pages).toHaveLength(Math.ceil(1000 / 64));
		expect(pages[0]).toHaveLength(64);
		expect(pages.at(-1)).toHaveLength(1000 % 64);
		expect(pages.reverse().flat()).toEqual(texts);
		// A page is at most maxHistoryPage long, and at least one.
		expect(history.page('bob', {limit: 100_000})).toHaveLength(maxHistoryPage);
		expect(history.page('bob', {limit: 0})).toHaveLength(1);
		expect(history.page('bob', {limit: 1})[0]!.text).toBe('message 999');
		expect(history.page('nobody', {limit: 10})).toEqual([]);
	});

	it('reads forward from a message: where a search result jumps to', () => {
		const {history} = thousand();
		const [hit] = history.search('message 500');
		expect(hit).toMatchObject({conversation: 'bob', text: 'message 500'});
		const around = history.from('bob', hit!.seq, 5);
		expect(around.map(entry => entry.text)).toEqual(['message 500', 'message 501', 'message 502', 'message 503', 'message 504']);
		expect(history.from('bob', hit!.seq, 100_000)).toHaveLength(maxHistoryPage);
		expect(history.from('carol', hit!.seq, 3).map(entry => entry.text)).toEqual(['carol 500', 'carol 510', 'carol 520']);
	});
});

describe('History: search', () => {
	function searchable(): History {
		const {history} = openHistory();
		history.received(incoming('bob', 'Let us meet at the Café tomorrow'));
		history.received(incoming('carol', 'apples or pears, and some oranges'));
		history.sent(mine('bob', 'The café is closed on Mondays'));
		history.received(incoming('dave', 'apples only'));
		history.received(incoming('dave', 'I said "quoted" and NEAR(this) -minus *star foo:bar', {kind: 'everyone', to: 'everyone'}));
		history.received(incoming('erin', 'Größe naïve résumé'));
		return history;
	}

	const texts = (entries: Array<{text: string}>) => entries.map(entry => entry.text);

	it('finds messages holding every word, each also as the start of a word, newest first, in every conversation', () => {
		const history = searchable();
		expect(texts(history.search('cafe'))).toEqual(['The café is closed on Mondays', 'Let us meet at the Café tomorrow']);
		expect(texts(history.search('café tomorrow'))).toEqual(['Let us meet at the Café tomorrow']);
		expect(texts(history.search('tom caf'))).toEqual(['Let us meet at the Café tomorrow']);
		expect(texts(history.search('apples'))).toEqual(['apples only', 'apples or pears, and some oranges']);
		expect(texts(history.search('apples pears'))).toEqual(['apples or pears, and some oranges']);
		expect(history.search('apples bananas')).toEqual([]);
		expect(texts(history.search('cafe', 1))).toEqual(['The café is closed on Mondays']);
		expect(history.search('cafe')[0]).toMatchObject({conversation: 'bob', direction: 'out'});
	});

	it('ignores case and accents', () => {
		const history = searchable();
		for (const query of ['CAFÉ', 'Cafe', 'cAfÉ', 'café']) expect(texts(history.search(query)), query).toHaveLength(2);
		expect(texts(history.search('resume naive'))).toEqual(['Größe naïve résumé']);
		expect(texts(history.search('größe'))).toEqual(['Größe naïve résumé']);
	});

	it('treats FTS5 operators in what the user types as text, and never throws', () => {
		const history = searchable();
		// "or" is a word to find, not an operator: "apples OR bananas" is not "apples, or bananas".
		expect(texts(history.search('apples OR pears'))).toEqual(['apples or pears, and some oranges']);
		expect(history.search('apples OR bananas')).toEqual([]);
		expect(texts(history.search('apples AND pears'))).toEqual(['apples or pears, and some oranges']);
		expect(history.search('apples NOT pears')).toEqual([]);
		expect(texts(history.search('NEAR(this'))).toEqual(['I said "quoted" and NEAR(this) -minus *star foo:bar']);
		expect(texts(history.search('"quoted'))).toEqual(['I said "quoted" and NEAR(this) -minus *star foo:bar']);
		expect(texts(history.search('-minus'))).toEqual(['I said "quoted" and NEAR(this) -minus *star foo:bar']);
		expect(texts(history.search('*star'))).toEqual(['I said "quoted" and NEAR(this) -minus *star foo:bar']);
		expect(texts(history.search('foo:bar'))).toEqual(['I said "quoted" and NEAR(this) -minus *star foo:bar']);
		expect(texts(history.search('text:apples'))).toEqual([]);
		const hostile = [
			'"',
			'""',
			'"""',
			'*',
			'**',
			'NEAR(',
			'NEAR(a b, 2)',
			'OR',
			'AND',
			'NOT',
			'-',
			'--',
			'- apples',
			'(',
			')',
			'()',
			'^',
			'^apples',
			'{text}: apples',
			'text:',
			':',
			"'",
			"'; DROP TABLE messages; --",
			'\\',
			'+',
			'apples*',
			'"apples" OR "pears"',
			'a"b',
			'\u0000',
			'🙂',
			'',
			'   ',
			'x'.repeat(10_000),
			Array.from({length: 100}, (_, index) => `w${index}`).join(' '),
		];
		for (const query of hostile) expect(() => history.search(query), JSON.stringify(query)).not.toThrow();
		for (const query of ['"', '*', '(', ')', '-', ':', '^', "'", '', '   ', '🙂']) expect(history.search(query), JSON.stringify(query)).toEqual([]);
		expect(texts(history.search('apples*'))).toEqual(['apples only', 'apples or pears, and some oranges']);
		expect(texts(history.search('"apples" OR "pears"'))).toEqual(['apples or pears, and some oranges']);
	});

	it('builds each word as a quoted prefix, at most 16 words', () => {
		expect(ftsQuery('Hello "world" -x')).toBe('"Hello"* "world"* "x"*');
		expect(ftsQuery('a"b')).toBe('"a b"*');
		expect(ftsQuery('*** ---')).toBeUndefined();
		expect(ftsQuery(Array.from({length: 20}, (_, index) => `w${index}`).join(' '))!.split(' ')).toHaveLength(16);
	});
});

describe('History: retention', () => {
	it('{days: 1}: a store left open prunes every hour by itself, and stops when closed', () => {
		vi.useFakeTimers({toFake: ['setInterval', 'clearInterval', 'Date']});
		try {
			const store = openStore(tempDir(), {days: 1});
			store.history.received(incoming('bob', 'twenty-three hours old', {time: Date.now() - 23 * 3_600_000}));
			vi.advanceTimersByTime(pruneIntervalMs);
			expect(store.history.page('bob', {limit: 10}).map(entry => entry.text)).toEqual(['twenty-three hours old']);
			vi.advanceTimersByTime(pruneIntervalMs);
			expect(store.history.page('bob', {limit: 10})).toEqual([]);
			store.close();
			// Closed: the hourly prune is gone with it, and nothing throws.
			vi.advanceTimersByTime(5 * pruneIntervalMs);
			expect(vi.getTimerCount()).toBe(0);
		} finally {
			vi.useRealTimers();
		}
	});

	it('{days: 1} deletes older messages at open, and at each prune()', () => {
		const dataDir = tempDir();
		const now = Date.now();
		const first = openStore(dataDir);
		first.history.received(incoming('bob', 'two days old', {time: now - 2 * day}));
		first.history.sent(mine('bob', 'mine, two days old', {time: now - 2 * day}));
		first.history.received(incoming('bob', 'an hour old', {time: now - 3_600_000}));
		first.history.received(incoming('carol', 'twenty hours old', {time: now - 20 * 3_600_000}));
		first.close();

		const store = openStore(dataDir, {days: 1});
		expect(store.history.retention).toEqual({days: 1});
		expect(store.history.page('bob', {limit: 10}).map(entry => entry.text)).toEqual(['an hour old']);
		expect(store.history.search('two days')).toEqual([]);
		expect(store.history.conversations()).toEqual(['carol', 'bob']);
		// Later, as the client prunes now and then.
		expect(store.history.prune(now + 5 * 3_600_000)).toBe(1);
		expect(store.history.conversations()).toEqual(['bob']);
		expect(store.history.prune(now + 5 * 3_600_000)).toBe(0);
	});

	it("'forever' keeps everything", () => {
		const dataDir = tempDir();
		const first = openStore(dataDir);
		first.history.received(incoming('bob', 'ten years old', {time: Date.now() - 3650 * day}));
		first.close();
		const store = openStore(dataDir, 'forever');
		expect(store.history.prune()).toBe(0);
		expect(store.history.page('bob', {limit: 10})).toHaveLength(1);
	});

	it("'off' keeps nothing, and deletes what was kept, from every file", () => {
		const dataDir = tempDir();
		const secret = marker('kept');
		const first = openStore(dataDir);
		first.history.received(incoming('bob', `before ${secret}`));
		first.history.sent(mine('bob', `mine ${secret}`));
		first.close();
		expect(filesHolding(dataDir, secret)).not.toEqual([]);

		const store = openStore(dataDir, 'off');
		expect(store.history.keeping).toBe(false);
		expect(store.history.conversations()).toEqual([]);
		expect(filesHolding(dataDir, secret)).toEqual([]);
		const message = mine('bob', `not kept ${secret}`);
		store.history.received(incoming('bob', `not kept either ${secret}`));
		store.history.sent(message);
		store.history.stored(message.id, 1);
		expect(store.history.page('bob', {limit: 10})).toEqual([]);
		expect(store.history.search(secret)).toEqual([]);
		store.close();
		expect(filesHolding(dataDir, secret)).toEqual([]);
	});
});

describe('History: forget', () => {
	/** bob's and carol's conversations, each with its own marker, some long enough for overflow pages. */
	function twoConversations(history: History): {bobMarker: string; carolMarker: string} {
		const bobMarker = marker('bob');
		const carolMarker = marker('carol');
		for (let index = 0; index < 40; index++) {
			history.received(incoming('bob', `${bobMarker} from bob ${index}`));
			history.sent(mine('bob', `to bob ${index} ${bobMarker}`));
			history.received(incoming('carol', `${carolMarker} from carol ${index}`));
		}
		history.received(incoming('bob', `${bobMarker} `.repeat(300)));
		history.sent(mine('bob', `${bobMarker}\n`.repeat(300)));
		history.received(incoming('carol', `${carolMarker} `.repeat(300)));
		return {bobMarker, carolMarker};
	}

	it('leaves the forgotten text in no file of the account, in the WAL or the database, and keeps the other conversation', () => {
		const dataDir = tempDir();
		const store = openStore(dataDir);
		const {bobMarker, carolMarker} = twoConversations(store.history);
		// The test can see the text where it is.
		expect(filesHolding(dataDir, bobMarker)).not.toEqual([]);
		expect(filesHolding(dataDir, carolMarker)).not.toEqual([]);

		expect(store.history.forget('bob')).toBe(82);
		expect(store.history.page('bob', {limit: 10})).toEqual([]);
		expect(store.history.search(bobMarker)).toEqual([]);
		expect(store.history.conversations()).toEqual(['carol']);
		expect(filesUnder(dirname(store.path)).length).toBeGreaterThan(0);
		expect(filesHolding(dataDir, bobMarker)).toEqual([]);
		expect(filesHolding(dataDir, carolMarker)).not.toEqual([]);
		expect(store.history.search(carolMarker)).toHaveLength(41);
		store.close();
		expect(filesHolding(dataDir, bobMarker)).toEqual([]);
		expect(filesHolding(dataDir, carolMarker)).not.toEqual([]);
	});

	it('forgets what was written before the last close too, once it is in the database file', () => {
		const dataDir = tempDir();
		const first = openStore(dataDir);
		const {bobMarker, carolMarker} = twoConversations(first.history);
		first.close();
		expect(filesHolding(dataDir, bobMarker)).not.toEqual([]);
		const store = openStore(dataDir);
		// Written again after the reopen: in the WAL as well as the file.
		store.history.received(incoming('bob', `after the reopen ${bobMarker}`));
		expect(store.history.forget('bob')).toBe(83);
		expect(filesHolding(dataDir, bobMarker)).toEqual([]);
		expect(filesHolding(dataDir, carolMarker)).not.toEqual([]);
		expect(store.history.forget('nobody')).toBe(0);
		store.close();
		const again = openStore(dataDir);
		expect(again.history.page('bob', {limit: 10})).toEqual([]);
		expect(again.history.search(carolMarker)).toHaveLength(41);
	});
});
