import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {Fernet} from '../../source/crypto/fernet.js';
import {formatKey, fingerprint} from '../../source/crypto/keys.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {ChatClient} from '../../source/client/chat-client.js';
import type {ClientOptions} from '../../source/client/client-events.js';
import {protocolVersion} from '../../source/net/handshake.js';
import {FrameSealer} from '../../source/net/secure-channel.js';
import {next, record, relayForTest} from '../helpers/chat.js';
import {fakeRelay, type FakeSession} from '../helpers/fake-relay.js';
import {tempDir} from '../helpers/temp-dir.js';

function clientFor(port: number, knownRelaysPath: string, trustFingerprint?: string, reconnect?: ClientOptions['reconnect']): ChatClient {
	return new ChatClient({host: '127.0.0.1', port, knownRelaysPath, dataDir: tempDir(), trustFingerprint, reconnect});
}

/**
 * A client asked about an unknown relay that drops it before the answer (its login timeout is
 * `loginTimeoutMs`); resolves with the question's answer callback, still unanswered.
 */
async function askedByShortLivedRelay(loginTimeoutMs: number, reconnect: ClientOptions['reconnect']) {
	const relay = await relayForTest({limits: {loginTimeoutMs}});
	const path = join(tempDir(), 'known_relays.json');
	const client = clientFor(relay.port, path, undefined, reconnect);
	const asked = next(client, 'relay-unknown');
	client.connect();
	const [, decide] = await asked;
	return {path, client, decide};
}

