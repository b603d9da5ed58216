// `npm run bench:cluster`: what sharing one PostgreSQL costs relays (issue 16). The same load on
// each configuration: one relay on SQLite (today's default), one relay on PostgreSQL, and two
// relays on the same PostgreSQL with every sender's partner on the other relay (every message
// crosses relays). Per configuration: delivered messages/s; CPU per delivered message of the relay
// processes and of PostgreSQL's own processes (from /proc), separately and together; relay RSS;
// and one-way latency (send to receive, both clients in this process, no other load).
//
// The load: IM_TUI_CLUSTER_PAIRS sender/receiver pairs (20) of headless bench clients, spread over
// IM_TUI_CLUSTER_LOADERS child processes (2), each sender keeping IM_TUI_CLUSTER_WINDOW messages
// sent and not yet received (50; with the queue quotas on, a relay on PostgreSQL refused some with
// queue_full until session 12, when acks stopped waiting for commits in flight); IM_TUI_CLUSTER_WARMUP
// seconds (5) unmeasured, then IM_TUI_CLUSTER_SECONDS (10) measured; IM_TUI_CLUSTER_REPEATS runs
// (3), the configurations interleaved, the order rotating; medians. IM_TUI_BENCH_QUICK=1: 1 s +
// 2 s, one run. IM_TUI_CLUSTER_ONLY=sqlite,postgres,cluster runs some;
// IM_TUI_CLUSTER_LAUNCHER=command runs the built im-tui-server instead of startRelay in a process
// (cluster-relays.mjs).
// IM_TUI_BENCH_POSTGRES=<url> uses that server (else a private one: bench/pg-server.mjs);
// PostgreSQL's CPU is that of every process of the server, so give one nobody else uses.
// Prints the table and writes bench/cluster-results.json (not committed).
import {randomBytes} from 'node:crypto';
import {writeFileSync} from 'node:fs';
import {cpus, loadavg, totalmem} from 'node:os';
import pg from 'pg';
import {relayTakesCluster, serverTakesStore} from './cluster-relays.mjs';
import {clusterRun} from './cluster-run.mjs';
import {percentile, printTable, round} from './measure.mjs';
import {startBenchPostgres} from './pg-server.mjs';
import {parentPid, postgresProcessCount} from './proc-usage.mjs';

const environment = process.env;
const quick = environment.IM_TUI_BENCH_QUICK === '1';
const setting = (name, fallback) => {
	const value = environment[name] === undefined ? fallback : Number(environment[name]);
	if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got ${environment[name]})`);
	return value;
};
const load = {
	pairs: Math.round(setting('IM_TUI_CLUSTER_PAIRS', 20)),
	window: Math.min(200, Math.round(setting('IM_TUI_CLUSTER_WINDOW', 50))),
	loaders: Math.round(setting('IM_TUI_CLUSTER_LOADERS', 2)),
	warmupMs: setting('IM_TUI_CLUSTER_WARMUP', quick ? 1 : 5) * 1000,
	measureMs: setting('IM_TUI_CLUSTER_SECONDS', quick ? 2 : 10) * 1000,
	latencyRounds: quick ? 200 : 1000,
};
const repeats = Math.round(setting('IM_TUI_CLUSTER_REPEATS', quick ? 1 : 3));

const allConfigurations = [
	{name: 'sqlite', label: '1 relay, SQLite', relays: 1, postgres: false, latency: 'same relay'},
	{name: 'postgres', label: '1 relay, PostgreSQL', relays: 1, postgres: true, latency: 'same relay'},
	{name: 'cluster', label: '2 relays, one PostgreSQL', relays: 2, postgres: true, latency: 'across relays'},
];
const only = environment.IM_TUI_CLUSTER_ONLY?.split(',').map(name => name.trim());
const unknown = only?.filter(name => !allConfigurations.some(configuration => configuration.name === name)) ?? [];
function configurationsWanted() {
	return allConfigurations.map(configuration => configuration.name).filter(name => !only || only.includes(name));
}
if (unknown.length > 0) throw new Error(`IM_TUI_CLUSTER_ONLY: no configuration ${unknown.join(', ')} (sqlite, postgres, cluster)`);
// How relays start (cluster-relays.mjs): host (startRelay in a process each, every limit lifted) unless
// IM_TUI_CLUSTER_LAUNCHER=command (the built im-tui-server and its flags).
const launcher = environment.IM_TUI_CLUSTER_LAUNCHER ?? 'host';
if (launcher !== 'command' && launcher !== 'host') throw new Error(`IM_TUI_CLUSTER_LAUNCHER must be command or host (got ${launcher})`);
const clusterBuilt = launcher === 'host' ? relayTakesCluster() : serverTakesStore();
if (launcher === 'command' && !serverTakesStore() && configurationsWanted().some(name => name !== 'sqlite')) {
	throw new Error('the built im-tui-server has no --store: IM_TUI_CLUSTER_LAUNCHER=command runs sqlite only (IM_TUI_CLUSTER_ONLY=sqlite)');
}
const skipped = [];
const configurations = allConfigurations.filter(configuration => {
	if (only && !only.includes(configuration.name)) return false;
	if (configuration.relays > 1 && !clusterBuilt) {
		skipped.push(`${configuration.label}: this tree's relay has no cluster yet`);
		return false;
	}
	return true;
});

