// Capacity: many concurrent logged-in idle clients on one relay process, the relay and the load
// generator (bench/capacity-clients.mjs) in separate processes. Measures new connections per
// second with and without login, and the relay's resident memory per connection after GC.
//
//   node bench/capacity.mjs                    # 10,000 clients; IM_TUI_BENCH_QUICK=1 for 500
//   IM_TUI_CAPACITY_CLIENTS=20000 node bench/capacity.mjs
//
// For profiling by hand: IM_TUI_CAPACITY_CPU_PROF=<dir> runs the relay and the load generator with
// --cpu-prof into <dir>; IM_TUI_CAPACITY_SNAPSHOT=<file> writes the relay's heap snapshot while
// every client is connected.
import {execFileSync, fork} from 'node:child_process';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {printTable, round} from './measure.mjs';
import {liftedLimits, startRelayProcess} from './relay-process.mjs';

const quick = process.env.IM_TUI_BENCH_QUICK === '1';
const generatorScript = fileURLToPath(new URL('./capacity-clients.mjs', import.meta.url));

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const debug = process.env.IM_TUI_BENCH_DEBUG ? text => console.error(`capacity: ${text}`) : () => {};
const kb = bytes => round(bytes / 1024, 2);
const mb = bytes => round(bytes / 2 ** 20, 1);

/** The open-file limit a child process gets (the same as ours: node cannot read it directly). */
function openFileLimit() {
	try {
		const text = execFileSync('sh', ['-c', 'ulimit -n'], {encoding: 'utf8'}).trim();
		return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
	} catch {
		return Number.NaN;
	}
}