describe('pinning the relay key on first use', () => {
	it('asks about an unknown relay, and a yes pins the whole key in a 0600 file', async () => {
		const relay = await relayForTest();
		const path = join(tempDir(), 'config', 'known_relays.json');
		const client = clientFor(relay.port, path);
		const asked = next(client, 'relay-unknown');
		client.connect();
		const [info, decide] = await asked;
		expect(info).toEqual({host: '127.0.0.1', port: relay.port, fingerprint: relay.fingerprint});
		expect(existsSync(path)).toBe(false);
		const loginRequested = next(client, 'login-request');
		decide(true);
		await loginRequested;
		expect(statSync(path).mode & 0o777).toBe(0o600);
		expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({[`127.0.0.1:${relay.port}`]: toBase64Url(relay.publicKey)});
		await client.close();

		const again = clientFor(relay.port, path);
		const unknown: unknown[] = [];
		again.on('relay-unknown', () => unknown.push(1));
		const secondLogin = next(again, 'login-request');
		again.connect();
		await secondLogin;
		expect(unknown).toEqual([]);
		await again.close();
	});

	it('a no refuses the relay and pins nothing', async () => {
		const relay = await relayForTest();
		const path = join(tempDir(), 'known_relays.json');
		const client = clientFor(relay.port, path);
		const asked = next(client, 'relay-unknown');
		client.connect();
		const [, decide] = await asked;
		const closed = next(client, 'closed');
		decide(false);
		expect((await closed)[0].code).toBe('refused_relay');
		expect(existsSync(path)).toBe(false);
	});

	it('a changed key is refused with a warning and the pin is left alone', async () => {
		const relay = await relayForTest();
		const path = join(tempDir(), 'known_relays.json');
		const other = generateRawKeyPair('ed25519').publicRaw;
		const pins = JSON.stringify({[`127.0.0.1:${relay.port}`]: toBase64Url(other)});
		writeFileSync(path, pins, {mode: 0o600});
		const client = clientFor(relay.port, path, relay.fingerprint);
		const changed = next(client, 'relay-changed');
		const closed = next(client, 'closed');
		client.connect();
		const [info, pinned] = await changed;
		expect(info.fingerprint).toBe(relay.fingerprint);
		expect(pinned).toBe(fingerprint(other));
		expect((await closed)[0].code).toBe('refused_relay');
		expect(readFileSync(path, 'utf8')).toBe(pins);
	});

	it('--trust pre-trusts a matching fingerprint (spaces and case ignored) and refuses another', async () => {
		const relay = await relayForTest();
		const path = join(tempDir(), 'known_relays.json');
		const good = clientFor(relay.port, path, formatKey(relay.fingerprint).toUpperCase());
		const welcomed = next(good, 'login-request');
		good.connect();
		await welcomed;
		await good.close();
		expect(existsSync(path)).toBe(true);

		const otherPath = join(tempDir(), 'known_relays.json');
		const bad = clientFor(relay.port, otherPath, 'ab'.repeat(32));
		const closed = next(bad, 'closed');
		bad.connect();
		expect((await closed)[0].code).toBe('refused_relay');
		expect(existsSync(otherPath)).toBe(false);
	});

	it('a trust answer that comes after the relay gave up reconnects by itself', async () => {
		const {path, client, decide} = await askedByShortLivedRelay(100, false);
		await next(client, 'closed');
		const loginRequested = next(client, 'login-request');
		decide(true);
		await loginRequested;
		await client.close();
	});

	it('a yes given while the client waits to try again is used by the next attempt, which asks nothing', async () => {
		const {path, client, decide} = await askedByShortLivedRelay(100, {initialDelayMs: 200, maxDelayMs: 200});
		const unknown = record(client, 'relay-unknown');
		await next(client, 'reconnecting');
		const loginRequested = next(client, 'login-request');
		decide(true);
		await loginRequested;
		expect(unknown).toEqual([]);
		expect(existsSync(path)).toBe(true);
		await client.close();
	});

	it('a no given while the client waits to try again ends it for good', async () => {
		const {path, client, decide} = await askedByShortLivedRelay(100, {initialDelayMs: 200, maxDelayMs: 200});
		await next(client, 'reconnecting');
		const closed = next(client, 'closed');
		decide(false);
		expect((await closed)[0]).toEqual({code: 'refused_relay', message: 'you did not trust the relay'});
		expect(client.status).toBe('closed');
		expect(client.reconnectAt).toBeUndefined();
		expect(existsSync(path)).toBe(false);
	});

	it('a yes to an earlier question goes on with the connection that asked again', async () => {
		const {path, client, decide} = await askedByShortLivedRelay(300, {initialDelayMs: 20, maxDelayMs: 20});
		await next(client, 'reconnecting');
		await next(client, 'relay-unknown');
		const loginRequested = next(client, 'login-request');
		decide(true);
		await loginRequested;
		await client.close();
	});

	it('a relay_hello whose signature does not verify is refused before any pin is written', async () => {
		const impostor = await fakeRelay(() => {}, {corruptSignature: true});
		const path = join(tempDir(), 'known_relays.json');
		const client = clientFor(impostor.port, path, impostor.fingerprint);
		const unknown: unknown[] = [];
		client.on('relay-unknown', () => unknown.push(1));
		const closed = next(client, 'closed');
		client.connect();
		expect((await closed)[0].code).toBe('handshake_failed');
		expect(unknown).toEqual([]);
		expect(existsSync(path)).toBe(false);
	});

	it('says clearly when nothing listens', async () => {
		const server = createServer();
		await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
		const port = (server.address() as {port: number}).port;
		await new Promise(resolve => server.close(resolve));
		const client = clientFor(port, join(tempDir(), 'k.json'), undefined, false);
		const closed = next(client, 'closed');
		client.connect();
		expect((await closed)[0]).toEqual({code: 'connect_failed', message: `could not reach 127.0.0.1:${port} (ECONNREFUSED)`});
	});
});

describe('a relay that is not trusted yet', () => {
	it('is cut off, not buffered, when it floods the client while the user decides', async () => {
		const flooder = await fakeRelay(({socket}) => {
			for (let index = 0; index < 1000; index++) socket.write(`${'x'.repeat(1000)}\n`);
		});
		const path = join(tempDir(), 'known_relays.json');
		const client = clientFor(flooder.port, path);
		const closed = next(client, 'closed');
		client.connect();
		expect((await closed)[0]).toEqual({code: 'refused_relay', message: 'the relay sent too much before it was trusted'});
		expect(existsSync(path)).toBe(false);
	});
});

