// The relays of one configuration of bench/cluster.mjs, each in a process of its own:
//
// - `host` (the default): bench/relay-host.mjs, startRelay in a process of its own as the other
//   relay benchmarks start it, every limit lifted (the queue quotas too), on PostgreSQL as a relay
//   of a service (`cluster`: lease, sessions, wake-ups: what `--store` starts).
// - `command`: the built im-tui-server as an operator runs it (`--store postgres://… --relay-id ID`
//   for PostgreSQL), with the limits a load generator on 127.0.0.1 needs lifted by its flags (the
//   queue quotas have none) and README's node flags for a busy relay.
//
// Either way relays of one service share its relay key, and the benchmark reads each relay's CPU
// and memory from /proc by its pid.
import {spawn} from 'node:child_process';
import {copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {identityFileName} from '../dist/relay/identity-store.js';
import {busyRelayNodeArgs, liftedLimits, startRelayProcess} from './relay-process.mjs';

const serverCli = fileURLToPath(new URL('../dist/server-cli.js', import.meta.url));

/** The limits bench/relay-process.mjs lifts, as im-tui-server's flags (the others do not bind at this load). */
const liftedFlags = [
	['--rate-limit', 'off'],
	['--max-connections', 'off'],
	['--max-connections-per-address', 'off'],
	['--max-pending', 'off'],
	['--handshake-limit', 'off'],
	['--registration-limit', 'off'],
	['--lookup-limit', 'off'],
	['--presence', 'on'],
].flat();

/**
 * What the in-process relays lift: bench/relay-process.mjs's limits and every queue quota. (At this
 * tree a relay counts what its senders queued for a recipient on another relay until that relay's
 * ack, which it never hears of: with quotas, every sender is refused queue_full after 250.)
 */
const hostLimits = {...liftedLimits, maxQueuedPerUser: 'off', maxQueuedPerSender: 'off', maxStoredBytesPerRecipient: 'off', maxStoredBytesPerSender: 'off', maxStoredBytes: 'off'};

/** Relays started as commands and not yet stopped: killed, and their data directories removed, if this process ends first (Ctrl+C). */
const running = new Map();
process.on('exit', () => {
	for (const [child, dataDir] of running) {
		child.kill('SIGKILL');
		rmSync(dataDir, {recursive: true, force: true});
	}
});

/** Whether the built server takes `--store` (the cluster's flag): its help text names it. */
export function serverTakesStore() {
	return existsSync(serverCli) && readFileSync(serverCli, 'utf8').includes('--store');
}

/** Whether the built startRelay takes `cluster` (a relay of a service): its source names it. */
export function relayTakesCluster() {
	const server = fileURLToPath(new URL('../dist/relay/server.js', import.meta.url));
	return existsSync(server) && readFileSync(server, 'utf8').includes('options.cluster');
}

/**
 * Starts `count` relays: on SQLite (`storeUrl` undefined: one relay only) or all on the PostgreSQL
 * database at `storeUrl`, sharing one relay key as a service's relays do. Returns
 * [{id, pid, port, stop()}]; on a failure, stops those already started and throws.
 */
export async function startRelays({count, storeUrl, launcher}) {
	if (storeUrl === undefined && count !== 1) throw new Error('relays on SQLite share nothing: one relay only');
	if (count > 1 && !(launcher === 'host' ? relayTakesCluster() : serverTakesStore())) throw new Error('this tree has no cluster: one relay only');
	const relays = [];
	try {
		for (let index = 0; index < count; index++) {
			const id = `bench${index + 1}`;
			if (launcher === 'host') {
				const dataDir = mkdtempSync(join(tmpdir(), 'im-tui-bench-cluster-'));
				if (relays[0] !== undefined) copyFileSync(join(relays[0].dataDir, identityFileName), join(dataDir, identityFileName));
				// A tree before the cluster: one relay on the PostgreSQL store, no service.
				const cluster = storeUrl === undefined ? {} : relayTakesCluster() ? {cluster: {url: storeUrl, relayId: id, leaseMs: 10_000}} : {store: storeUrl};
				const relay = await startRelayProcess({limits: hostLimits, presence: true, dataDir, ...cluster}).catch(error => {
					rmSync(dataDir, {recursive: true, force: true});
					throw error;
				});
				relays.push({id, pid: relay.pid, port: relay.port, dataDir, stop: () => relay.stop()});
			} else {
				relays.push(await startCommandRelay({id, storeUrl, keyFrom: relays[0]?.dataDir}));
			}
		}
		return relays;
	} catch (error) {
		await Promise.all(relays.map(async relay => relay.stop()));
		throw error;
	}
}

/** One `im-tui-server` with a fresh data directory (holding `keyFrom`'s relay key, if given); ready once it prints its connect line. */
async function startCommandRelay({id, storeUrl, keyFrom}) {
	const dataDir = mkdtempSync(join(tmpdir(), 'im-tui-bench-cluster-'));
	if (keyFrom !== undefined) copyFileSync(join(keyFrom, identityFileName), join(dataDir, identityFileName));
	const args = [...busyRelayNodeArgs, serverCli, '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...liftedFlags];
	if (storeUrl !== undefined) args.push('--store', storeUrl, '--relay-id', id);
	const child = spawn(process.execPath, args, {stdio: ['ignore', 'pipe', 'pipe']});
	running.set(child, dataDir);
	const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve(code ?? signal)));
	void exited.then(() => running.delete(child));
	// Its log (JSON lines on stderr) is read and dropped, the last lines kept for an error message.
	const tail = [];
	child.stderr.setEncoding('utf8');
	child.stderr.on('data', chunk => {
		tail.push(...chunk.split('\n').filter(Boolean));
		tail.splice(0, Math.max(0, tail.length - 20));
	});
	let stdout = '';
	child.stdout.setEncoding('utf8');
	let timer;
	try {
		const port = await new Promise((resolve, reject) => {
			child.stdout.on('data', chunk => {
				if (stdout.length < 65_536) stdout += chunk;
				const match = /--port (\d+) --trust [0-9a-f]{64}/.exec(stdout);
				if (match) resolve(Number(match[1]));
			});
			void exited.then(code => reject(new Error(`relay ${id} exited before it was ready (${code}):\n${stdout}${tail.join('\n')}`)));
			timer = setTimeout(() => reject(new Error(`relay ${id} printed no connect line within 30 s:\n${stdout}${tail.join('\n')}`)), 30_000);
		});
		clearTimeout(timer);
		let stopping;
		return {
			id,
			pid: child.pid,
			port,
			dataDir,
			stop() {
				stopping ??= (async () => {
					if (child.exitCode === null && child.signalCode === null) {
						child.kill('SIGTERM');
						const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
						await exited;
						clearTimeout(kill);
					}
					rmSync(dataDir, {recursive: true, force: true});
				})();
				return stopping;
			},
		};
	} catch (error) {
		clearTimeout(timer);
		child.kill('SIGKILL');
		await exited;
		rmSync(dataDir, {recursive: true, force: true});
		throw error;
	}
}
