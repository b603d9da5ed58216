import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ChatClient} from '../../source/client/chat-client.js';
import type {ClientEvents} from '../../source/client/client-events.js';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import {newClient, next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {FakePrekeys} from '../helpers/fake-prekeys.js';
import {fakeRelay, type FakeSession} from '../helpers/fake-relay.js';
import {RawPeer} from '../helpers/raw-peer.js';
import {tempDir} from '../helpers/temp-dir.js';

/** Fast enough for tests; the defaults (0.5 s doubling to 30 s) are checked in reconnect.test.ts. */
const reconnect = {initialDelayMs: 20, maxDelayMs: 200};

type Drop = ClientEvents['reconnecting'][0];

/** Resolves with the first 'reconnecting' whose code is `code`. */
async function dropWith(client: ChatClient, code: string): Promise<Drop> {
	return new Promise(resolve => {
		const listener = (drop: Drop) => {
			if (drop.code !== code) return;
			client.off('reconnecting', listener);
			resolve(drop);
		};
		client.on('reconnecting', listener);
	});
}

/** Connects `client` and waits until it is asked for a name. */
async function askedForName(client: ChatClient): Promise<void> {
	const asked = next(client, 'login-request');
	client.connect();
	await asked;
}

async function listen(server: Server, port: number): Promise<void> {
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', resolve);
	});
}

describe('a plaintext refusal before relay_hello', () => {
	it('is unverified: a squatter claiming session_replaced after a restart does not end the client, which gets in once the relay is back', async () => {
		const relayDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const alice = await onlineClient(relay, 'alice', {reconnect});
		const closed = record(alice, 'closed');
		const refused = dropWith(alice, 'unverified_refusal');
		await relay.close('restarting');
		// whoever holds the port while the relay is down answers with a forged, hostile refusal
		const forged = `\u001B[2J\u001B]0;pwned\u0007your account was taken over \u202Eelsewhere ${'x'.repeat(1000)}`;
		const squatter = createServer(socket => {
			socket.on('error', () => {});
			socket.resume();
			socket.end(JSON.stringify({type: 'error', code: 'session_replaced', message: forged, fatal: true, ref: null}) + '\n');
		});
		await listen(squatter, relay.port);
		const drop = await refused;

		const label = `the relay at 127.0.0.1:${relay.port} refused the connection (unverified: "`;
		expect(drop.message.startsWith(`${label}session_replaced: your account was taken over elsewhere xxx`)).toBe(true);
		expect(drop.message.endsWith('x…")')).toBe(true);
		expect([...drop.message.slice(label.length, -2)]).toHaveLength(200);
		expect(drop.message).not.toMatch(/[\u0000-\u001F\u007F-\u009F\u202E]/);
		expect(alice.status).toBe('reconnecting');

		await new Promise(resolve => squatter.close(resolve));
		const back = next(alice, 'welcome', 10_000);
		await relayForTest({dataDir: relayDir, port: relay.port});
		expect((await back)[0].reconnected).toBe(true);
		expect(closed).toEqual([]);
	});

	it('server_full from the real relay is tried again as before, and the client gets in once there is room', async () => {
		const relay = await relayForTest({limits: {maxPendingConnections: 1}});
		const holder = await RawPeer.open(relay.port);
		expect(await holder.hello()).toBe('relay_hello');
		const alice = newClient(relay, {reconnect});
		const full = dropWith(alice, 'unverified_refusal');
		alice.connect();
		expect((await full).message).toBe(
			`the relay at 127.0.0.1:${relay.port} refused the connection (unverified: "server_full: the relay is busy; try again later")`,
		);
		const asked = next(alice, 'login-request', 10_000);
		holder.socket.destroy();
		await asked;
	});

	it('a code nobody knows, or a refusal with reconnect off, ends nothing but that connection', async () => {
		const squatter = createServer(socket => {
			socket.on('error', () => {});
			socket.resume();
			socket.end('{"type":"error","code":"teleported","message":"gone","fatal":true,"ref":null}\n');
		});
		await listen(squatter, 0);
		const {port} = squatter.address() as {port: number};
		const client = newClient({port, fingerprint: 'ab'.repeat(32)}, {reconnect: false});
		const closed = next(client, 'closed');
		client.connect();
		expect((await closed)[0]).toEqual({
			code: 'unverified_refusal',
			message: `the relay at 127.0.0.1:${port} refused the connection (unverified: "teleported: gone")`,
		});
		squatter.close();
	});
});