describe('a relay that goes silent', () => {
	it('is given up on after idleTimeoutMs, with pings sent meanwhile', async () => {
		const silent = await fakeRelay(() => {});
		const client = new ChatClient({
			host: '127.0.0.1',
			port: silent.port,
			knownRelaysPath: join(tempDir(), 'known_relays.json'),
			dataDir: tempDir(),
			trustFingerprint: silent.fingerprint,
			heartbeatIntervalMs: 40,
			idleTimeoutMs: 200,
			reconnect: false,
		});
		const closed = next(client, 'closed');
		client.connect();
		expect((await closed)[0].code).toBe('idle_timeout');
		const session = silent.sessions[0]!;
		const pings = session.received().split('\n').filter(line => line.length > 0);
		expect(pings.length).toBeGreaterThan(0);
	});
});

describe('a relay that breaks the protocol after the handshake', () => {
	async function clientOf(relay: Awaited<ReturnType<typeof fakeRelay>>) {
		const client = clientFor(relay.port, join(tempDir(), 'known_relays.json'), relay.fingerprint);
		const closed = next(client, 'closed');
		client.connect();
		return (await closed)[0].code;
	}

	it.each([
		['a token under another key', () => new FrameSealer(Buffer.alloc(32, 1)).seal([{type: 'login_request'}]), 'bad_token'],
		['a replayed frame', (session: FakeSession) => {
			const frame = session.sealer.seal([{type: 'login_request'}]);
			return `${frame}\n${frame}`;
		}, 'bad_sequence'],
		['a skipped frame', (session: FakeSession) => {
			session.sealer.seal([{type: 'login_request'}]);
			return session.sealer.seal([{type: 'login_request'}]);
		}, 'bad_sequence'],
		['a batch of another version', (session: FakeSession) => new Fernet(session.key).encrypt(`{"v":${protocolVersion + 1},"seq":0,"msgs":[{"type":"login_request"}]}`), 'unsupported_version'],
		['a batch that is not JSON', (session: FakeSession) => new Fernet(session.key).encrypt('not json'), 'bad_message'],
		['a batch that is a JSON array', (session: FakeSession) => new Fernet(session.key).encrypt('[1,2]'), 'bad_message'],
		['an unknown message', (session: FakeSession) => session.sealer.seal([{type: 'teleport'}]), 'bad_message'],
		['a welcome for a login never sent', (session: FakeSession) => session.sealer.seal([{type: 'welcome', username: 'alice', users: [], motd: null}]), 'bad_message'],
	])('%s closes the connection with %s', async (_name, frame, code) => {
		const relay = await fakeRelay(session => session.socket.write(frame(session) + '\n'));
		expect(await clientOf(relay)).toBe(code);
	});
});

describe('a relay that lies in its welcome', () => {
	async function welcomeWith(extra: object[], more: number) {
		const relay = await fakeRelay(session => {
			session.socket.write(session.sealer.seal([{type: 'login_request'}]) + '\n');
			session.socket.once('data', () => {
				const welcome = {type: 'welcome', username: 'alice', users: [], motd: null, more, online: [], onlineCount: 1, waiting: 0};
				session.socket.write(session.sealer.seal([welcome, ...extra]) + '\n');
			});
		});
		const client = clientFor(relay.port, join(tempDir(), 'known_relays.json'), relay.fingerprint, false);
		const closed = next(client, 'closed');
		const asked = next(client, 'login-request');
		client.connect();
		await asked;
		client.login('alice');
		return (await closed)[0].code;
	}

	it('announcing a directory larger than the client takes ends the connection with directory_too_large (tried again, with reconnect on)', async () => {
		expect(await welcomeWith([], 1_000_000)).toBe('directory_too_large');
	});

	it('a message before the announced directory is complete is a bad_message', async () => {
		const message = {type: 'message', delivery: 1, from: 'bob', time: 1, id: 'm1', to: 'alice', kind: 'direct', ephemeral: 'A'.repeat(43), body: 'x'};
		expect(await welcomeWith([message], 5)).toBe('bad_message');
	});
});
