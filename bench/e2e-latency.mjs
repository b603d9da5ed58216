// The full path a person's message takes: ChatClient seals it end to end (X25519 + HKDF + Fernet,
// its counter saved to disk first), the relay forwards it, the other ChatClient opens it, checks
// the counter, saves it and emits it. Sequential ping-pong between two real clients; one-way is
// half the round trip.
import {once} from 'node:events';
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {ChatClient} from '../dist/net/chat-client.js';
import {percentile} from './measure.mjs';

let runs = 0;

async function onlineClient(relay, username) {
	const place = mkdtempSync(join(tmpdir(), 'im-tui-bench-client-'));
	const client = new ChatClient({
		host: '127.0.0.1',
		port: relay.port,
		knownRelaysPath: join(place, 'known_relays.json'),
		dataDir: place,
		trustFingerprint: relay.fingerprint,
		reconnect: false,
	});
	const asked = once(client, 'login-request');
	client.connect();
	await asked;
	const welcomed = once(client, 'welcome');
	client.login(username);
	await welcomed;
	return client;
}

async function until(check) {
	while (!check()) await new Promise(resolve => setTimeout(resolve, 10));
}

export async function endToEndLatency(relay, {rounds = 1000, warmup = 100} = {}) {
	runs += 1;
	const [a, b] = [`e${runs}a${process.pid}`, `e${runs}b${process.pid}`];
	const alice = await onlineClient(relay, a);
	const bob = await onlineClient(relay, b);
	await until(() => alice.contacts.some(contact => contact.username === b && contact.online));
	bob.on('message', message => bob.send(a, message.text));
	const text = 'x'.repeat(100);
	const samples = [];
	for (let index = 0; index < rounds + warmup; index++) {
		const start = performance.now();
		const back = once(alice, 'message');
		alice.send(b, text);
		await back;
		if (index >= warmup) samples.push(((performance.now() - start) * 1000) / 2);
	}
	await alice.close();
	await bob.close();
	samples.sort((x, y) => x - y);
	return {p50: percentile(samples, 50), p99: percentile(samples, 99), rounds};
}
