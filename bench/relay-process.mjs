// Starts the built relay in its own process (bench/relay-host.mjs) on a free port of 127.0.0.1,
// with an IPC channel to ask it for its memory after garbage collection.
import {fork} from 'node:child_process';
import {fileURLToPath} from 'node:url';

const hostScript = fileURLToPath(new URL('./relay-host.mjs', import.meta.url));

/**
 * What the benchmarks lift: the per-connection rate limit, the connection caps, and what limits one
 * address over time (every benchmark client comes from 127.0.0.1).
 */
export const liftedLimits = {
	rateBurst: 'off',
	ratePerSecond: 'off',
	maxConnections: 'off',
	maxPendingConnections: 'off',
	maxConnectionsPerAddress: 'off',
	handshakeBurst: 'off',
	handshakesPerMinute: 'off',
	registrationBurstPerAddress: 'off',
	registrationsPerHourPerAddress: 'off',
	registrationBurst: 'off',
	registrationsPerHour: 'off',
	maxRegisteredUsers: 'off',
	failedLoginBurst: 'off',
	failedLoginsPerMinute: 'off',
	maxStoredBytesPerSender: 'off',
	maxQueuedPerSender: 'off',
	directoryPagesBurst: 'off',
	directoryPagesPerMinute: 'off',
	lookupBurst: 'off',
	lookupsPerHour: 'off',
	lookupBurstPerAddress: 'off',
	lookupsPerHourPerAddress: 'off',
};

/**
 * What README ("A busy relay") tells operators to run a loaded relay with: a 64 MiB young
 * generation, so envelopes waiting for their ack die before the next scavenge instead of being
 * copied by it (10 to 15% less relay CPU per message at 50 pairs here).
 */
export const busyRelayNodeArgs = ['--max-semi-space-size=64'];

/**
 * `options`: {limits, presence, transportCrypto} as relay-host.mjs takes them ("off" lifts a limit).
 * `nodeArgs`: extra flags for the relay's node, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'].
 * `tuning`: busyRelayNodeArgs unless told otherwise ([] for node's defaults).
 * Returns {port, fingerprint, pid, dataDir, stop(), memory(), cpu(), snapshot(path)}.
 */
export async function startRelayProcess(options = {}, {nodeArgs = [], tuning = busyRelayNodeArgs} = {}) {
	const child = fork(hostScript, [JSON.stringify(options)], {
		execArgv: ['--expose-gc', ...tuning, ...nodeArgs],
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
	});
	const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve({code, signal})));
	/** Replies come in the order asked: one queue of waiters per reply type. */
	const waiting = new Map();
	child.on('message', message => waiting.get(message?.type)?.shift()?.resolve(message));
	const ask = (type, extra = {}) =>
		new Promise((resolve, reject) => {
			if (!child.connected) {
				reject(new Error('the relay process is gone'));
				return;
			}
			if (!waiting.has(type)) waiting.set(type, []);
			waiting.get(type).push({resolve, reject});
			child.send({type, ...extra});
		});
	void exited.then(({code, signal}) => {
		for (const queue of waiting.values()) for (const {reject} of queue.splice(0)) reject(new Error(`the relay exited (${code ?? signal})`));
	});

	const ready = await new Promise((resolve, reject) => {
		child.on('message', message => {
			if (message?.type === 'ready') resolve(message);
			else if (message?.type === 'error') reject(new Error(`the relay did not start: ${message.message}`));
		});
		void exited.then(({code, signal}) => reject(new Error(`the relay exited before it was ready (${code ?? signal})`)));
	});

	let stopping;
	return {
		port: ready.port,
		/** Lower-case hex SHA-256 of the relay's Ed25519 public key, as clients pin it. */
		fingerprint: ready.fingerprint,
		pid: child.pid,
		/** The relay's fresh data directory (relay.sqlite and its -wal), removed by stop(). */
		dataDir: ready.dataDir,
		/** {rss, heapUsed, heapTotal, external, arrayBuffers} in bytes, after full garbage collections. */
		memory: () => ask('memory'),
		/** The relay process's CPU time so far (user + system), in µs. */
		cpu: async () => (await ask('cpu')).micros,
		/** Writes a heap snapshot in the relay process (after GC); resolves with its path. */
		snapshot: async path => (await ask('snapshot', {path})).path,
		stop() {
			stopping ??= (async () => {
				if (child.exitCode === null && child.signalCode === null) {
					if (child.connected) child.send({type: 'stop'});
					const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
					await exited;
					clearTimeout(timeout);
				}
			})();
			return stopping;
		},
	};
}
