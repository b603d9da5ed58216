// The full path a person's message takes: ChatClient seals it end to end (X25519 + HKDF + Fernet,
// its counter saved to disk first), the relay forwards it, the other ChatClient opens it, checks
// the counter, saves it and emits it. Sequential ping-pong between two real clients, each in a
// process of its own as two people's would be (in one process, each client's disk writes would
// hold up the other's); one-way is half the round trip.
import {fork} from 'node:child_process';
import {once} from 'node:events';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {percentile} from './measure.mjs';
import {personClient} from './person-client.mjs';

let runs = 0;

async function until(check) {
	while (!check()) await new Promise(resolve => setTimeout(resolve, 10));
}

/** `passphrase`: both clients' account databases encrypted with it (SQLCipher). */
export async function endToEndLatency(relay, {rounds = 1000, warmup = 100, passphrase} = {}) {
	runs += 1;
	const [a, b] = [`e${runs}a${process.pid}`, `e${runs}b${process.pid}`];
	const place = mkdtempSync(join(tmpdir(), 'im-tui-bench-client-'));
	const {client: alice} = await personClient(relay, a, join(place, 'alice'), {passphrase});
	const bob = fork(fileURLToPath(import.meta.url), ['echo', JSON.stringify({port: relay.port, fingerprint: relay.fingerprint, username: b, to: a, place: join(place, 'bob'), passphrase})], {
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
	});
	const bobExited = once(bob, 'exit');
	try {
		const [ready] = await Promise.race([once(bob, 'message'), bobExited.then(([code]) => [{error: `it exited (${code})`}])]);
		if (ready.error) throw new Error(`the echoing client did not log in: ${ready.error}`);
		// On a relay past its community size nobody is listed: alice finds bob by name, as a person would.
		alice.lookup([b]);
		await until(() => alice.contacts.some(contact => contact.username === b && contact.online));
		const text = 'x'.repeat(100);
		const samples = [];
		for (let index = 0; index < rounds + warmup; index++) {
			const start = performance.now();
			const back = once(alice, 'message');
			alice.send(b, text);
			await back;
			if (index >= warmup) samples.push(((performance.now() - start) * 1000) / 2);
		}
		samples.sort((x, y) => x - y);
		return {p50: percentile(samples, 50), p99: percentile(samples, 99), rounds};
	} finally {
		await alice.close();
		bob.kill();
		await bobExited;
		rmSync(place, {recursive: true, force: true});
	}
}

/** The other end, in its own process: logs in and sends every text it receives back to its sender. */
async function echo({port, fingerprint, username, to, place, passphrase}) {
	try {
		const {client} = await personClient({port, fingerprint}, username, place, {passphrase});
		client.on('message', message => client.send(to, message.text));
		process.send({ready: true});
	} catch (error) {
		process.send({error: error.message});
	}
}

if (process.argv[2] === 'echo') await echo(JSON.parse(process.argv[3]));
