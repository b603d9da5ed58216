// Relay throughput (pipelined pairs) and latency (sequential ping-pong), load generator in this
// process, relay in its own. Bodies are prebuilt opaque envelopes: this measures the relay.
import {performance} from 'node:perf_hooks';
import {BenchClient, prebuiltEnvelopeJson} from './bench-client.mjs';
import {percentile, round} from './measure.mjs';

let runs = 0;

/** A sender and its receiver, with names fresh for every run (a name stays registered to its first identity). */
async function pair(port, index, client) {
	const run = `b${runs}`;
	const sender = await BenchClient.connect(port, `${run}s${index}`, client);
	const receiver = await BenchClient.connect(port, `${run}r${index}`, client);
	return {sender, receiver, to: `${run}r${index}`, from: `${run}s${index}`};
}

/**
 * `pairs` senders each push `perPair` envelopes to their own receiver, `window` unaccepted at most
 * (below the relay's 1,000 waiting per recipient). `client` goes to BenchClient.connect.
 */
export async function throughput(port, {pairs, perPair, window = 800, client = {}}) {
	runs += 1;
	const clients = [];
	for (let index = 0; index < pairs; index++) clients.push(await pair(port, index, client));
	const total = pairs * perPair;
	let delivered = 0;
	let outOfOrder = 0;
	let refused = 0;
	const start = performance.now();
	const done = new Promise(resolve => {
		for (const {sender, receiver, to} of clients) {
			let next = 0;
			let last = -1;
			let accepted = 0;
			const {before, after} = prebuiltEnvelopeJson(to);
			const pump = () => {
				while (next < perPair && next - accepted < window) sender.sendJson(`${before}m${next++}${after}`);
			};
			sender.onOther = message => {
				if (message.type === 'accepted') {
					accepted += 1;
					pump();
				}
			};
			sender.onError = error => {
				if (process.env.IM_TUI_BENCH_DEBUG) console.error(error.code, error.message);
				refused += 1;
				accepted += 1;
				pump();
			};
			receiver.onMessage = message => {
				// refused envelopes never arrive: order is broken only if an id is not above the last one
				const number = Number(message.id.slice(1));
				if (number <= last) outOfOrder += 1;
				last = number;
				delivered += 1;
				if (delivered === total - refused) resolve();
			};
			pump();
		}
	});
	let timer;
	const timeout = new Promise(resolve => (timer = setTimeout(resolve, 120_000)));
	await Promise.race([done, timeout]);
	clearTimeout(timer);
	const seconds = (performance.now() - start) / 1000;
	const framesIn = clients.reduce((sum, {receiver}) => sum + receiver.frames, 0);
	const messagesIn = clients.reduce((sum, {receiver}) => sum + receiver.messages, 0);
	for (const {sender, receiver} of clients) {
		sender.close();
		receiver.close();
	}
	return {
		pairs,
		perPair,
		delivered,
		lost: total - refused - delivered,
		refused,
		outOfOrder,
		perSecond: delivered / seconds,
		messagesPerFrame: messagesIn / Math.max(1, framesIn),
	};
}

/** Sequential ping-pong through the relay: one-way latency is half the round trip. */
export async function latency(port, {rounds = 2000, client = {}} = {}) {
	runs += 1;
	const {sender: a, receiver: b, to, from} = await pair(port, 'lat', client);
	const there = prebuiltEnvelopeJson(to);
	const back = prebuiltEnvelopeJson(from);
	b.onMessage = message => b.sendJson(`${back.before}${message.id}${back.after}`);
	const samples = [];
	for (let index = 0; index < rounds + 200; index++) {
		const start = performance.now();
		await new Promise(resolve => {
			a.onMessage = resolve;
			a.sendJson(`${there.before}p${index}${there.after}`);
		});
		if (index >= 200) samples.push(((performance.now() - start) * 1000) / 2);
	}
	a.close();
	b.close();
	samples.sort((x, y) => x - y);
	return {p50: percentile(samples, 50), p99: percentile(samples, 99), rounds};
}

/** `relayCpuMicros`: the relay process's CPU time during the run, when measured. `note`: on the delivered row. */
export function throughputRows(result, label, relayCpuMicros, note = '') {
	return [
		{benchmark: label, metric: 'delivered', value: round(result.perSecond), unit: 'msg/s', note},
		{benchmark: label, metric: 'lost / out of order', value: `${result.lost} / ${result.outOfOrder}`, unit: 'msgs', note: result.refused ? `${result.refused} refused (queue_full: the receivers fell behind)` : ''},
		{benchmark: label, metric: 'messages per frame', value: round(result.messagesPerFrame, 1), unit: 'msg', note: 'at the receivers'},
		...(relayCpuMicros === undefined
			? []
			: [{benchmark: label, metric: 'relay CPU per message', value: round(relayCpuMicros / Math.max(1, result.delivered), 1), unit: 'µs', note: 'user + system, whole relay process'}]),
	];
}

export function latencyRows(result, label, note) {
	return [
		{benchmark: label, metric: 'one-way p50', value: round(result.p50), unit: 'µs', note},
		{benchmark: label, metric: 'one-way p99', value: round(result.p99), unit: 'µs', note: ''},
	];
}
