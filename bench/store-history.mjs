// Parts 3 to 5 of bench/store.mjs: one account with a conversation of 100,000 messages. Opening it
// (the newest page after a fresh open), paging back, /search, bytes per message, and forgetting a
// conversation of 10,000.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {AccountStore} from '../dist/client/store/account-store.js';
import {percentile, round} from './measure.mjs';
import {databaseBytes, fillHistory, rareWord, relayFingerprint} from './store-fill.mjs';

const pageSize = 200;
const searches = [
	{query: rareWord, what: 'rare word'},
	{query: 'the', what: 'common word'},
	{query: 'meeting tomorrow', what: 'two words'},
	{query: 'th', what: 'prefix'},
];

export async function storeWithHistory({messages = 100_000, forgotten = 10_000, opens = 10, pagesBack = 100, searchRounds = 50, passphrase, label}) {
	const dataDir = mkdtempSync(join(tmpdir(), 'im-tui-bench-history-'));
	const options = passphrase === undefined ? {} : {passphrase};
	const open = () => AccountStore.open(dataDir, relayFingerprint, 'person', options);
	const rows = [];
	try {
		let store = open();
		const path = store.path;
		store.close();
		const empty = databaseBytes(path);

		store = open();
		const {ms: fillMs, textBytes} = fillHistory(store, 'bob', messages, {me: 'person'});
		store.close();
		// Closing the last connection checkpoints the WAL into the file and removes it.
		const filled = databaseBytes(path);
		const bytes = filled.db + filled.wal;
		const emptyBytes = empty.db + empty.wal;
		rows.push(
			{benchmark: label, metric: 'bytes per message', value: round(bytes / messages), unit: 'B', note: `db ${filled.db.toLocaleString('en-US')} B + WAL ${filled.wal} B after close's checkpoint, / ${messages.toLocaleString('en-US')} messages of 40-200 characters (texts ${round(textBytes / messages)} B on average); without the empty account's ${emptyBytes.toLocaleString('en-US')} B: ${round((bytes - emptyBytes) / messages)} B`},
			{benchmark: label, metric: 'history fill', value: round(messages / (fillMs / 1000)), unit: 'msg/s', note: `History.sent/received, 10,000 a transaction, FTS5 index kept by its trigger: ${round(fillMs / 1000, 1)} s (not a target)`},
		);

		// The newest page right after a fresh open: SQLite's cache empty, the OS's warm.
		const openTimes = [];
		const pageTimes = [];
		for (let round = 0; round < opens; round++) {
			const start = performance.now();
			store = open();
			const opened = performance.now();
			const page = store.history.page('bob', {limit: pageSize});
			pageTimes.push(performance.now() - opened);
			openTimes.push(opened - start);
			if (page.length !== pageSize) throw new Error(`the newest page held ${page.length}`);
			store.close();
		}
		openTimes.sort((a, b) => a - b);
		pageTimes.sort((a, b) => a - b);
		rows.push(
			{benchmark: label, metric: `newest ${pageSize} after open p50`, value: round(percentile(pageTimes, 50), 2), unit: 'ms', target: '≤ 50', met: percentile(pageTimes, 50) <= 50, note: `History.page of a conversation of ${messages.toLocaleString('en-US')}, right after AccountStore.open; ${opens} opens, max ${round(pageTimes.at(-1), 2)} ms`},
			{benchmark: label, metric: 'AccountStore.open p50', value: round(percentile(openTimes, 50), 1), unit: 'ms', note: `the open before it (key derivation included with a passphrase); max ${round(openTimes.at(-1), 1)} ms`},
		);

		// Paging back from the newest page, one page at a time.
		store = open();
		let oldest = store.history.page('bob', {limit: pageSize})[0].seq;
		const backTimes = [];
		for (let round = 0; round < pagesBack; round++) {
			const start = performance.now();
			const page = store.history.page('bob', {before: oldest, limit: pageSize});
			backTimes.push(performance.now() - start);
			oldest = page[0].seq;
		}
		backTimes.sort((a, b) => a - b);
		rows.push({benchmark: label, metric: `page back (${pageSize}) p50`, value: round(percentile(backTimes, 50), 2), unit: 'ms', note: `${pagesBack} pages back from the newest; p99 ${round(percentile(backTimes, 99), 2)} ms`});

		// /search: the newest 50 that match, every word also as a prefix (History.search).
		for (const {query, what} of searches) {
			const times = [];
			let found = 0;
			for (let round = 0; round < searchRounds + 5; round++) {
				const start = performance.now();
				found = store.history.search(query).length;
				if (round >= 5) times.push(performance.now() - start);
			}
			times.sort((a, b) => a - b);
			const [p50, p99] = [percentile(times, 50), percentile(times, 99)];
			rows.push(
				{benchmark: label, metric: `search ${what} p50`, value: round(p50, 2), unit: 'ms', target: '≤ 100', met: p50 <= 100, note: `"${query}" over ${messages.toLocaleString('en-US')} messages: ${found} results (50 at most), ${searchRounds} searches`},
				{benchmark: label, metric: `search ${what} p99`, value: round(p99, 2), unit: 'ms', target: '≤ 100', met: p99 <= 100, note: ''},
			);
		}

		// Forgetting a conversation of 10,000 beside the 100,000: rows, FTS5 copies, WAL emptied.
		fillHistory(store, 'carol', forgotten, {me: 'person', seed: 3});
		const start = performance.now();
		const gone = store.history.forget('carol');
		const forgetMs = performance.now() - start;
		if (gone !== forgotten) throw new Error(`forget removed ${gone}`);
		store.close();
		rows.push({benchmark: label, metric: `forget ${forgotten.toLocaleString('en-US')}`, value: round(forgetMs), unit: 'ms', note: `History.forget of a conversation of ${forgotten.toLocaleString('en-US')} in an account of ${(messages + forgotten).toLocaleString('en-US')} (secure_delete, FTS5 'optimize', WAL checkpoint TRUNCATE); no target`});
		return rows;
	} finally {
		rmSync(dataDir, {recursive: true, force: true});
	}
}
