// `npm run bench:ratchet`: what the X3DH + Double Ratchet sessions of issue 14 cost. (1) The crypto
// alone, per message, beside the static scheme of version 2 it replaced; X3DH; a first message.
// (2) The client's end-to-end layer over a real account database, every commit included. (3) A
// prekey fetch and first message between two real clients through a relay process, fresh users
// every round, and the next message in that session. (4) A message one way between two full
// clients (bench/e2e-latency.mjs, as bench:store runs it). Prints a table and writes
// bench/ratchet-results.json (not committed). IM_TUI_BENCH_QUICK=1 for a smoke run (fewer
// samples); IM_TUI_BENCH_ONLY=crypto,layer,first,latency for some parts.
import {writeFileSync} from 'node:fs';
import {cpus, totalmem} from 'node:os';
import {printTable, round} from './measure.mjs';
import {cryptoRows} from './ratchet-crypto.mjs';
import {firstMessageRows} from './ratchet-first.mjs';
import {layerRows} from './ratchet-layer.mjs';
import {liftedLimits, startRelayProcess} from './relay-process.mjs';

const quick = process.env.IM_TUI_BENCH_QUICK === '1';
const only = new Set((process.env.IM_TUI_BENCH_ONLY ?? 'crypto,layer,first,latency').split(',').map(part => part.trim()));

/**
 * The "before" of the full-client row: 0.3 (the static scheme, SQLite, no passphrase), one way p50
 * in BENCHMARKS.md "Store run 1" (2.07 ms). The issue asks for at most 20% more. Timed on another
 * day: run the 0.3 tree's bench/e2e-latency.mjs in the same window for a fair "before".
 */
const beforeP50 = 2070;

/** Each part on a relay process of its own, so the users one registers do not fill another's welcome. */
async function withRelay(work) {
	const relay = await startRelayProcess({limits: liftedLimits, presence: true});
	try {
		return await work(relay);
	} finally {
		await relay.stop();
	}
}

async function latencyRows(relay) {
	const {endToEndLatency} = await import('./e2e-latency.mjs');
	const {p50, p99, rounds} = await endToEndLatency(relay, {rounds: quick ? 200 : 1000});
	const label = 'one way, full clients';
	const target = Math.round(beforeP50 * 1.2);
	return [
		{
			benchmark: label,
			metric: 'one way',
			p50: round(p50),
			p99: round(p99),
			unit: 'µs',
			target: `p50 ≤ ${target.toLocaleString('en-US')}`,
			met: p50 <= target ? 'yes' : 'NO',
			note: `ChatClient at both ends, each in its own process, a relay process between, no passphrase: half of ${rounds} round trips in an established session (bob echoes each text back: every text makes a DH step); before: 0.3, ${beforeP50.toLocaleString('en-US')} µs p50 (BENCHMARKS.md "Store run 1"), target + 20%`,
		},
	];
}

const rows = [];
if (only.has('crypto')) rows.push(...cryptoRows(quick ? {count: 1000, warmup: 200} : {count: 10_000, warmup: 1000}));
if (only.has('layer')) rows.push(...layerRows(quick ? {count: 500, warmup: 100} : {count: 5000, warmup: 500}));
if (only.has('first')) rows.push(...(await withRelay(relay => firstMessageRows(relay, quick ? {rounds: 10, warmup: 2} : {rounds: 100, warmup: 5}))));
if (only.has('latency')) rows.push(...(await withRelay(latencyRows)));

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
console.log(`im-tui ratchet benchmarks (${machine})${quick ? ', quick' : ''}\n`);
printTable(rows, ['benchmark', 'metric', 'p50', 'p99', 'unit', 'target', 'met', 'note']);
writeFileSync('bench/ratchet-results.json', JSON.stringify({machine, date: new Date().toISOString(), quick, rows}, null, 2) + '\n');
