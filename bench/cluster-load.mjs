// One load process of bench/cluster.mjs: sender/receiver pairs of headless bench clients, each
// sender keeping `window` messages on their way to its own receiver for as long as told. Forked with
// its spec as JSON in argv[2]: {loader, window, pairs: [{senderPort, receiverPort}]}; talks over IPC:
//   -> {type: 'ready'} once every client is logged in (or {type: 'error', message})
//   <- {type: 'go'}      start sending
//   <- {type: 'mark'}    start counting from here   -> {type: 'marked'}
//   <- {type: 'report'}  -> {type: 'report', delivered, refused, outOfOrder, seconds, cpuMicros, closed}: since the mark
//                          (closed: clients whose connection ended, at any time)
//   <- {type: 'stop'}    stop sending, close every client and exit
import {performance} from 'node:perf_hooks';
import {BenchClient, prebuiltEnvelopeJson} from './bench-client.mjs';

const spec = JSON.parse(process.argv[2] ?? '{}');
const clientOptions = {roster: false, timeoutMs: 30_000};
const refusalPauseMs = 20;

let sending = false;
let delivered = 0;
let refused = 0;
let outOfOrder = 0;
let markedAt = performance.now();
let markedCpu = process.cpuUsage();
const pumps = [];
const clients = [];

async function connectPair({senderPort, receiverPort}, index) {
	const from = `s${spec.loader}x${index}`;
	const to = `r${spec.loader}x${index}`;
	const receiver = await BenchClient.connect(receiverPort, to, clientOptions);
	const sender = await BenchClient.connect(senderPort, from, clientOptions);
	clients.push(sender, receiver);
	let next = 0;
	// Flow control end to end: at most `window` sent and neither received nor refused. (Not by
	// `accepted`: on PostgreSQL a relay accepts at commit, before the receiver has the message, so a
	// window of accepts would let the queue grow until the relay refuses with queue_full.)
	let settled = 0;
	let last = -1;
	// A refusal (queue_full: the relay still counts messages whose acks it has not yet committed)
	// pauses this sender as a client backing off would, instead of a storm of sends refused at once.
	let paused = false;
	const {before, after} = prebuiltEnvelopeJson(to);
	const pump = () => {
		while (sending && !paused && next - settled < spec.window) sender.sendJson(`${before}m${next++}${after}`);
	};
	sender.onOther = () => {};
	sender.onError = error => {
		if (process.env.IM_TUI_BENCH_DEBUG) console.error(error.code, error.message);
		refused += 1;
		settled += 1;
		if (paused) return;
		paused = true;
		setTimeout(() => {
			paused = false;
			pump();
		}, refusalPauseMs);
	};
	receiver.onMessage = message => {
		const number = Number(message.id.slice(1));
		if (number <= last) outOfOrder += 1;
		last = number;
		delivered += 1;
		settled += 1;
		pump();
	};
	pumps.push(pump);
}

try {
	// One pair at a time: logins in a burst would measure the relays' login path, not this.
	for (const [index, pair] of spec.pairs.entries()) await connectPair(pair, index);
	process.send({type: 'ready'});
} catch (error) {
	process.send({type: 'error', message: String(error?.message ?? error)}, () => process.exit(1));
}

process.on('message', message => {
	switch (message?.type) {
		case 'go':
			sending = true;
			for (const pump of pumps) pump();
			break;
		case 'mark':
			delivered = 0;
			refused = 0;
			outOfOrder = 0;
			markedAt = performance.now();
			markedCpu = process.cpuUsage();
			process.send({type: 'marked'});
			break;
		case 'report': {
			const cpu = process.cpuUsage(markedCpu);
			process.send({type: 'report', delivered, refused, outOfOrder, seconds: (performance.now() - markedAt) / 1000, cpuMicros: cpu.user + cpu.system, closed: clients.filter(client => client.closed).length});
			break;
		}
		case 'stop':
			sending = false;
			for (const client of clients) client.close();
			process.exit(0);
	}
});
process.on('disconnect', () => process.exit(0));
// A client whose connection ends mid-run must not end this process with an unhandled rejection.
process.on('unhandledRejection', error => {
	if (process.env.IM_TUI_BENCH_DEBUG) console.error('load:', error?.message ?? error);
});
