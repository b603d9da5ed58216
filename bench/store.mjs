// `npm run bench:store`: the client's account database (SQLite, one per account), each row with and
// without a passphrase (SQLCipher): a message one way between two full clients, one message's store
// work and a later login with 10,000 contacts, a conversation of 100,000 messages (its newest page,
// paging back, /search, bytes per message) and forgetting one of 10,000. Prints a table with the
// targets and writes bench/store-results.json (not committed). IM_TUI_BENCH_QUICK=1 for a smoke run
// (fewer samples, the same sizes); IM_TUI_BENCH_ONLY=latency,contacts,history for some parts.
import {writeFileSync} from 'node:fs';
import {cpus, totalmem} from 'node:os';
import {printTable, round} from './measure.mjs';
import {liftedLimits, startRelayProcess} from './relay-process.mjs';
import {storeWithContacts} from './store-contacts.mjs';
import {storeWithHistory} from './store-history.mjs';

const quick = process.env.IM_TUI_BENCH_QUICK === '1';
const only = new Set((process.env.IM_TUI_BENCH_ONLY ?? 'latency,contacts,history').split(',').map(part => part.trim()));
const variants = [
	{name: 'plain', passphrase: undefined},
	{name: 'passphrase', passphrase: 'correct horse battery staple'},
];

/** Two ChatClients, each in its own process, through a relay process: bench/e2e-latency.mjs. */
async function latencyRows() {
	const rows = [];
	const {endToEndLatency} = await import('./e2e-latency.mjs');
	const relay = await startRelayProcess({limits: liftedLimits, presence: true});
	try {
		for (const {name, passphrase} of variants) {
			const {p50, p99, rounds} = await endToEndLatency(relay, {rounds: quick ? 200 : 1000, passphrase});
			const label = `one way, full clients, ${name}`;
			rows.push(
				{benchmark: label, metric: 'p50', value: round(p50), unit: 'µs', target: '≤ 3,000', met: p50 <= 3000, note: `ChatClient at both ends, each in its own process, a relay process between: half of ${rounds} round trips (alice sends, bob's 'message' event, bob sends it back, alice's 'message' event); the JSON store of 0.2 (5ad5470), timed in the same window by /tmp/lat.mjs: 8.2-9.6 ms`},
				{benchmark: label, metric: 'p99', value: round(p99), unit: 'µs', note: 'every counter, outbox change and history entry committed before the message is shown or sent'},
			);
		}
	} finally {
		await relay.stop();
	}
	return rows;
}

const rows = [];
if (only.has('latency')) rows.push(...(await latencyRows()));
if (only.has('contacts')) {
	for (const {name, passphrase} of variants) {
		rows.push(...(await storeWithContacts({messages: quick ? 500 : 5000, opens: quick ? 5 : 30, passphrase, label: `10,000 contacts, ${name}`})));
	}
}
if (only.has('history')) {
	for (const {name, passphrase} of variants) {
		rows.push(...(await storeWithHistory({opens: quick ? 5 : 30, pagesBack: quick ? 50 : 200, searchRounds: quick ? 20 : 200, passphrase, label: `100,000 messages, ${name}`})));
	}
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
console.log(`im-tui store benchmarks (${machine})${quick ? ', quick' : ''}\n`);
const shown = rows.map(row => ({...row, target: row.target ?? '', met: row.met === true ? 'yes' : row.met === false ? 'NO' : ''}));
printTable(shown, ['benchmark', 'metric', 'value', 'unit', 'target', 'met', 'note']);
writeFileSync('bench/store-results.json', JSON.stringify({machine, date: new Date().toISOString(), quick, rows}, null, 2) + '\n');