/** The load generator in its own process; call(type, args) runs one of its handlers. */
async function startGenerator(nodeArgs) {
	const child = fork(generatorScript, [], {execArgv: nodeArgs, stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	const exited = new Promise(resolve => child.once('exit', resolve));
	const calls = new Map();
	let nextId = 0;
	child.on('message', message => {
		const call = calls.get(message?.id);
		if (!call) return;
		calls.delete(message.id);
		if (message.error) call.reject(new Error(`load generator: ${message.error}`));
		else call.resolve(message.result);
	});
	void exited.then(code => {
		for (const {reject} of calls.values()) reject(new Error(`the load generator exited (${code})`));
		calls.clear();
	});
	await new Promise((resolve, reject) => {
		child.once('message', resolve);
		void exited.then(code => reject(new Error(`the load generator exited before it was ready (${code})`)));
	});
	return {
		call(type, args = {}) {
			const id = nextId++;
			return new Promise((resolve, reject) => {
				calls.set(id, {resolve, reject});
				child.send({id, type, ...args});
			});
		},
		async stop() {
			if (child.exitCode === null && child.signalCode === null) {
				child.disconnect();
				await exited;
			}
		},
	};
}

/** The benchmark's rows for printTable and results.json. */
export async function capacity(options = {}) {
	return (await measureCapacity(options)).rows;
}

/**
 * Resolves with {rows, raw}: raw holds every measurement as taken. clients: logged-in idle
 * connections to hold. handshakes: connections for the rate without login. parallel: connections
 * in progress at a time while opening them.
 */
export async function measureCapacity({
	clients = Number(process.env.IM_TUI_CAPACITY_CLIENTS) || (quick ? 500 : 10_000),
	handshakes = quick ? 300 : 2000,
	returning = quick ? 300 : 3000,
	parallel = 100,
	settleMs = 2000,
	relayOptions = {limits: liftedLimits, presence: true},
	nodeArgs = process.env.IM_TUI_CAPACITY_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.IM_TUI_CAPACITY_CPU_PROF}`] : [],
	snapshot = process.env.IM_TUI_CAPACITY_SNAPSHOT,
} = {}) {
	const limit = openFileLimit();
	// Each process holds one descriptor per connection, plus its own files and pipes.
	if (limit < clients + 200) {
		throw new Error(`the open-file limit is ${limit}; ${clients} clients need about ${clients + 200} (raise it with ulimit -n)`);
	}
	// Names fresh for every run: a name stays registered to its first identity.
	const prefix = `k${Date.now().toString(36)}x`;
	// node's own heap settings: the young generation README suggests for a busy relay holds up to
	// 96 MiB more while traffic flows, which is not what an idle connection costs.
	const relay = await startRelayProcess(relayOptions, {nodeArgs, tuning: []});
	let generator;
	try {
		generator = await startGenerator(nodeArgs);
		const plaintext = relayOptions.transportCrypto === false;
		const started = await relay.memory();

		debug(`relay on port ${relay.port}, pid ${relay.pid}; ${handshakes} handshakes`);
		let cpu = await relay.cpu();
		const handshake = await generator.call('handshakes', {port: relay.port, count: handshakes, parallel, plaintext});
		handshake.relayCpuMicros = (await relay.cpu()) - cpu;
		// The relay notices the closed sockets at once, but give it a moment before measuring.
		await sleep(500);
		const before = await relay.memory();

		debug(`${clients} identities`);
		const identities = await generator.call('identities', {prefix, count: clients});
		debug(`${clients} logins`);
		cpu = await relay.cpu();
		const logins = await generator.call('logins', {port: relay.port, parallel, roster: false, plaintext});
		logins.relayCpuMicros = (await relay.cpu()) - cpu;
		await sleep(settleMs);
		const loaded = await relay.memory();
		const idleCensus = await generator.call('census');
		if (snapshot) console.error(`heap snapshot: ${await relay.snapshot(snapshot)}`);

		debug('relay check');
		const check = await generator
			.call('relayCheck', {port: relay.port, prefix: `${prefix}chk`, plaintext})
			.catch(error => ({ok: false, error: error.message.split('\n')[0]}));
		const afterCheck = await generator.call('census');
		debug('person check');
		const person = plaintext
			? undefined
			: await generator
					.call('personCheck', {port: relay.port, fingerprint: relay.fingerprint, prefix})
					.catch(error => ({ok: false, error: error.message.split('\n')[0]}));

		await generator.call('closeIdle');
		await sleep(500);
		const emptied = await relay.memory();

		debug(`${returning} returning logins`);
		cpu = await relay.cpu();
		const relogins = await generator.call('returningLogins', {port: relay.port, count: returning, parallel, roster: false, plaintext});
		relogins.relayCpuMicros = (await relay.cpu()) - cpu;

		const connected = logins.connected;
		const perConnection = field => (loaded[field] - before[field]) / connected;
		const rssPer = perConnection('rss');
		const withLogin = connected / logins.seconds;
		const withoutLogin = handshake.connected / handshake.seconds;
		const presenceToIdle = (afterCheck.received.user_joined ?? 0) + (afterCheck.received.user_left ?? 0);
		const otherTypes = Object.entries(afterCheck.received)
			.map(([type, count]) => `${type} ${count}`)
			.join(', ');
		const met = ok => (ok ? 'met' : 'NOT met');
		const label = `capacity ${connected.toLocaleString('en-US')}`;
		return {
			rows: [
				{
					benchmark: label,
					metric: 'connections without login',
					value: round(withoutLogin),
					unit: 'conn/s',
					note: `${handshake.connected} TCP connects + encrypted handshakes (relay hello verified), ${parallel} in progress at a time${handshake.failures ? `; ${handshake.failures} FAILED: ${handshake.firstError}` : ''}`,
				},
				{
					benchmark: label,
					metric: 'connections with login',
					value: round(withLogin),
					unit: 'conn/s',
					note: `target ≥ 1,500: ${met(withLogin >= 1500)}; connect + handshake + login (first login: registration) of ${connected} fresh users in ${round(logins.seconds, 1)} s, identities made beforehand`,
				},
				{
					benchmark: label,
					metric: 'returning users logging in',
					value: round(relogins.connected / relogins.seconds),
					unit: 'conn/s',
					note: `${relogins.connected} of the registered users again once all had left, as after a relay restart (their records known: only the login proof is checked); relay ${round(relogins.relayCpuMicros / Math.max(1, relogins.connected))} µs CPU each, the load generator ${round(relogins.cpuMicros / Math.max(1, relogins.connected))} µs${relogins.failures ? `; ${relogins.failures} FAILED: ${relogins.firstError}` : ''}`,
				},
				{
					benchmark: label,
					metric: 'relay CPU per connection',
					value: `${round(handshake.relayCpuMicros / handshake.connected)} / ${round(logins.relayCpuMicros / connected)}`,
					unit: 'µs',
					note: `without / with login: one relay core could take ${round(1e6 / (handshake.relayCpuMicros / handshake.connected))} / ${round(1e6 / (logins.relayCpuMicros / connected))} a second; the load generator used ${round(handshake.cpuMicros / handshake.connected)} / ${round(logins.cpuMicros / connected)} µs each`,
				},
				{
					benchmark: label,
					metric: 'logged-in idle clients',
					value: `${idleCensus.open} / ${clients}`,
					unit: 'clients',
					note: `${logins.failures} failed to log in${logins.firstError ? ` (${logins.firstError})` : ''}; benchmark clients log in with roster:false: no directory, no presence`,
				},
				{
					benchmark: label,
					metric: 'relay RSS after GC',
					value: `${mb(before.rss)} → ${mb(loaded.rss)}`,
					unit: 'MiB',
					note: `before the logins → with every client idle (${mb(started.rss)} at start); heap ${mb(before.heapUsed)} → ${mb(loaded.heapUsed)} MiB`,
				},
				{
					benchmark: label,
					metric: 'RSS growth per connection',
					value: kb(rssPer),
					unit: 'KiB',
					note: `target ≤ 8 KB: ${met(rssPer <= 8 * 1024)}; ${round(rssPer)} bytes; includes registering each user${connected < 5000 ? '; few clients: fixed costs dominate' : ''}`,
				},
				{
					benchmark: label,
					metric: 'heap growth per connection',
					value: kb(perConnection('heapUsed')),
					unit: 'KiB',
					note: `${round(perConnection('heapUsed'))} bytes of JS heap; external ${round(perConnection('external'))} bytes (array buffers ${round(perConnection('arrayBuffers'))})`,
				},
				{
					benchmark: label,
					metric: 'kept after all disconnect',
					value: kb((emptied.rss - before.rss) / connected),
					unit: 'KiB',
					note: `RSS per user once every client has gone (heap ${round((emptied.heapUsed - before.heapUsed) / connected)} bytes): registered users, database, allocator`,
				},
				{
					benchmark: label,
					metric: 'relay still relays',
					value: check.ok ? round(check.deliveredMs, 1) : 'FAILED',
					unit: 'ms',
					note: check.error ?? `two fresh ordinary clients while all are connected: delivered in ${round(check.deliveredMs, 1)} ms, accepted in ${round(check.acceptedMs, 1)} ms; the receiver's login took ${round(check.receiverLoginMs)} ms with a directory of ${check.receiverDirectory} users (read before the send)`,
				},
				...(person === undefined
					? []
					: [
							{
								benchmark: label,
								metric: "a person's client: logins",
								value: person.ok ? `${round(person.firstLoginMs)} / ${round(person.returningLoginMs)}` : 'FAILED',
								unit: 'ms',
								note: person.error ?? `ChatClient, first login (a registration) / again: ${person.directory} contacts listed in the welcome`,
							},
							{
								benchmark: label,
								metric: "a person's client: one message",
								value: person.ok ? round(person.oneWayMs, 1) : 'FAILED',
								unit: 'ms',
								note: person.error ?? "ChatClient to ChatClient, send() to the message shown (median of 20); both in the load generator's process, so each waits for the other's disk writes",
							},
						]),
				{
					benchmark: label,
					metric: 'presence to idle clients',
					value: presenceToIdle,
					unit: 'msgs',
					note: `roster:false clients get none (they were sent: ${otherTypes || 'nothing'}); the check's ordinary sender heard ${check.senderJoinsHeard ?? '?'} join(s)`,
				},
			],
			raw: {clients, handshakes, returning, parallel, prefix, started, before, loaded, emptied, handshake, identities, logins, relogins, idleCensus, afterCheck, check, person},
		};
	} finally {
		await generator?.stop();
		await relay.stop();
	}
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
	const {rows, raw} = await measureCapacity();
	printTable(rows);
	if (process.env.IM_TUI_BENCH_DEBUG) console.error(JSON.stringify(raw, null, 2));
}
