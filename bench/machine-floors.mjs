// What this machine allows before any of our own work: the floors that the login-rate and latency
// targets have to fit above. Each figure is a loop over node:crypto or plain sockets, not the relay.
import {fork} from 'node:child_process';
import {connect, createServer} from 'node:net';
import {availableParallelism} from 'node:os';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {toBase64Url} from '../dist/crypto/base64url.js';
import {Fernet} from '../dist/crypto/fernet.js';
import {generateIdentity, loginProof, publicIdentity} from '../dist/crypto/identity.js';
import {generateRawKeyPair} from '../dist/crypto/raw-keys.js';
import {deriveSessionKeys, newClientHello, signTranscript, transcriptHash, verifyTranscript} from '../dist/net/handshake.js';
import {parseClientMessage} from '../dist/net/messages.js';
import {checkLogin} from '../dist/relay/login-check.js';
import {opsPerSecond, percentile, round} from './measure.mjs';

const cores = availableParallelism();

/** µs per call of `operation`, in a loop. */
const microsEach = operation => 1e6 / opsPerSecond(operation, {ms: 1000});

/**
 * The crypto of one login as the relay's and the client's code do it (handshake.ts, identity.ts,
 * login-check.ts), without sockets, JSON frames or the database.
 */
function loginCrypto() {
	const relayIdentity = generateRawKeyPair('ed25519');
	const client = generateIdentity();
	const record = publicIdentity(client, 'floor');
	const stored = {identity: toBase64Url(record.identity), x25519: toBase64Url(record.x25519), binding: toBase64Url(record.binding)};
	const hello = newClientHello(generateRawKeyPair('x25519'));
	const relaySide = () => {
		const ephemeral = generateRawKeyPair('x25519');
		const hash = transcriptHash(hello, relayIdentity.publicRaw, ephemeral.publicRaw);
		deriveSessionKeys(ephemeral.privateKey, hello.ephemeral, hash);
		signTranscript(relayIdentity.privateKey, hash);
		return hash;
	};
	// The client's proof is made outside the timed relay work: it is the load generator's share.
	const hash = relaySide();
	const login = parseClientMessage({type: 'login', username: 'floor', ...stored, proof: toBase64Url(loginProof(client, relayIdentity.publicRaw, hash, 'floor'))});
	const check = registered => {
		const verdict = checkLogin(login, {relayIdentity: relayIdentity.publicRaw, transcriptHash: hash, registered: () => registered});
		if (!verdict.ok) throw new Error(`the floor's login did not verify: ${verdict.message}`);
	};
	const relayHandshake = microsEach(relaySide);
	const relayFirst = relayHandshake + microsEach(() => check(undefined));
	const relayReturning = relayHandshake + microsEach(() => check(stored));
	// The client's share with its identity made beforehand, as the capacity benchmark's clients have it.
	const relayEphemeral = generateRawKeyPair('x25519');
	const signature = signTranscript(relayIdentity.privateKey, transcriptHash(newClientHello(relayEphemeral), relayIdentity.publicRaw, relayEphemeral.publicRaw));
	const clientSide = microsEach(() => {
		const ephemeral = generateRawKeyPair('x25519');
		const hello = newClientHello(ephemeral);
		const hash = transcriptHash(hello, relayIdentity.publicRaw, relayEphemeral.publicRaw);
		// A signature over another transcript: verifying it costs the same, and the result is not used.
		verifyTranscript(relayIdentity.publicRaw, hash, signature);
		deriveSessionKeys(ephemeral.privateKey, relayEphemeral.publicRaw, hash);
		loginProof(client, relayIdentity.publicRaw, hash, 'floor');
	});
	return {relayFirst, relayReturning, clientSide};
}

/**
 * Plain TCP connections with one 200-byte exchange each, 100 at a time, all kept open until the end
 * (`count` open files in each process); the server in a child process.
 */
async function plainConnections(count = 10_000) {
	const server = await echoServer();
	try {
		const serverBefore = await server.cpu();
		const mine = process.cpuUsage();
		const start = performance.now();
		let started = 0;
		let done = 0;
		// Kept open, as the capacity run's clients are.
		const sockets = [];
		await new Promise((resolve, reject) => {
			const one = () => {
				if (started >= count) return;
				started += 1;
				const socket = connect(server.port, '127.0.0.1');
				socket.setNoDelay(true);
				sockets.push(socket);
				socket.once('error', reject);
				socket.once('connect', () => socket.write('x'.repeat(200)));
				socket.once('data', () => {
					done += 1;
					if (done === count) resolve();
					else one();
				});
			};
			for (let index = 0; index < 100; index++) one();
		});
		const seconds = (performance.now() - start) / 1000;
		const {user, system} = process.cpuUsage(mine);
		const serverMicros = (await server.cpu()) - serverBefore;
		for (const socket of sockets) socket.destroy();
		return {perSecond: count / seconds, coreMicrosEach: (user + system + serverMicros) / count};
	} finally {
		server.stop();
	}
}

/**
 * One-way latency of two plain TCP hops, A → echo process → B → echo process → A, with A and B in
 * this process: the relay's ping-pong path with no work done at any step.
 */
async function plainTwoHops(rounds = 5000) {
	const server = await echoServer('forward');
	try {
		const open = async count => {
			const socket = connect(server.port, '127.0.0.1');
			socket.setNoDelay(true);
			await new Promise(resolve => socket.once('connect', resolve));
			await server.accepted(count);
			return socket;
		};
		const a = await open(1);
		const b = await open(2);
		b.on('data', data => b.write(data));
		const payload = Buffer.alloc(600, 97);
		const samples = [];
		for (let index = 0; index < rounds + 500; index++) {
			const start = performance.now();
			await new Promise(resolve => {
				a.once('data', resolve);
				a.write(payload);
			});
			if (index >= 500) samples.push((performance.now() - start) * 500);
		}
		a.destroy();
		b.destroy();
		samples.sort((x, y) => x - y);
		return {p50: percentile(samples, 50), p99: percentile(samples, 99)};
	} finally {
		server.stop();
	}
}