/** A user record the fake relay can serve, with real keys. */
function userRecord(username: string, online = true, keys = generateIdentity()) {
	const record = publicIdentity(keys, username);
	return {
		username,
		online,
		identity: toBase64Url(record.identity),
		x25519: toBase64Url(record.x25519),
		binding: toBase64Url(record.binding),
	};
}

type Login = {type: 'login'; username: string};

/** Asks for a name, and answers the client's login with whatever `answer` returns (messages to seal). */
function onLogin(session: FakeSession, answer: (login: Login) => object[]): void {
	session.socket.write(session.sealer.seal([{type: 'login_request'}]) + '\n');
	let answered = false;
	session.socket.on('data', () => {
		if (answered) return;
		const login = session.sent().find((message): message is Login => (message as {type?: string}).type === 'login');
		if (login === undefined) return;
		answered = true;
		session.socket.write(session.sealer.seal(answer(login)) + '\n');
	});
}

function welcome(login: Login, users: object[] = [], more?: number) {
	return {type: 'welcome', username: login.username, users, motd: null, online: [], onlineCount: 1, waiting: 0, ...(more === undefined ? {} : {more})};
}

function fakeClient(port: number, fingerprint: string, options: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}): ChatClient {
	const client = new ChatClient({
		host: '127.0.0.1',
		port,
		knownRelaysPath: join(tempDir(), 'known_relays.json'),
		dataDir: tempDir(),
		trustFingerprint: fingerprint,
		reconnect,
		...options,
	});
	return client;
}

describe('a directory larger than the client takes', () => {
	it('is not the end: the client tries again with backoff, and logs in again by itself once the directory has shrunk', async () => {
		// the first connection logs in; the next one lists a million users; the one after, fewer again
		const relay = await fakeRelay(session => {
			const index = relay.sessions.indexOf(session);
			onLogin(session, login => [welcome(login, [], index === 1 ? 1_000_000 : undefined)]);
			if (index === 0) session.socket.once('data', () => setTimeout(() => session.socket.destroy(), 50));
		});
		const alice = fakeClient(relay.port, relay.fingerprint);
		const closed = record(alice, 'closed');
		await askedForName(alice);
		const first = next(alice, 'welcome');
		alice.login('alice');
		await first;
		const tooLarge = dropWith(alice, 'directory_too_large');
		const back = next(alice, 'welcome', 10_000);
		expect((await tooLarge).message).toBe('the relay lists 1,000,000 users, more than the 200,000 this client takes');
		expect((await back)[0].reconnected).toBe(true);
		expect(relay.sessions).toHaveLength(3);
		expect(closed).toEqual([]);
		await alice.close();
	});

	it('against a real relay with more users than the limit, keeps trying rather than closing', async () => {
		const relay = await relayForTest();
		for (const name of ['bob', 'carol', 'dave']) await (await onlineClient(relay, name)).close();
		const alice = fakeClient(relay.port, relay.fingerprint, {maxDirectoryRecords: 2});
		const drops = record(alice, 'reconnecting');
		const closed = record(alice, 'closed');
		// before its first login, a client is asked for its name on each new connection
		alice.on('login-request', () => alice.login('alice'));
		alice.connect();
		await expect.poll(() => drops.length, {timeout: 5000}).toBeGreaterThanOrEqual(3);
		expect(drops.map(([drop]) => drop.code)).toEqual(drops.map(() => 'directory_too_large'));
		expect(drops.map(([drop]) => drop.attempt).slice(0, 3)).toEqual([1, 2, 3]);
		expect(closed).toEqual([]);
		await alice.close();
	});
});

