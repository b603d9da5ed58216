// The built relay in a process of its own, driven over IPC by bench/relay-process.mjs:
//
//   node --expose-gc bench/relay-host.mjs '{"limits":{"rateBurst":"off"},"presence":true,"transportCrypto":false}'
//
// Options (JSON in argv[2]): `limits` as in RelayLimits, where "off" or null lifts one (JSON has no
// Infinity); `presence` and `transportCrypto` as startRelay takes them; `dataDir` a data directory
// the parent prepared; `store` a postgres:// URL to keep users and queues in (else SQLite in dataDir);
// `cluster` {url, relayId, leaseMs} a relay of a service on that PostgreSQL, as `--store` starts one. It listens on 127.0.0.1, a free port, with a fresh data directory (or that one), says {type: 'ready', port, fingerprint, pid, dataDir} and answers
// these IPC messages:
//   {type: 'memory'}               -> {type: 'memory', rss, heapUsed, heapTotal, external, arrayBuffers}, after GC
//   {type: 'cpu'}                  -> {type: 'cpu', micros}: the process's CPU time so far (user + system)
//   {type: 'snapshot', path}       -> {type: 'snapshot', path}: a V8 heap snapshot, for profiling by hand
//   {type: 'stop'}                 -> closes the relay, removes the data directory and exits
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {writeHeapSnapshot} from 'node:v8';
import {openPostgresStore} from '../dist/relay/postgres/pg-store.js';
import {startRelay} from '../dist/relay/server.js';

if (typeof process.send !== 'function') {
	console.error('relay-host.mjs runs as a child with an IPC channel: use startRelayProcess() from bench/relay-process.mjs');
	process.exit(2);
}

const options = JSON.parse(process.argv[2] ?? '{}');
const limits = {};
for (const [name, value] of Object.entries(options.limits ?? {})) {
	limits[name] = value === 'off' || value === null ? Number.POSITIVE_INFINITY : value;
}

// `dataDir`: a directory the parent prepared (a database filled beforehand); removed at stop too.
const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'im-tui-bench-'));
let relay;
try {
	relay = await startRelay({
		host: '127.0.0.1',
		port: 0,
		dataDir,
		limits,
		presence: options.presence ?? true,
		transportCrypto: options.transportCrypto ?? true,
		...(options.store ? {store: await openPostgresStore(options.store)} : {}),
		...(options.cluster ? {cluster: options.cluster} : {}),
	});
} catch (error) {
	rmSync(dataDir, {recursive: true, force: true});
	process.send({type: 'error', message: String(error?.stack ?? error)}, () => process.exit(1));
}

let stopping;
function stop() {
	stopping ??= (async () => {
		await relay.close('the benchmark is over');
		rmSync(dataDir, {recursive: true, force: true});
		process.exit(0);
	})();
	return stopping;
}

/** Several full collections with a turn of the event loop between, so finalizers and weak callbacks run. */
async function collect() {
	for (let round = 0; round < 4; round++) {
		globalThis.gc?.();
		await new Promise(resolve => setImmediate(resolve));
	}
	await new Promise(resolve => setTimeout(resolve, 20));
	globalThis.gc?.();
}

process.on('message', async message => {
	switch (message?.type) {
		case 'cpu': {
			const {user, system} = process.cpuUsage();
			process.send({type: 'cpu', micros: user + system});
			break;
		}
		case 'memory': {
			await collect();
			const {rss, heapUsed, heapTotal, external, arrayBuffers} = process.memoryUsage();
			process.send({type: 'memory', rss, heapUsed, heapTotal, external, arrayBuffers, gc: typeof globalThis.gc === 'function'});
			break;
		}
		case 'snapshot': {
			await collect();
			process.send({type: 'snapshot', path: writeHeapSnapshot(message.path)});
			break;
		}
		case 'stop':
			await stop();
			break;
	}
});
// The parent went away without saying stop: do not linger as an orphan holding the port.
process.on('disconnect', () => void stop());

if (relay) process.send({type: 'ready', port: relay.port, fingerprint: relay.fingerprint, pid: process.pid, dataDir});
