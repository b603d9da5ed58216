// The capacity benchmark's load generator: a child process of bench/capacity.mjs, so the relay
// and the clients never share a process. It holds every client socket and answers requests over
// IPC: {id, type, ...args} -> {id, result} or {id, error}.
import {once} from 'node:events';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {BenchClient, prebuiltEnvelope, prepareIdentity} from './bench-client.mjs';
import {personClient} from './person-client.mjs';

if (typeof process.send !== 'function') {
	console.error('capacity-clients.mjs runs as a child of bench/capacity.mjs');
	process.exit(2);
}

/** A connection not done by then is given up and counted as failed, so one lost SYN cannot stall a run. */
const connectTimeoutMs = 30_000;

/** Identities made ahead of the timed logins, with their usernames. */
let prepared = [];
/** The logged-in idle clients. */
let idle = [];
/** The identities that have logged in once: registered users, for the returning logins. */
let registered = [];

/** Runs task(0 .. count-1) with at most `parallel` in progress; resolves with the failures. */
async function bounded(count, parallel, task) {
	let next = 0;
	const failures = [];
	const worker = async () => {
		while (next < count) {
			const index = next++;
			try {
				await task(index);
			} catch (error) {
				failures.push(error);
			}
		}
	};
	await Promise.all(Array.from({length: Math.min(parallel, count)}, worker));
	return failures;
}

/** This process's CPU time (user + system) since `start`, in µs. */
function cpuSince(start) {
	const {user, system} = process.cpuUsage(start);
	return user + system;
}

/** How many failed, and each distinct reason once (with its count). */
function failureSummary(failures) {
	const reasons = new Map();
	for (const failure of failures) {
		const reason = String(failure?.message ?? failure);
		reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
	}
	const firstError = reasons.size === 0 ? null : [...reasons].map(([reason, count]) => `${count}× ${reason}`).join('; ');
	return {failures: failures.length, firstError};
}

/** Destroys `clients` and waits until every socket has closed. */
async function closeAll(clients) {
	await Promise.all(
		clients.map(
			client =>
				new Promise(resolve => {
					if (client.socket.closed) resolve();
					else {
						client.socket.once('close', resolve);
						client.close();
					}
				}),
		),
	);
}