const loadBefore = loadavg();
const server = configurations.some(configuration => configuration.postgres) ? await startBenchPostgres() : undefined;
// Ctrl+C: the private PostgreSQL is stopped and deleted, the relays killed (cluster-relays.mjs), the load processes follow their parent.
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.once(signal, () => {
		console.error(`${signal}: stopping`);
		void Promise.resolve(server?.stop())
			.catch(() => {})
			.finally(() => process.exit(130));
	});
}
const results = new Map(configurations.map(configuration => [configuration.name, {configuration, runs: [], latencies: [], failures: []}]));
let postgres;
try {
	if (server) postgres = await describePostgres(server.url);
	for (let repeat = 0; repeat < repeats; repeat++) {
		for (let turn = 0; turn < configurations.length; turn++) {
			const configuration = configurations[(repeat + turn) % configurations.length];
			const database = configuration.postgres ? await createDatabase(server.url) : undefined;
			const result = results.get(configuration.name);
			try {
				const run = await clusterRun({configuration, storeUrl: database?.url, postmasterPid: configuration.postgres ? postgres.postmasterPid : undefined, load, launcher});
				result.runs.push(run);
				result.latencies.push(...run.latency);
				console.error(
					`run ${repeat + 1}/${repeats}, ${configuration.label}: ${Math.round(run.perSecond)} msg/s, relay ${perMessage(run.relayCpuMicros, run)} µs/msg` +
						(run.postgresCpuMicros === undefined ? '' : `, PostgreSQL ${perMessage(run.postgresCpuMicros, run)} µs/msg`) +
						(run.refused || run.outOfOrder || run.closedClients ? `; refused ${run.refused}, out of order ${run.outOfOrder}, connections ended ${run.closedClients}` : '') +
						(run.latencyError ? `; latency failed: ${run.latencyError}` : ''),
				);
			} catch (error) {
				// A configuration that fails (a relay that does not start, messages that never cross) is
				// reported as such; the others still run.
				result.failures.push(String(error?.message ?? error).split('\n')[0]);
				console.error(`run ${repeat + 1}/${repeats}, ${configuration.label}: failed: ${String(error?.stack ?? error)}`);
			} finally {
				await database?.drop();
			}
		}
	}
} finally {
	await server?.stop();
}
const loadAfter = loadavg();

function perMessage(micros, run) {
	return micros === undefined ? undefined : round(micros / Math.max(1, run.delivered), 1);
}

const median = values => {
	const known = values.filter(value => value !== undefined && !Number.isNaN(value)).sort((left, right) => left - right);
	return known.length === 0 ? undefined : known[Math.floor(known.length / 2)];
};
const shown = value => (value === undefined ? '-' : value.toLocaleString('en-US'));

/** Per configuration, the medians as numbers (for the JSON); `rows` shows them. */
const summaries = [...results.values()].map(({configuration, runs, latencies, failures}) => {
	latencies.sort((left, right) => left - right);
	const rss = median(runs.flatMap(run => run.rssPerRelay));
	return {
		configuration: configuration.name,
		label: configuration.label,
		failures,
		runs: runs.length,
		perSecond: median(runs.map(run => round(run.perSecond))),
		perSecondRuns: runs.map(run => round(run.perSecond)),
		relayMicrosPerMessage: median(runs.map(run => perMessage(run.relayCpuMicros, run))),
		postgresMicrosPerMessage: configuration.postgres ? median(runs.map(run => perMessage(run.postgresCpuMicros, run))) : undefined,
		togetherMicrosPerMessage: median(runs.map(run => perMessage(run.relayCpuMicros + (configuration.postgres ? (run.postgresCpuMicros ?? Number.NaN) : 0), run))),
		loadMicrosPerMessage: median(runs.map(run => perMessage(run.loadCpuMicros, run))),
		rssPerRelayMiB: rss === undefined ? undefined : round(rss / 2 ** 20, 1),
		latency: configuration.latency,
		latencyP50Micros: latencies.length === 0 ? undefined : round(percentile(latencies, 50)),
		latencyP99Micros: latencies.length === 0 ? undefined : round(percentile(latencies, 99)),
		latencyError: runs.find(run => run.latencyError)?.latencyError,
		refused: runs.map(run => run.refused),
		outOfOrder: runs.map(run => run.outOfOrder),
		connectionsEnded: runs.map(run => run.closedClients),
	};
});

