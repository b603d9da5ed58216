// Part 3 of bench/ratchet.mjs: a prekey fetch and a first message between real clients. Alice (a
// ChatClient here) writes to bob (a ChatClient in a process of its own, bench/person-client.mjs),
// whom she has pinned but has no session with: her text waits, `get_bundle` goes to the relay,
// the bundle comes back, X3DH, the ratchet starts, the text is sealed and sent, the relay forwards
// it, bob's client answers X3DH, opens it and emits 'message', which it tells this process over
// IPC. Then the next text in the now established session, timed the same way. Fresh users every
// round, so every first message really is one.
import {fork} from 'node:child_process';
import {once} from 'node:events';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {percentile, round} from './measure.mjs';
import {personClient} from './person-client.mjs';

async function until(check) {
	while (!check()) await new Promise(resolve => setTimeout(resolve, 5));
}

const knows = (client, name) => client.contacts.some(contact => contact.username === name);

/** The child process and the replies it sends, one queue of waiters per reply type. */
function peerProcess() {
	const child = fork(fileURLToPath(import.meta.url), ['peer'], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	const exited = once(child, 'exit');
	const waiting = new Map();
	child.on('message', message => {
		const waiter = waiting.get(message.type)?.shift();
		if (waiter) waiter(message);
	});
	const next = type =>
		Promise.race([
			new Promise(resolve => {
				if (!waiting.has(type)) waiting.set(type, []);
				waiting.get(type).push(resolve);
			}),
			exited.then(([code]) => Promise.reject(new Error(`the peer process exited (${code})`))),
		]).then(message => {
			if (message.error) throw new Error(`the peer process: ${message.error}`);
			return message;
		});
	const ask = (type, extra = {}) => {
		const reply = next(type);
		child.send({type, ...extra});
		return reply;
	};
	return {next, ask, stop: async () => (child.kill(), await exited)};
}

/**
 * `rounds` pairs of fresh users after `warmup` unrecorded ones. Returns sorted µs samples of the
 * first message and of the next one, and the IPC hop's one-way time (half an IPC round trip).
 */
export async function firstMessages(relay, {rounds = 100, warmup = 3} = {}) {
	const place = mkdtempSync(join(tmpdir(), 'im-tui-bench-first-'));
	const peer = peerProcess();
	const firsts = [];
	const nexts = [];
	try {
		await peer.next('started');
		const hops = [];
		for (let index = 0; index < 200; index++) {
			const start = performance.now();
			await peer.ask('ping');
			hops.push(((performance.now() - start) * 1000) / 2);
		}
		hops.sort((a, b) => a - b);
		for (let index = 0; index < warmup + rounds; index++) {
			const [a, b] = [`f${index}a${process.pid}`, `f${index}b${process.pid}`];
			await peer.ask('login', {port: relay.port, fingerprint: relay.fingerprint, username: b, place: join(place, b)});
			const {client: alice} = await personClient(relay, a, join(place, a));
			try {
				// Both pin each other first, so what is timed is the session, not a lookup. Bob's
				// lookup also comes after the prekeys he uploaded at his welcome: they are stored.
				await peer.ask('pin', {name: a});
				alice.lookup([b]);
				await until(() => knows(alice, b));
				const delivered = once(alice, 'delivered');
				const first = await timedSend(peer, alice, b, 'a first message');
				await delivered;
				const next = await timedSend(peer, alice, b, 'the next message');
				if (index >= warmup) firsts.push(first), nexts.push(next);
			} finally {
				await alice.close();
				await peer.ask('close');
			}
		}
		return {firsts: firsts.sort((x, y) => x - y), nexts: nexts.sort((x, y) => x - y), hop: percentile(hops, 50)};
	} finally {
		await peer.stop();
		rmSync(place, {recursive: true, force: true});
	}
}

/** µs from alice.send() to bob's 'message' event, as told over IPC. */
async function timedSend(peer, alice, to, text) {
	const received = peer.next('message');
	const start = performance.now();
	alice.send(to, text);
	const message = await received;
	const us = (performance.now() - start) * 1000;
	if (message.text !== text) throw new Error(`bob got "${message.text}" instead of "${text}"`);
	return us;
}

/** Rows of part 3. */
export async function firstMessageRows(relay, {rounds, warmup}) {
	const {firsts, nexts, hop} = await firstMessages(relay, {rounds, warmup});
	const label = 'prekey fetch + first message, full clients';
	const row = (metric, samples, note) => ({benchmark: label, metric, p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)), unit: 'µs', note});
	return [
		row('first message', firsts, `${rounds} pairs of fresh users after ${warmup}: alice.send() with no session (get_bundle, bundle, X3DH, seal, relay) until bob's client, in its own process, emits 'message' (X3DH answered, opened, committed), plus one IPC hop back (≈ ${round(hop)} µs); both accounts new, so this is each database's first session`),
		row('next message, same session', nexts, "the next text of each pair, once alice has bob's receipt: the session established, one relay hop, timed the same way"),
	];
}

/** The other end, in its own process: one fresh bob at a time; tells the parent of each message. */
function peer() {
	let client;
	const reply = message => process.send(message);
	const failed = type => error => reply({type, error: String(error?.message ?? error)});
	process.on('message', async ({type, ...request}) => {
		if (type === 'ping') reply({type: 'ping'});
		else if (type === 'login') {
			try {
				({client} = await personClient({port: request.port, fingerprint: request.fingerprint}, request.username, request.place));
				client.on('message', message => reply({type: 'message', text: message.text}));
				reply({type: 'login'});
			} catch (error) {
				failed('login')(error);
			}
		} else if (type === 'pin') {
			client.lookup([request.name]);
			until(() => knows(client, request.name)).then(() => reply({type: 'pin'}), failed('pin'));
		} else if (type === 'close') {
			client.close().then(() => reply({type: 'close'}), failed('close'));
		}
	});
	reply({type: 'started'});
}

if (process.argv[2] === 'peer') peer();