/** The same work timed hot (back to back) and right after the thread slept 200 µs, as a relay does between frames. */
function afterWakeUp() {
	const sleeper = new Int32Array(new SharedArrayBuffer(4));
	const median = (operation, sleepMicros) => {
		const samples = [];
		for (let index = 0; index < 3000; index++) {
			if (sleepMicros) Atomics.wait(sleeper, 0, 0, sleepMicros / 1000);
			const start = performance.now();
			operation();
			samples.push((performance.now() - start) * 1000);
		}
		samples.sort((x, y) => x - y);
		return percentile(samples, 50);
	};
	const fernet = new Fernet(Buffer.alloc(32, 7));
	const frame = Buffer.from(JSON.stringify([{type: 'send', id: 'p1', to: 'bob', kind: 'direct', ephemeral: 'A'.repeat(43), body: 'g'.repeat(340)}]));
	const token = fernet.encrypt(frame);
	const text = frame.toString();
	const operations = {
		encrypt: () => fernet.encrypt(frame),
		decrypt: () => fernet.decrypt(token),
		parse: () => JSON.parse(text),
	};
	const result = {frameBytes: frame.length};
	for (const [name, operation] of Object.entries(operations)) {
		median(operation, 0);
		result[name] = [median(operation, 0), median(operation, 200)];
	}
	return result;
}

/** A plain TCP server in a child process: 'echo' writes back what it reads, 'forward' passes it to the other connection. */
async function echoServer(mode = 'echo') {
	const child = fork(fileURLToPath(import.meta.url), ['serve', mode], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	const replies = [];
	child.on('message', message => replies.shift()?.(message));
	const next = () => new Promise(resolve => replies.push(resolve));
	const {port} = await next();
	return {
		port,
		/** Resolves once the server holds `count` connections. */
		accepted: count => {
			const reply = next();
			child.send({accepted: count});
			return reply;
		},
		cpu: async () => {
			const reply = next();
			child.send('cpu');
			return (await reply).micros;
		},
		stop: () => child.kill(),
	};
}

function serve(mode) {
	const sockets = [];
	const server = createServer({noDelay: true}, socket => {
		socket.setNoDelay(true);
		socket.on('error', () => socket.destroy());
		sockets.push(socket);
		socket.on('data', data => {
			if (mode === 'echo') socket.write(data);
			else (sockets[0] === socket ? sockets[1] : sockets[0])?.write(data);
		});
	});
	server.listen(0, '127.0.0.1', 4096, () => process.send({port: server.address().port}));
	process.on('message', async message => {
		if (message === 'cpu') {
			const {user, system} = process.cpuUsage();
			process.send({micros: user + system});
		} else if (message?.accepted) {
			while (sockets.length < message.accepted) await new Promise(resolve => setImmediate(resolve));
			process.send({});
		}
	});
}

export async function machineFloors({quick = false} = {}) {
	const crypto = loginCrypto();
	const tcp = await plainConnections(quick ? 1000 : 10_000);
	const hops = await plainTwoHops(quick ? 500 : 5000);
	const wake = afterWakeUp();
	const ceiling = relayMicros => (cores * 1e6) / (relayMicros + crypto.clientSide + tcp.coreMicrosEach);
	const label = 'this machine';
	const wakeFigure = ([hot, woken]) => `${round(hot, 1)} → ${round(woken, 1)}`;
	return [
		{benchmark: label, metric: 'login crypto, relay', value: `${round(crypto.relayFirst)} / ${round(crypto.relayReturning)}`, unit: 'µs', note: 'first / returning login: key exchange, transcript signature, proof check, and for a first login the binding check; in a loop'},
		{benchmark: label, metric: 'login crypto, client', value: round(crypto.clientSide), unit: 'µs', note: "its key exchange, the relay's signature checked, the login proof; identity made beforehand"},
		{benchmark: label, metric: 'plain TCP connections', value: round(tcp.perSecond), unit: 'conn/s', note: `connect and one 200-byte exchange, 100 at a time, kept open like the capacity run's: ${round(tcp.coreMicrosEach)} µs of CPU each, both processes`},
		{
			benchmark: label,
			metric: 'login ceiling',
			value: `${round(ceiling(crypto.relayFirst))} / ${round(ceiling(crypto.relayReturning))}`,
			unit: 'logins/s',
			note: `first / returning: ${cores} cores ÷ (the three lines above), if JSON, framing, the database and the event loops cost nothing`,
		},
		{benchmark: label, metric: 'plain two-hop one-way p50 / p99', value: `${round(hops.p50)} / ${round(hops.p99)}`, unit: 'µs', note: 'the ping-pong path through a process that only forwards bytes'},
		{benchmark: label, metric: 'after a wake-up: Fernet encrypt', value: wakeFigure(wake.encrypt), unit: 'µs', note: `a ${wake.frameBytes}-byte frame of one message, back to back → right after a 200 µs sleep (medians)`},
		{benchmark: label, metric: 'after a wake-up: Fernet decrypt', value: wakeFigure(wake.decrypt), unit: 'µs', note: 'the same frame, likewise'},
		{benchmark: label, metric: 'after a wake-up: JSON.parse', value: wakeFigure(wake.parse), unit: 'µs', note: 'the same frame, likewise: not only crypto slows'},
	];
}

if (process.argv[2] === 'serve') serve(process.argv[3]);
