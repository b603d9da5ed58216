// The attackers' process of `npm run bench:abuse` (forked by bench/abuse.mjs, pinned to its own
// CPU): runs one attack against the relay for its time, with the bystander in a worker thread.
//
// It says {type: 'hello'}, then takes from the parent {type: 'run', attack, port, sources, seconds}
// (the parent pins it to a CPU between the two). To the parent, in order:
// {type: 'phase', phase: 'start'} when the clock starts, {type: 'phase', phase: 'end'} when the
// time is up (answered by {type: 'measured'} once the parent has read the relay), then
// {type: 'result', ...}. It exits once the parent goes away.
import {performance} from 'node:perf_hooks';
import {Worker} from 'node:worker_threads';
import {attacks} from './abuse-attacks.mjs';
import {AttackConnection, sleep, Tally} from './abuse-wire.mjs';

if (typeof process.send !== 'function') {
	console.error('abuse-child.mjs runs as a child of bench/abuse.mjs');
	process.exit(2);
}
process.on('disconnect', () => process.exit(0));

const tally = new Tally();
// An attack must never end the bench: a bug in one is counted and the run goes on.
process.on('uncaughtException', error => tally.refuse(`bench error (${error?.message ?? error})`));
process.on('unhandledRejection', error => tally.refuse(`bench error (${error?.message ?? error})`));

/** The first 50 source addresses: 127.0.0.2 … 127.0.0.51 (Linux loopback takes all of 127/8). */
const sourceAddresses = count => Array.from({length: count}, (_, index) => `127.0.0.${2 + index}`);

function startBystander(port) {
	const worker = new Worker(new URL('./abuse-bystander.mjs', import.meta.url), {workerData: {port}});
	const replies = [];
	worker.on('message', message => replies.shift()?.(message));
	worker.on('error', error => replies.shift()?.({type: 'failed', message: String(error?.message ?? error)}));
	const next = () => new Promise(resolve => replies.push(resolve));
	return {
		ready: next(),
		measure: () => worker.postMessage({type: 'measure'}),
		report() {
			const reply = next();
			worker.postMessage({type: 'report'});
			return Promise.race([reply, sleep(5000).then(() => ({type: 'failed', message: 'the bystander did not report'}))]);
		},
		stop: () => worker.terminate(),
	};
}

function waitFor(type) {
	return new Promise(resolve => {
		const listener = message => {
			if (message?.type !== type) return;
			process.off('message', listener);
			resolve(message);
		};
		process.on('message', listener);
	});
}

async function run({attack: name, port, sources, seconds}) {
	const attack = attacks[name];
	const connections = new Set();
	const ctx = {
		port,
		addresses: sourceAddresses(sources),
		seconds,
		tally,
		notes: {},
		cleanups: [],
		deadline: Number.POSITIVE_INFINITY,
		running: () => performance.now() < ctx.deadline,
		/** A connection from `address`, closed by the bench when the time is up. */
		open(address, counter = tally) {
			const connection = new AttackConnection(port, address, counter);
			connections.add(connection);
			void connection.ended.then(() => connections.delete(connection));
			return connection;
		},
	};
	const bystander = startBystander(port);
	const ready = await bystander.ready;
	if (ready.type !== 'ready') return {error: `the bystander could not log in: ${ready.message}`};
	ctx.bystander = ready.username;
	ctx.deadline = performance.now() + 3600_000;
	await attack.prepare?.(ctx);
	ctx.stated = attack.stated(ctx);

	process.send({type: 'phase', phase: 'start'});
	bystander.measure();
	const cpuBefore = process.cpuUsage();
	const started = performance.now();
	ctx.deadline = started + seconds * 1000;
	attack.run(ctx);
	await sleep(Math.max(0, ctx.deadline - performance.now()));
	const cpu = process.cpuUsage(cpuBefore);
	const elapsed = (performance.now() - started) / 1000;
	const done = structuredClone(tally.toJSON());
	attack.atDeadline?.(ctx);
	const ping = await bystander.report();
	const measured = waitFor('measured');
	process.send({type: 'phase', phase: 'end'});
	await measured;

	for (const cleanup of ctx.cleanups) cleanup();
	for (const connection of connections) connection.close();
	await bystander.stop();
	return {
		stated: ctx.stated,
		unit: attack.unit,
		units: done.counts.units ?? 0,
		counts: done.counts,
		refused: done.refused,
		notes: ctx.notes,
		seconds: elapsed,
		attackerCpuMicros: cpu.user + cpu.system,
		ping,
	};
}

const asked = waitFor('run');
process.send({type: 'hello'});
const {type, ...job} = await asked;
let result;
try {
	result = await run(job);
} catch (error) {
	result = {error: String(error?.stack ?? error)};
}
process.send({type: 'result', ...result}, () => process.exit(0));