describe('login refusals that pass with time', () => {
	const refusal = (code: string) => ({type: 'error', code, message: `refused for now (${code})`, fatal: false, ref: null});

	it.each(['registration_closed', 'login_throttled'])('%s at the name prompt is a login error; the connection stays for another try', async code => {
		const relay = await fakeRelay(session => {
			onLogin(session, () => [refusal(code)]);
		});
		const alice = fakeClient(relay.port, relay.fingerprint);
		const drops = record(alice, 'reconnecting');
		await askedForName(alice);
		const refused = next(alice, 'login-error');
		alice.login('alice');
		expect((await refused)[0]).toEqual({code, message: `refused for now (${code})`});
		expect(alice.status).toBe('login');
		expect(drops).toEqual([]);
		await alice.close();
	});

	it.each(['registration_closed', 'login_throttled'])('%s when logging in again by itself after a drop: tried again later, not the end', async code => {
		// logs in; drops; refuses the next login; then takes it
		const relay = await fakeRelay(session => {
			const index = relay.sessions.indexOf(session);
			onLogin(session, login => (index === 1 ? [refusal(code)] : [welcome(login)]));
			if (index === 0) session.socket.once('data', () => setTimeout(() => session.socket.destroy(), 50));
		});
		const alice = fakeClient(relay.port, relay.fingerprint);
		const errors = record(alice, 'login-error');
		const closed = record(alice, 'closed');
		await askedForName(alice);
		const first = next(alice, 'welcome');
		alice.login('alice');
		await first;
		const refused = dropWith(alice, code);
		const back = next(alice, 'welcome', 10_000);
		expect((await refused).message).toBe(`refused for now (${code})`);
		expect((await back)[0].reconnected).toBe(true);
		expect(errors).toEqual([]);
		expect(closed).toEqual([]);
		await alice.close();
	});
});

describe('quota_exceeded', () => {
	it('refuses that one message for good: it is reported with its id and never sent again', async () => {
		// bob has published prekeys: alice's first text to him is sealed once his bundle comes back
		const bobKeys = generateIdentity();
		const bob = userRecord('bob', true, bobKeys);
		const prekeys = new FakePrekeys();
		prekeys.publish('bob', bobKeys);
		const relay = await fakeRelay(session => {
			const index = relay.sessions.indexOf(session);
			onLogin(session, login => [welcome(login, [bob])]);
			prekeys.serve(session, 'alice');
			if (index !== 0) return;
			session.socket.on('data', () => {
				const send = session.sent().find((message): message is {type: 'send'; id: string} => (message as {type?: string}).type === 'send');
				if (send === undefined || session.socket.destroyed) return;
				const error = {type: 'error', code: 'quota_exceeded', message: 'you have too much stored for offline users', fatal: false, ref: send.id};
				session.socket.write(session.sealer.seal([error]) + '\n');
				setTimeout(() => session.socket.destroy(), 50);
			});
		});
		const alice = fakeClient(relay.port, relay.fingerprint);
		await askedForName(alice);
		const welcomed = next(alice, 'welcome');
		alice.login('alice');
		await welcomed;
		const refused = next(alice, 'relay-error');
		const id = alice.send('bob', 'hello');
		expect((await refused)[0]).toEqual({code: 'quota_exceeded', message: 'you have too much stored for offline users', ref: id});
		await next(alice, 'welcome', 10_000);
		// the next connection gets only what is written now: the refused envelope left the outbox
		const later = alice.send('bob', 'and this one');
		const sends = () => relay.sessions[1]!.sent().filter(message => (message as {type?: string}).type === 'send');
		await expect.poll(() => sends().length).toBeGreaterThan(0);
		expect(sends().map(message => (message as {id: string}).id)).toEqual([later]);
		await alice.close();
	});
});

describe('a relay that stops waiting for a name (login_timeout)', () => {
	it('a name given while the client is between connections waits for the next one, which is tried at once', async () => {
		const relay = await relayForTest({limits: {loginTimeoutMs: 200}});
		// a long wait before the next attempt, which login() cuts short
		const alice = newClient(relay, {reconnect: {initialDelayMs: 60_000, maxDelayMs: 60_000}});
		const asked = record(alice, 'login-request');
		const timedOut = dropWith(alice, 'login_timeout');
		alice.connect();
		await timedOut;
		expect(alice.status).toBe('reconnecting');
		const welcomed = next(alice, 'welcome');
		alice.login('alice');
		expect((await welcomed)[0].username).toBe('alice');
		// asked once, on the first connection; the second one took the name given meanwhile
		expect(asked).toHaveLength(1);
	});
});
