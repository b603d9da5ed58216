// `npm run bench`: every benchmark, a table on stdout and the same numbers as JSON in
// bench/results.json. Set IM_TUI_BENCH_QUICK=1 for a short smoke run.
import {writeFileSync} from 'node:fs';
import {cpus, totalmem} from 'node:os';
import {capacity} from './capacity.mjs';
import {benchClientUi} from './client-ui.mjs';
import {endToEndLatency} from './e2e-latency.mjs';
import {benchFernet} from './fernet.mjs';
import {machineFloors} from './machine-floors.mjs';
import {printTable} from './measure.mjs';
import {terminalKeys} from './terminal-keys.mjs';
import {latency, latencyRows, throughput, throughputRows} from './relay-bench.mjs';
import {liftedLimits, startRelayProcess} from './relay-process.mjs';

const quick = process.env.IM_TUI_BENCH_QUICK === '1';
// The benchmark lifts the per-connection rate limit and the connection caps, as the peers' flood
// limits were lifted: one load generator on 127.0.0.1 opens every connection and sends at full speed.
const relayOptions = {limits: liftedLimits, presence: true};
const pingRounds = quick ? 300 : 3000;
const targetRate = 'target ≥ 60,000';

async function withRelay(options, run, processOptions = {}) {
	const relay = await startRelayProcess(options, processOptions);
	try {
		return await run(relay);
	} finally {
		await relay.stop();
	}
}

/**
 * Runs `spec` unreported until about 300,000 messages of it have passed (one to three runs), then
 * measures it once more: the steady state, not V8 still compiling the hot paths of the relay and of
 * this load generator. A fresh relay took that long to settle: one pair went 43,706 → 55,125 →
 * 61,733 → 69,104 msg/s over four runs. The latency rows come after these on the same relay.
 */
async function measuredThroughput(relay, label, spec, note) {
	const warmupRuns = Math.max(1, Math.min(3, Math.round(300_000 / (spec.pairs * spec.perPair))));
	for (let run = 0; run < warmupRuns; run++) await throughput(relay.port, spec);
	const before = await relay.cpu();
	const result = await throughput(relay.port, spec);
	return throughputRows(result, label, (await relay.cpu()) - before, note);
}

const rows = [...benchFernet()];
await withRelay(relayOptions, async relay => {
	// 1 pair: a deeper window, since `accepted` waits for the receiver's ack; 50 pairs: 200 each.
	rows.push(...(await measuredThroughput(relay, '1 pair', {pairs: 1, perPair: quick ? 5000 : 100_000, window: 800}, targetRate)));
	rows.push(...(await measuredThroughput(relay, '50 pairs', {pairs: 50, perPair: quick ? 200 : 20_000, window: 200}, targetRate)));
	rows.push(...latencyRows(await latency(relay.port, {rounds: pingRounds}), 'ping-pong', 'transport crypto on both hops; target < 150 (p99 < 500)'));
	rows.push(...latencyRows(await endToEndLatency(relay, {rounds: quick ? 200 : 1000}), 'ping-pong, full clients', 'ChatClient at both ends, each in its own process: end-to-end sealing, every counter saved to disk'));
});
// The same relay under node's default V8 heap settings: what README's tuning for a busy relay gains.
await withRelay(
	relayOptions,
	async relay => {
		rows.push(...(await measuredThroughput(relay, '50 pairs, V8 defaults', {pairs: 50, perPair: quick ? 200 : 20_000, window: 200}, "node's default heap settings")));
	},
	{tuning: []},
);
// The same relay with one message per frame both ways: what batching gains.
await withRelay({...relayOptions, limits: {...liftedLimits, maxBatchMessages: 1}}, async relay => {
	rows.push(...(await measuredThroughput(relay, '1 pair, 1 msg/frame', {pairs: 1, perPair: quick ? 5000 : 50_000, window: 800, client: {maxBatchMessages: 1}}, 'one message per frame both ways')));
});
// The same relay with transport crypto off (batch frames in plaintext): what the crypto costs.
await withRelay({...relayOptions, transportCrypto: false}, async relay => {
	rows.push(...(await measuredThroughput(relay, '1 pair, crypto off', {pairs: 1, perPair: quick ? 5000 : 100_000, window: 800, client: {plaintext: true}}, 'batch frames in plaintext')));
	rows.push(...latencyRows(await latency(relay.port, {rounds: pingRounds, client: {plaintext: true}}), 'ping-pong, crypto off', 'no Fernet on either hop'));
});
// In a relay process of its own, so its memory figures start from a fresh relay.
rows.push(...(await capacity()));
rows.push(...benchClientUi());
// A person at the keyboard of the built client, in a pty, with a relay of its own.
await withRelay(relayOptions, async relay => {
	rows.push(...(await terminalKeys(relay, {messages: quick ? 1000 : 10_000, keys: quick ? 100 : 500})));
});
// What the machine allows with none of our work: the floors under the login and latency targets.
rows.push(...(await machineFloors({quick})));

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; load generator on the same machine`;
console.log(`im-tui benchmarks (${machine})\n`);
printTable(rows);
writeFileSync('bench/results.json', JSON.stringify({machine, date: new Date().toISOString(), relayOptions, rows}, null, 2) + '\n');