const rows = summaries.map(summary => {
	if (summary.runs === 0) return {configuration: summary.label, 'msg/s': `failed: ${summary.failures[0]}`};
	return {
		configuration: summary.label,
		'msg/s': shown(summary.perSecond),
		runs: summary.perSecondRuns.map(shown).join(' / '),
		'relay µs/msg': shown(summary.relayMicrosPerMessage),
		'PostgreSQL µs/msg': shown(summary.postgresMicrosPerMessage),
		'together µs/msg': shown(summary.togetherMicrosPerMessage),
		'load µs/msg': shown(summary.loadMicrosPerMessage),
		'RSS per relay MiB': shown(summary.rssPerRelayMiB),
		latency: summary.latency,
		'p50 µs': summary.latencyP50Micros === undefined ? 'failed' : shown(summary.latencyP50Micros),
		'p99 µs': summary.latencyP99Micros === undefined ? (summary.latencyError ?? '-') : shown(summary.latencyP99Micros),
		'refused / out of order / ended':
			summary.refused.map((refused, index) => `${refused}/${summary.outOfOrder[index]}/${summary.connectionsEnded[index]}`).join(' ') +
			(summary.failures.length > 0 ? `; ${summary.failures.length} run(s) failed` : ''),
	};
});

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
console.log(`im-tui cluster benchmark (${machine})${quick ? ', quick' : ''}`);
console.log(
	`relays, PostgreSQL and the load share these ${cpus().length} cores: the figures measure what the cluster costs per message, not how it scales`,
);
console.log(
	launcher === 'command'
		? 'relays: the built im-tui-server (--store postgres://… --relay-id for PostgreSQL), limits lifted by its flags (not the queue quotas: it has none for them); presence on'
		: `relays: startRelay in a process each (bench/relay-host.mjs), every limit lifted, the queue quotas too; ${clusterBuilt ? 'on PostgreSQL each a relay of the service (lease, sessions, wake-ups)' : 'on PostgreSQL the store alone (this tree has no cluster)'}; presence on`,
);
if (postgres) {
	const {settings} = postgres;
	console.log(
		`PostgreSQL ${settings.version}: ${server.where}; fsync ${settings.fsync}, synchronous_commit ${settings.synchronous_commit}, shared_buffers ${settings.shared_buffers}; ` +
			(postgres.postmasterPid === undefined ? 'its CPU not counted (not a process of this machine)' : `CPU of the postmaster (pid ${postgres.postmasterPid}) and all its processes (${postgres.processes} at the start)`),
	);
}
console.log(
	`load: ${load.pairs} pairs in ${load.loaders} processes, ${load.window} messages in flight per sender (sent, not yet received); ${load.warmupMs / 1000} s warm-up, ${load.measureMs / 1000} s measured, ${repeats} run(s) each (medians); latency: ${load.latencyRounds} messages one at a time, no other load`,
);
console.log(`load average ${loadBefore.map(value => value.toFixed(2)).join(' ')} before, ${loadAfter.map(value => value.toFixed(2)).join(' ')} after\n`);
printTable(rows, Object.keys(rows.find(row => 'runs' in row) ?? rows[0] ?? {configuration: ''}));
for (const line of skipped) console.log(`skipped: ${line}`);
writeFileSync(
	'bench/cluster-results.json',
	JSON.stringify(
		{
			machine,
			date: new Date().toISOString(),
			quick,
			launcher,
			load,
			repeats,
			postgres: postgres ? {where: server.where, ...postgres} : undefined,
			loadBefore,
			loadAfter,
			skipped,
			summaries,
			runs: [...results.values()].map(({configuration, runs}) => ({configuration: configuration.name, runs: runs.map(({latency, ...run}) => run)})),
		},
		null,
		2,
	) + '\n',
);

/** The server's settings, and its postmaster's pid if it runs on this machine (the parent of our backend). */
async function describePostgres(url) {
	const client = new pg.Client({connectionString: url});
	await client.connect();
	try {
		const {rows} = await client.query(
			"select current_setting('server_version') as version, current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit, current_setting('shared_buffers') as shared_buffers, pg_backend_pid() as backend",
		);
		const {backend, ...settings} = rows[0];
		const postmasterPid = parentPid(backend);
		const processes = postmasterPid === undefined ? 0 : postgresProcessCount(postmasterPid);
		return {settings, postmasterPid, processes};
	} finally {
		await client.end();
	}
}

/** A fresh database for one run: {url, drop()}. */
async function createDatabase(serverUrl) {
	const name = `im_tui_bench_cluster_${randomBytes(4).toString('hex')}`;
	const admin = async statement => {
		const client = new pg.Client({connectionString: serverUrl});
		await client.connect();
		try {
			await client.query(statement);
		} finally {
			await client.end();
		}
	};
	await admin(`create database ${name}`);
	// The previous run's writes flushed now, not by a checkpoint counted in this run's PostgreSQL CPU (needs a superuser; else left to chance).
	await admin('checkpoint').catch(() => {});
	const url = new URL(serverUrl);
	url.pathname = `/${name}`;
	return {url: url.toString(), drop: async () => admin(`drop database if exists ${name} with (force)`).catch(() => {})};
}