const handlers = {
	/** TCP connect plus the encrypted handshake (relay hello verified, keys derived), no login. */
	async handshakes({port, count, parallel, plaintext}) {
		const clients = [];
		const cpu = process.cpuUsage();
		const start = performance.now();
		const failures = await bounded(count, parallel, async index => {
			clients.push(await BenchClient.connect(port, `h${index}`, {login: false, plaintext, timeoutMs: connectTimeoutMs}));
		});
		const seconds = (performance.now() - start) / 1000;
		const cpuMicros = cpuSince(cpu);
		await closeAll(clients);
		return {seconds, cpuMicros, connected: clients.length, ...failureSummary(failures)};
	},

	/** Identities and their signed records for `count` fresh names: not part of any timing. */
	async identities({prefix, count}) {
		const start = performance.now();
		prepared = Array.from({length: count}, (_, index) => {
			const username = `${prefix}${index}`;
			return {username, identity: prepareIdentity(username)};
		});
		return {seconds: (performance.now() - start) / 1000, count};
	},

	/** Connect, handshake and log in every prepared identity, kept open and idle afterwards. */
	async logins({port, parallel, roster, plaintext}) {
		const clients = new Array(prepared.length);
		const cpu = process.cpuUsage();
		const start = performance.now();
		const failures = await bounded(prepared.length, parallel, async index => {
			const {username, identity} = prepared[index];
			clients[index] = await BenchClient.connect(port, username, {identity, roster, plaintext, timeoutMs: connectTimeoutMs});
		});
		const seconds = (performance.now() - start) / 1000;
		const cpuMicros = cpuSince(cpu);
		idle = clients.filter(Boolean);
		registered = prepared.filter((_, index) => clients[index] !== undefined);
		prepared = [];
		return {seconds, cpuMicros, connected: idle.length, ...failureSummary(failures)};
	},

	/**
	 * `count` of the registered users log in again, as after a relay restart: the relay knows their
	 * records, so only the login proof is checked. They are closed again afterwards.
	 */
	async returningLogins({port, count, parallel, roster, plaintext}) {
		const users = registered.slice(0, count);
		const clients = [];
		const cpu = process.cpuUsage();
		const start = performance.now();
		const failures = await bounded(users.length, parallel, async index => {
			const {username, identity} = users[index];
			clients.push(await BenchClient.connect(port, username, {identity, roster, plaintext, timeoutMs: connectTimeoutMs}));
		});
		const seconds = (performance.now() - start) / 1000;
		const cpuMicros = cpuSince(cpu);
		await closeAll(clients);
		return {seconds, cpuMicros, connected: clients.length, ...failureSummary(failures)};
	},

	/** What the idle clients were sent since they logged in, by message type, and how many are still open. */
	census() {
		const received = {};
		for (const client of idle) for (const [type, count] of client.received) received[type] = (received[type] ?? 0) + count;
		const open = idle.filter(client => !client.closed).length;
		return {open, closed: idle.length - open, received, firstError: idle.find(client => client.error)?.error?.message ?? null};
	},

	/**
	 * Two fresh ordinary clients (directory and presence on) while the idle ones are connected: one
	 * sends an envelope to the other. Resolves with how long delivery and `accepted` took.
	 */
	async relayCheck({port, prefix, plaintext}) {
		const from = `${prefix}a`;
		const to = `${prefix}b`;
		const sender = await BenchClient.connect(port, from, {plaintext, timeoutMs: connectTimeoutMs});
		const loginStart = performance.now();
		const receiver = await BenchClient.connect(port, to, {plaintext, timeoutMs: connectTimeoutMs});
		// Both have the whole directory (thousands of users in pages after the welcome) before the clock starts.
		for (const client of [sender, receiver]) {
			while (client.directoryUsers < client.directoryAnnounced && !client.closed) await new Promise(resolve => setTimeout(resolve, 5));
		}
		const loginMs = performance.now() - loginStart;
		const start = performance.now();
		const delivered = new Promise((resolve, reject) => {
			receiver.onMessage = message => resolve({ms: performance.now() - start, from: message.from});
			setTimeout(() => reject(new Error('no delivery within 10 s')), 10_000).unref();
		});
		const accepted = new Promise((resolve, reject) => {
			sender.onOther = message => {
				if (message.type === 'accepted') resolve(performance.now() - start);
			};
			sender.onError = error => reject(new Error(`${error.code}: ${error.message}`));
			setTimeout(() => reject(new Error('no accepted within 10 s')), 10_000).unref();
		});
		sender.send({...prebuiltEnvelope(to), id: 'capacity-check'});
		const [delivery, acceptedMs] = await Promise.all([delivered, accepted]);
		// Longer than a presence flush: an ordinary client hears of the other's join.
		await new Promise(resolve => setTimeout(resolve, 600));
		const result = {
			ok: delivery.from === from,
			deliveredMs: delivery.ms,
			acceptedMs,
			receiverLoginMs: loginMs,
			/** Users in the directory the receiver was sent at login (welcome and directory pages), all read before timing. */
			receiverDirectory: receiver.directoryUsers,
			senderJoinsHeard: sender.received.get('user_joined') ?? 0,
		};
		await closeAll([sender, receiver]);
		return result;
	},

	/**
	 * A person's client (ChatClient: end-to-end, its files on disk) on the loaded relay: its first
	 * login (a registration; the relay lists its contacts, none yet, or everyone on a community
	 * relay); a login again; and how long a message to another such client takes, from send() to
	 * the other's 'message' event, once it has looked the other up.
	 */
	async personCheck({port, fingerprint, prefix}) {
		const place = mkdtempSync(join(tmpdir(), 'im-tui-capacity-person-'));
		const [alice, bob] = [`${prefix}pa`, `${prefix}pb`];
		const clients = [];
		const logIn = async (username, dataDir) => {
			const {client, welcome} = await personClient({port, fingerprint}, username, dataDir);
			clients.push(client);
			return {client, directory: welcome.users.length};
		};
		try {
			let start = performance.now();
			const first = await logIn(alice, join(place, 'alice'));
			const firstLoginMs = performance.now() - start;
			const receiver = (await logIn(bob, join(place, 'bob'))).client;
			await first.client.close();
			start = performance.now();
			const sender = (await logIn(alice, join(place, 'alice'))).client;
			const returningLoginMs = performance.now() - start;
			const found = once(sender, 'found');
			sender.lookup([bob]);
			await found;
			const samples = [];
			for (let index = 0; index < 20; index++) {
				const got = once(receiver, 'message');
				start = performance.now();
				sender.send(bob, `message ${index}`);
				await got;
				samples.push(performance.now() - start);
				// Receipts and acks settle before the next one: each message starts from idle clients.
				await new Promise(resolve => setTimeout(resolve, 50));
			}
			samples.sort((a, b) => a - b);
			return {ok: true, directory: first.directory, firstLoginMs, returningLoginMs, oneWayMs: samples[samples.length >> 1]};
		} finally {
			await Promise.all(clients.map(client => client.close()));
			rmSync(place, {recursive: true, force: true});
		}
	},

	async closeIdle() {
		const count = idle.length;
		await closeAll(idle);
		idle = [];
		return {closed: count};
	},
};

process.on('message', async ({id, type, ...args}) => {
	try {
		process.send({id, result: await handlers[type](args)});
	} catch (error) {
		process.send({id, error: String(error?.stack ?? error)});
	}
});
process.on('disconnect', () => process.exit(0));
process.send({ready: true});
