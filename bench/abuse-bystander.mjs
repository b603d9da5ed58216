// The bystander of `npm run bench:abuse`: an ordinary logged-in user on 127.0.0.1 (a worker thread
// in the attackers' process, so the attack's own event loop cannot delay its pongs) that sends the
// relay a `ping` every 50 ms and times each `pong`.
//
// Messages from the parent: {type: 'measure'} starts a fresh window of samples, {type: 'report'}
// ends it and is answered with {type: 'report', pings, p50, p99, max, unanswered, disconnected}.
import {performance} from 'node:perf_hooks';
import {parentPort, workerData} from 'node:worker_threads';
import {BenchClient} from './bench-client.mjs';
import {percentile} from './measure.mjs';
import {randomUsername} from './abuse-wire.mjs';

const intervalMs = 50;
const {port} = workerData;

const username = randomUsername('bystander');
let client;
try {
	client = await BenchClient.connect(port, username, {timeoutMs: 10_000});
} catch (error) {
	parentPort.postMessage({type: 'failed', message: String(error?.message ?? error)});
	process.exit(0);
}

/** nonce -> when it was sent; answered ones move to `samples` as round trips in ms. */
const outstanding = new Map();
let samples = [];
let nonce = 0;
// After the welcome, BenchClient reports a fatal error or a close through `failed`: keep the first.
let lastError = null;
client.failed = error => {
	lastError ??= String(error?.message ?? error);
};
client.onError = error => {
	lastError ??= `${error.code}: ${error.message}`;
};
client.onOther = message => {
	if (message.type !== 'pong') return;
	const sent = outstanding.get(message.nonce);
	if (sent === undefined) return;
	outstanding.delete(message.nonce);
	samples.push(performance.now() - sent);
};
const timer = setInterval(() => {
	if (client.closed) return;
	nonce += 1;
	outstanding.set(nonce, performance.now());
	client.send({type: 'ping', nonce});
}, intervalMs);

parentPort.on('message', message => {
	if (message?.type === 'measure') {
		samples = [];
		outstanding.clear();
	} else if (message?.type === 'report') {
		const now = performance.now();
		// A ping still unanswered counts for as long as it has waited so far.
		const waited = [...outstanding.values()].map(sent => now - sent).filter(ms => ms > intervalMs * 2);
		const all = [...samples, ...waited].sort((a, b) => a - b);
		parentPort.postMessage({
			type: 'report',
			pings: all.length,
			unanswered: waited.length,
			p50: percentile(all, 50),
			p99: percentile(all, 99),
			max: all.at(-1) ?? Number.NaN,
			disconnected: client.closed,
			error: lastError ?? (client.error ? String(client.error.message ?? client.error) : null),
		});
	} else if (message?.type === 'stop') {
		clearInterval(timer);
		client.close();
		parentPort.close();
	}
});
parentPort.postMessage({type: 'ready', username});
