// `npm run bench:pg-notify`: does NOTIFY's commit-time lock limit how many transactions a
// PostgreSQL shared by relays commits? A notifying transaction takes one lock for the whole
// database from just before its commit until the commit is flushed, so notifying commits go one at
// a time instead of sharing WAL flushes. Measured here: commits per second of small transactions
// like a relay's enqueue (begin, insert a ~300-byte row into a queue-like table, commit) at 1, 4
// and 16 connections, without a notification, with one (Wakeups.notify, the relay's own code) to 1
// listening channel, and with one to 4 channels each with its listener (the real Wakeups); and, as
// a control, with a plain select of the same payload in its place (the same round trips). Each
// configuration runs 3 times, each run 5 one-second slices interleaved with the other modes'; the
// table gives the median and all three.
// IM_TUI_BENCH_POSTGRES=<url> to use a given server (else a private cluster: bench/pg-server.mjs);
// IM_TUI_PG_NOTIFY_SLICES (default 5) one-second slices per run; IM_TUI_BENCH_QUICK=1 for one slice of each.
// Prints the table and writes bench/pg-notify-results.json (not committed).
import {randomBytes} from 'node:crypto';
import {writeFileSync} from 'node:fs';
import {cpus, loadavg, totalmem} from 'node:os';
import {performance} from 'node:perf_hooks';
import pg from 'pg';
import {relayChannel} from '../dist/relay/postgres/cluster-names.js';
import {Wakeups} from '../dist/relay/postgres/wakeups.js';
import {percentile, printTable, round} from './measure.mjs';
import {startBenchPostgres} from './pg-server.mjs';

const quick = process.env.IM_TUI_BENCH_QUICK === '1';
/** A run of one configuration: this many slices of sliceMs, each after warmupMs of the same mode. */
const slices = quick ? 1 : Number(process.env.IM_TUI_PG_NOTIFY_SLICES ?? 5);
const sliceMs = 1000;
const warmupMs = 250;
const repeats = quick ? 1 : 3;
const concurrencies = [1, 4, 16];
/** `select`: the control, a select of the same channel and payload in place of pg_notify (the same round trips, no NOTIFY). */
const modes = [
	{name: 'none', channels: 0},
	{name: 'none, a select instead', channels: 0, select: true},
	{name: '1 channel', channels: 1},
	{name: '4 channels', channels: 4},
];
/** About 300 bytes a row with the names and the id, as a small envelope's. */
const body = randomBytes(186).toString('base64url');

const queueTable = `
create table queue (
	recipient text not null,
	delivery bigint not null,
	sender text not null,
	id text not null,
	body text not null,
	time bigint not null,
	primary key (recipient, delivery),
	unique (sender, id, recipient)
)`;

/**
 * `connections` writers kept open for one block of slices. `slice(mode, ms)` opens the mode's
 * listeners (none, or one Wakeups per channel), lets the writers run a short warm-up and then
 * `ms`, stops them, waits until every wake-up sent arrived, closes the listeners, and returns
 * what it counted.
 */
async function openWriters(url, connections) {
	const clients = await Promise.all(
		Array.from({length: connections}, async () => {
			const client = new pg.Client({connectionString: url});
			await client.connect();
			return client;
		}),
	);
	await clients[0].query('truncate queue');
	const next = clients.map(() => 0);

	async function slice({channels, select = false}, ms) {
		const sentAt = new Map();
		const latencies = [];
		let measuring = false;
		let received = 0;
		let sent = 0;
		let commits = 0;
		let stopped = false;
		const listeners = [];
		for (let index = 0; index < channels; index++) {
			const wakeups = await Wakeups.listen(url, `bench_${index}`, {heartbeatMs: 0});
			wakeups.on(wakeup => {
				const now = performance.now();
				for (const name of wakeup.names ?? []) {
					const at = sentAt.get(name);
					if (at === undefined) continue;
					sentAt.delete(name);
					received++;
					if (measuring) latencies.push(now - at);
				}
			});
			listeners.push(wakeups);
		}
		const worker = async (client, writer) => {
			while (!stopped) {
				const index = next[writer]++;
				const recipient = `u${writer}x${index}`;
				await client.query('begin');
				await client.query('insert into queue (recipient, delivery, sender, id, body, time) values ($1, $2, $3, $4, $5, $6)', [
					recipient,
					index,
					`sender${writer}`,
					randomBytes(16).toString('base64url'),
					body,
					Date.now(),
				]);
				if (select) {
					await client.query('select $1::text as channel, $2::text as payload', [relayChannel('bench_0'), JSON.stringify({type: 'queued', names: [recipient]})]);
				}
				if (channels > 0) {
					await Wakeups.notify(client, relayChannel(`bench_${index % channels}`), {type: 'queued', names: [recipient]});
					sentAt.set(recipient, performance.now());
					sent++;
				}
				const counted = measuring;
				await client.query('commit');
				if (counted && measuring) commits++;
			}
		};
		const working = clients.map(async (client, writer) => worker(client, writer));
		await sleep(warmupMs);
		const cpuBefore = process.cpuUsage();
		const started = performance.now();
		measuring = true;
		await sleep(ms);
		measuring = false;
		const elapsed = performance.now() - started;
		const cpu = process.cpuUsage(cpuBefore);
		stopped = true;
		await Promise.all(working);
		const drainedBy = performance.now() + 5000;
		while (received < sent && performance.now() < drainedBy) await sleep(20);
		await Promise.all(listeners.map(async wakeups => wakeups.close()));
		if (received < sent) throw new Error(`${sent - received} of ${sent} wake-ups never arrived`);
		return {commits, elapsed, latencies, cpuMs: (cpu.user + cpu.system) / 1000};
	}

	return {slice, close: async () => Promise.all(clients.map(async client => client.end()))};
}

