import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {formatKey, fingerprint} from '../../source/crypto/keys.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {ChatClient} from '../../source/net/chat-client.js';
import {encodeRelayHello, parseClientHello, signTranscript, transcriptHash} from '../../source/net/handshake.js';
import {next, relayForTest} from '../helpers/chat.js';
import {tempDir} from '../helpers/temp-dir.js';

function clientFor(port: number, knownRelaysPath: string, trustFingerprint?: string): ChatClient {
	return new ChatClient({host: '127.0.0.1', port, knownRelaysPath, dataDir: tempDir(), trustFingerprint});
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
		const relay = await relayForTest({limits: {loginTimeoutMs: 100}});
		const path = join(tempDir(), 'known_relays.json');
		const client = clientFor(relay.port, path);
		const asked = next(client, 'relay-unknown');
		client.connect();
		const [, decide] = await asked;
		await next(client, 'closed');
		const loginRequested = next(client, 'login-request');
		decide(true);
		await loginRequested;
		await client.close();
	});

	it('a relay_hello whose signature does not verify is refused before any pin is written', async () => {
		const identity = generateRawKeyPair('ed25519');
		const impostor = createServer(socket => {
			socket.once('data', chunk => {
				const hello = parseClientHello(chunk.toString('utf8').trim());
				const ephemeral = generateRawKeyPair('x25519');
				const hash = transcriptHash(hello, identity.publicRaw, ephemeral.publicRaw);
				const signature = signTranscript(identity.privateKey, hash);
				signature[0]! ^= 1;
				socket.write(encodeRelayHello({identity: identity.publicRaw, ephemeral: ephemeral.publicRaw, signature}) + '\n');
			});
		});
		await new Promise<void>(resolve => impostor.listen(0, '127.0.0.1', resolve));
		const port = (impostor.address() as {port: number}).port;
		const path = join(tempDir(), 'known_relays.json');
		const client = clientFor(port, path, fingerprint(identity.publicRaw));
		const unknown: unknown[] = [];
		client.on('relay-unknown', () => unknown.push(1));
		const closed = next(client, 'closed');
		client.connect();
		expect((await closed)[0].code).toBe('handshake_failed');
		expect(unknown).toEqual([]);
		expect(existsSync(path)).toBe(false);
		impostor.close();
	});

	it('says clearly when nothing listens', async () => {
		const server = createServer();
		await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
		const port = (server.address() as {port: number}).port;
		await new Promise(resolve => server.close(resolve));
		const client = clientFor(port, join(tempDir(), 'k.json'));
		const closed = next(client, 'closed');
		client.connect();
		expect((await closed)[0]).toEqual({code: 'connect_failed', message: `could not reach 127.0.0.1:${port} (ECONNREFUSED)`});
	});
});

describe('a relay that is not trusted yet', () => {
	it('is cut off, not buffered, when it floods the client while the user decides', async () => {
		const identity = generateRawKeyPair('ed25519');
		const flooder = createServer(socket => {
			socket.on('error', () => {});
			socket.once('data', chunk => {
				const hello = parseClientHello(chunk.toString('utf8').trim());
				const ephemeral = generateRawKeyPair('x25519');
				const hash = transcriptHash(hello, identity.publicRaw, ephemeral.publicRaw);
				const signature = signTranscript(identity.privateKey, hash);
				socket.write(encodeRelayHello({identity: identity.publicRaw, ephemeral: ephemeral.publicRaw, signature}) + '\n');
				for (let index = 0; index < 1000; index++) socket.write(`${'x'.repeat(1000)}\n`);
			});
		});
		await new Promise<void>(resolve => flooder.listen(0, '127.0.0.1', resolve));
		const port = (flooder.address() as {port: number}).port;
		const path = join(tempDir(), 'known_relays.json');
		const client = clientFor(port, path);
		const closed = next(client, 'closed');
		client.connect();
		expect((await closed)[0]).toEqual({code: 'refused_relay', message: 'the relay sent too much before it was trusted'});
		expect(existsSync(path)).toBe(false);
		flooder.close();
	});
});

describe('a relay that goes silent', () => {
	it('is given up on after idleTimeoutMs, with pings sent meanwhile', async () => {
		const identity = generateRawKeyPair('ed25519');
		let received = '';
		const silent = createServer(socket => {
			socket.on('error', () => {});
			socket.once('data', chunk => {
				const hello = parseClientHello(chunk.toString('utf8').trim());
				const ephemeral = generateRawKeyPair('x25519');
				const hash = transcriptHash(hello, identity.publicRaw, ephemeral.publicRaw);
				const signature = signTranscript(identity.privateKey, hash);
				socket.write(encodeRelayHello({identity: identity.publicRaw, ephemeral: ephemeral.publicRaw, signature}) + '\n');
				socket.on('data', more => (received += more.toString('utf8')));
			});
		});
		await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve));
		const port = (silent.address() as {port: number}).port;
		const client = new ChatClient({
			host: '127.0.0.1',
			port,
			knownRelaysPath: join(tempDir(), 'known_relays.json'),
			dataDir: tempDir(),
			trustFingerprint: fingerprint(identity.publicRaw),
			heartbeatIntervalMs: 40,
			idleTimeoutMs: 200,
		});
		const closed = next(client, 'closed');
		client.connect();
		expect((await closed)[0].code).toBe('idle_timeout');
		// the pings were encrypted frames: at least one line went out after the hello
		expect(received.split('\n').filter(line => line.length > 0).length).toBeGreaterThan(0);
		silent.close();
	});
});
