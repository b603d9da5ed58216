// Relay throughput (pipelined pairs) and latency (sequential ping-pong), load generator in this
// process, relay in its own. Bodies are prebuilt opaque envelopes: this measures the relay.
import {performance} from 'node:perf_hooks';
import {BenchClient, prebuiltEnvelope} from './bench-client.mjs';
import {percentile, round} from './measure.mjs';

let runs = 0;

/** A sender and its receiver, with names fresh for every run (a name stays registered to its first identity). */
async function pair(port, index) {
	const run = `b${runs}`;
	const sender = await BenchClient.connect(port, `${run}s${index}`);
	const receiver = await BenchClient.connect(port, `${run}r${index}`);
	return {sender, receiver, to: `${run}r${index}`, from: `${run}s${index}`};
}

/** `pairs` senders each push `perPair` envelopes to their own receiver, `window` unaccepted at most. */
export async function throughput(port, {pairs, perPair, window = 200}) {
	runs += 1;
	const clients = [];
	for (let index = 0; index < pairs; index++) clients.push(await pair(port, index));
	const total = pairs * perPair;
	let delivered = 0;
	let outOfOrder = 0;
	let refused = 0;
	const start = performance.now();
	const done = new Promise(resolve => {
		for (const {sender, receiver, to} of clients) {
			let next = 0;
			let expected = 0;
			let accepted = 0;
			const template = prebuiltEnvelope(to);
			const pump = () => {
				while (next < perPair && next - accepted < window) sender.send({...template, id: `m${next++}`});
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
				if (Number(message.id.slice(1)) !== expected) outOfOrder += 1;
				expected += 1;
				delivered += 1;
				if (delivered === total - refused) resolve();
			};
			pump();
		}
	});
	const timeout = new Promise(resolve => setTimeout(resolve, 120_000));
	await Promise.race([done, timeout]);
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
export async function latency(port, {rounds = 2000} = {}) {
	runs += 1;
	const {sender: a, receiver: b, to, from} = await pair(port, 'lat');
	const template = prebuiltEnvelope(to);
	const back = prebuiltEnvelope(from);
	b.onMessage = message => b.send({...back, id: message.id});
	const samples = [];
	for (let index = 0; index < rounds + 200; index++) {
		const start = performance.now();
		await new Promise(resolve => {
			a.onMessage = resolve;
			a.send({...template, id: `p${index}`});
		});
		if (index >= 200) samples.push(((performance.now() - start) * 1000) / 2);
	}
	a.close();
	b.close();
	samples.sort((x, y) => x - y);
	return {p50: percentile(samples, 50), p99: percentile(samples, 99), rounds};
}

export function throughputRows(result, label) {
	return [
		{benchmark: label, metric: 'delivered', value: round(result.perSecond), unit: 'msg/s', note: 'target ≥ 60,000'},
		{benchmark: label, metric: 'lost / out of order', value: `${result.lost} / ${result.outOfOrder}`, unit: 'msgs', note: result.refused ? `${result.refused} refused by limits` : ''},
		{benchmark: label, metric: 'messages per frame', value: round(result.messagesPerFrame, 1), unit: 'msg', note: 'at the receivers'},
	];
}
