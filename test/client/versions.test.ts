import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {ChatClient} from '../../source/client/chat-client.js';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {next, record} from '../helpers/chat.js';
import {tempDir} from '../helpers/temp-dir.js';

const servers: Server[] = [];

afterEach(() => {
	for (const server of servers.splice(0)) server.close();
});

/** Something on a port that answers every client_hello with `frame`, and counts the connections. */
async function answering(frame: object): Promise<{port: number; connections: () => number}> {
	let connections = 0;
	const server = createServer(socket => {
		connections++;
		socket.on('error', () => {});
		socket.once('data', () => socket.write(JSON.stringify(frame) + '\n'));
	});
	servers.push(server);
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	return {port: (server.address() as {port: number}).port, connections: () => connections};
}

function clientFor(port: number): ChatClient {
	return new ChatClient({
		host: '127.0.0.1',
		port,
		knownRelaysPath: join(tempDir(), 'known_relays.json'),
		dataDir: tempDir(),
		reconnect: {initialDelayMs: 20, maxDelayMs: 20},
	});
}

describe('a relay of another protocol version', () => {
	it('a relay_hello of version 5 ends the client with unsupported_version and words a person can act on, and it does not try again', async () => {
		const key = () => toBase64Url(generateRawKeyPair('ed25519').publicRaw);
		const relay = await answering({type: 'relay_hello', version: 5, identity: key(), ephemeral: key(), signature: toBase64Url(Buffer.alloc(64))});
		const client = clientFor(relay.port);
		const reconnecting = record(client, 'reconnecting');
		const closed = next(client, 'closed');
		client.connect();
		const [reason] = await closed;
		expect(reason.code).toBe('unsupported_version');
		expect(reason.message).toBe(
			'this client speaks im-tui protocol version 4 (im-tui 0.5.0) and the relay speaks the newer version 5: upgrade im-tui (npm install -g im-tui@latest)',
		);
		await new Promise(resolve => setTimeout(resolve, 200));
		expect(reconnecting).toEqual([]);
		expect(relay.connections()).toBe(1);
	});

	it("a plaintext unsupported_version before relay_hello is shown, as the unverified claim it is, and the client keeps trying", async () => {
		const words = 'this relay speaks im-tui protocol version 5 (im-tui 0.6.0) and your im-tui speaks version 4: upgrade im-tui to 0.6.0 or later';
		const relay = await answering({type: 'error', code: 'unsupported_version', message: words, fatal: true, ref: null});
		const client = clientFor(relay.port);
		const retry = next(client, 'reconnecting');
		client.connect();
		const [reconnect] = await retry;
		expect(reconnect.code).toBe('unverified_refusal');
		expect(reconnect.message).toBe(`the relay at 127.0.0.1:${relay.port} refused the connection (unverified: "unsupported_version: ${words}")`);
		await expect.poll(() => relay.connections()).toBeGreaterThan(1);
		await client.close();
	});
});