const sleep = async ms => new Promise(resolve => setTimeout(resolve, ms));
const median = values => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)];

const server = await startBenchPostgres();
const database = `im_tui_bench_notify_${randomBytes(4).toString('hex')}`;
const loadBefore = loadavg();
let settings;
const results = new Map();
try {
	const admin = new pg.Client({connectionString: server.url});
	await admin.connect();
	await admin.query(`create database ${database}`);
	const {rows} = await admin.query(
		"select current_setting('server_version') as version, current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit, current_setting('wal_sync_method') as wal_sync_method, current_setting('commit_delay') as commit_delay, current_setting('shared_buffers') as shared_buffers",
	);
	settings = rows[0];
	await admin.end();
	const url = new URL(server.url);
	url.pathname = `/${database}`;
	const setup = new pg.Client({connectionString: url.toString()});
	await setup.connect();
	await setup.query(queueTable);
	await setup.end();

	// One run of a configuration is `slices` slices of a second, interleaved with the other modes'
	// slices (the order rotating), so that a neighbour's load falls on every mode alike.
	for (let repeat = 0; repeat < repeats; repeat++) {
		for (const connections of concurrencies) {
			const writers = await openWriters(url.toString(), connections);
			const totals = new Map(modes.map(mode => [mode.name, {commits: 0, elapsed: 0, latencies: [], cpuMs: 0}]));
			for (let slice = 0; slice < slices; slice++) {
				for (let turn = 0; turn < modes.length; turn++) {
					const mode = modes[(slice + turn) % modes.length];
					const result = await writers.slice(mode, sliceMs);
					const total = totals.get(mode.name);
					total.commits += result.commits;
					total.elapsed += result.elapsed;
					total.cpuMs += result.cpuMs;
					total.latencies.push(...result.latencies);
				}
			}
			await writers.close();
			for (const mode of modes) {
				const total = totals.get(mode.name);
				const key = `${connections}/${mode.name}`;
				if (!results.has(key)) results.set(key, {connections, mode: mode.name, runs: []});
				const run = {commitsPerSecond: (total.commits * 1000) / total.elapsed, latencies: total.latencies, nodeCpu: total.cpuMs / total.elapsed};
				results.get(key).runs.push(run);
				console.error(`run ${repeat + 1}/${repeats}: ${connections} connections, notify ${mode.name}: ${Math.round(run.commitsPerSecond)} commits/s`);
			}
		}
	}
} finally {
	const admin = new pg.Client({connectionString: server.url});
	await admin.connect().then(async () => admin.query(`drop database if exists ${database} with (force)`)).catch(() => {});
	await admin.end().catch(() => {});
	await server.stop();
}
const loadAfter = loadavg();

const rows = [...results.values()].map(({connections, mode, runs}) => {
	const rates = runs.map(result => result.commitsPerSecond);
	const latencies = runs.flatMap(result => result.latencies).sort((left, right) => left - right);
	const none = results.get(`${connections}/none`);
	const noneMedian = median(none.runs.map(result => result.commitsPerSecond));
	const controlMedian = median(results.get(`${connections}/${modes[1].name}`).runs.map(result => result.commitsPerSecond));
	return {
		connections,
		notify: mode,
		'commits/s': round(median(rates)),
		runs: rates.map(rate => round(rate)).join(' / '),
		'vs none': mode === 'none' ? '' : `${round((median(rates) / noneMedian) * 100)}%`,
		'vs select': mode.endsWith('channel') || mode.endsWith('channels') ? `${round((median(rates) / controlMedian) * 100)}%` : '',
		'wake-up p50 ms': latencies.length > 0 ? round(percentile(latencies, 50), 2) : '',
		'wake-up p99 ms': latencies.length > 0 ? round(percentile(latencies, 99), 2) : '',
		'node CPU': `${round(median(runs.map(result => result.nodeCpu)) * 100)}%`,
	};
});

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
console.log(`im-tui NOTIFY benchmark (${machine})${quick ? ', quick' : ''}`);
console.log(`PostgreSQL ${settings.version}: ${server.where}; fsync ${settings.fsync}, synchronous_commit ${settings.synchronous_commit}, wal_sync_method ${settings.wal_sync_method}, commit_delay ${settings.commit_delay}, shared_buffers ${settings.shared_buffers}`);
console.log(`${repeats} runs per configuration, each ${slices} × ${sliceMs / 1000} s (each slice after ${warmupMs} ms of warm-up), interleaved with the other modes; load average ${loadBefore.map(value => value.toFixed(2)).join(' ')} before, ${loadAfter.map(value => value.toFixed(2)).join(' ')} after\n`);
printTable(rows, ['connections', 'notify', 'commits/s', 'runs', 'vs none', 'vs select', 'wake-up p50 ms', 'wake-up p99 ms', 'node CPU']);
writeFileSync(
	'bench/pg-notify-results.json',
	JSON.stringify({machine, date: new Date().toISOString(), quick, server: server.where, settings, slices, sliceMs, warmupMs, repeats, loadBefore, loadAfter, rows}, null, 2) + '\n',
);
