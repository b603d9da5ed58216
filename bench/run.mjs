// `npm run bench`: every benchmark, a table on stdout and the same numbers as JSON in
// bench/results.json. Set IM_TUI_BENCH_QUICK=1 for a short smoke run.
import {writeFileSync} from 'node:fs';
import {cpus, totalmem} from 'node:os';
import {capacity} from './capacity.mjs';
import {benchFernet} from './fernet.mjs';
import {printTable, round} from './measure.mjs';
import {latency, throughput, throughputRows} from './relay-bench.mjs';
import {liftedLimits, startRelayProcess} from './relay-process.mjs';

const quick = process.env.IM_TUI_BENCH_QUICK === '1';
// The benchmark lifts the per-connection rate limit and the connection caps, as the peers' flood
// limits were lifted: one load generator on 127.0.0.1 opens every connection and sends at full speed.
const relayOptions = {limits: liftedLimits, presence: true};

const rows = [...benchFernet()];
const relay = await startRelayProcess(relayOptions);
try {
	const single = await throughput(relay.port, {pairs: 1, perPair: quick ? 5000 : 100_000});
	rows.push(...throughputRows(single, '1 pair'));
	const many = await throughput(relay.port, {pairs: 50, perPair: quick ? 200 : 20_000});
	rows.push(...throughputRows(many, '50 pairs'));
	const ping = await latency(relay.port, {rounds: quick ? 300 : 3000});
	rows.push(
		{benchmark: 'ping-pong', metric: 'one-way p50', value: round(ping.p50), unit: 'µs', note: 'transport crypto on both hops; target < 150'},
		{benchmark: 'ping-pong', metric: 'one-way p99', value: round(ping.p99), unit: 'µs', note: 'target < 500'},
	);
} finally {
	await relay.stop();
}
// In a relay process of its own, so its memory figures start from a fresh relay.
rows.push(...(await capacity()));

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; load generator on the same machine`;
console.log(`im-tui benchmarks (${machine})\n`);
printTable(rows);
writeFileSync('bench/results.json', JSON.stringify({machine, date: new Date().toISOString(), relayOptions, rows}, null, 2) + '\n');
