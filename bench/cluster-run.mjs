// One run of one configuration of bench/cluster.mjs: its relays, the load (child processes of
// bench/cluster-load.mjs) for a warm-up and then a measured time, the CPU of the relays and of
// PostgreSQL over that time from /proc, the relays' RSS at its end, and then, with the load gone,
// one-way latency between two clients this process holds.
import {fork} from 'node:child_process';
import {once} from 'node:events';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {BenchClient, prebuiltEnvelopeJson} from './bench-client.mjs';
import {startRelays} from './cluster-relays.mjs';
import {postgresCpuMicros, processCpuMicros, processRss} from './proc-usage.mjs';

const loadScript = fileURLToPath(new URL('./cluster-load.mjs', import.meta.url));
const sleep = async ms => new Promise(resolve => setTimeout(resolve, ms));

/**
 * `configuration`: {relays, postgres}; `storeUrl`: a fresh database for it (postgres only);
 * `postmasterPid`: the server whose CPU to count (undefined: not counted); `load`: {pairs, window,
 * loaders, warmupMs, measureMs, latencyRounds}; `launcher` as startRelays takes it.
 * Pair i sends from relay i mod n to relay i+1 mod n: with two relays every message crosses, half
 * of them each way.
 */
export async function clusterRun({configuration, storeUrl, postmasterPid, load, launcher}) {
	const relays = await startRelays({count: configuration.relays, storeUrl, launcher});
	try {
		const measured = await measureLoad(relays, postmasterPid, load);
		// A latency run that fails (a refusal, a message lost) leaves the load's figures standing.
		try {
			return {...measured, latency: await oneWayLatency(relays[0].port, relays.at(-1).port, load.latencyRounds)};
		} catch (error) {
			return {...measured, latency: [], latencyError: String(error?.message ?? error)};
		}
	} finally {
		await Promise.all(relays.map(async relay => relay.stop()));
	}
}

async function measureLoad(relays, postmasterPid, {pairs, window, loaders, warmupMs, measureMs}) {
	const specs = Array.from({length: loaders}, (_, loader) => ({loader, window, pairs: []}));
	for (let index = 0; index < pairs; index++) {
		specs[index % loaders].pairs.push({senderPort: relays[index % relays.length].port, receiverPort: relays[(index + 1) % relays.length].port});
	}
	const children = specs.filter(spec => spec.pairs.length > 0).map(spec => startLoader(spec));
	try {
		await Promise.all(children.map(async child => child.ask({type: 'start'}, 'ready')));
		for (const child of children) child.tell({type: 'go'});
		await sleep(warmupMs);
		await Promise.all(children.map(async child => child.ask({type: 'mark'}, 'marked')));
		const relayCpuBefore = relays.map(relay => processCpuMicros(relay.pid));
		const postgresBefore = postmasterPid === undefined ? undefined : postgresCpuMicros(postmasterPid);
		await sleep(measureMs);
		const relayCpuAfter = relays.map(relay => processCpuMicros(relay.pid));
		const postgresAfter = postmasterPid === undefined ? undefined : postgresCpuMicros(postmasterPid);
		const rss = relays.map(relay => processRss(relay.pid));
		const reports = await Promise.all(children.map(async child => child.ask({type: 'report'}, 'report')));
		if (relayCpuAfter.includes(undefined)) throw new Error('a relay ended during the measurement');
		const delivered = sum(reports.map(report => report.delivered));
		if (delivered === 0) throw new Error(`no message was delivered in ${measureMs / 1000} s${relays.length > 1 ? ' (none crossed between the relays)' : ''}`);
		const seconds = Math.max(...reports.map(report => report.seconds));
		return {
			delivered,
			seconds,
			perSecond: delivered / seconds,
			refused: sum(reports.map(report => report.refused)),
			outOfOrder: sum(reports.map(report => report.outOfOrder)),
			closedClients: sum(reports.map(report => report.closed)),
			relayCpuMicros: sum(relayCpuAfter) - sum(relayCpuBefore),
			postgresCpuMicros: postgresBefore === undefined ? undefined : postgresAfter - postgresBefore,
			loadCpuMicros: sum(reports.map(report => report.cpuMicros)),
			rssPerRelay: rss,
		};
	} finally {
		await Promise.all(children.map(async child => child.stop()));
	}
}

/** A load process: ask() sends a message and waits for the reply of that type (or the process's failure). */
function startLoader(spec) {
	const child = fork(loadScript, [JSON.stringify(spec)], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	const exited = once(child, 'exit');
	const failed = exited.then(([code, signal]) => {
		throw new Error(`load process ${spec.loader} exited (${code ?? signal})`);
	});
	failed.catch(() => {});
	const replies = new Map();
	child.on('message', message => {
		if (message?.type === 'error') replies.get('ready')?.reject(new Error(`load process ${spec.loader}: ${message.message}`));
		replies.get(message?.type)?.resolve(message);
	});
	const reply = type =>
		new Promise((resolve, reject) => {
			replies.set(type, {resolve, reject});
		});
	// `ready` comes unasked, once the clients are logged in: listen for it from the start.
	const ready = reply('ready');
	return {
		tell: message => child.connected && child.send(message),
		async ask(message, type) {
			if (type === 'ready') return Promise.race([ready, failed]);
			const answer = reply(type);
			child.send(message);
			return Promise.race([answer, failed]);
		},
		async stop() {
			if (child.exitCode !== null || child.signalCode !== null) return;
			if (child.connected) child.send({type: 'stop'});
			const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
			await exited;
			clearTimeout(kill);
		},
	};
}

/**
 * One message at a time from a client on the relay at `senderPort` to one on `receiverPort`, both in
 * this process (one clock): send to receive, µs, after `warmup` unrecorded.
 */
async function oneWayLatency(senderPort, receiverPort, rounds, warmup = 100) {
	const options = {roster: false, timeoutMs: 30_000};
	const receiver = await BenchClient.connect(receiverPort, 'latb', options);
	const sender = await BenchClient.connect(senderPort, 'lata', options);
	const {before, after} = prebuiltEnvelopeJson('latb');
	const samples = [];
	try {
		for (let index = 0; index < rounds + warmup; index++) {
			let timer;
			const start = performance.now();
			try {
				await new Promise((resolve, reject) => {
					receiver.onMessage = resolve;
					sender.onError = error => reject(new Error(`the latency sender was refused: ${error.code}`));
					timer = setTimeout(() => reject(new Error('a latency message took over 10 s')), 10_000);
					sender.sendJson(`${before}l${index}${after}`);
				});
			} finally {
				clearTimeout(timer);
			}
			if (index >= warmup) samples.push((performance.now() - start) * 1000);
		}
	} finally {
		sender.close();
		receiver.close();
	}
	return samples;
}

const sum = values => values.reduce((total, value) => total + value, 0);
