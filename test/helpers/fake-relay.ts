import {createServer, type Server, type Socket} from 'node:net';
import {afterEach} from 'vitest';
import {fingerprint} from '../../source/crypto/keys.js';
import {generateRawKeyPair, type RawKeyPair} from '../../source/crypto/raw-keys.js';
import {
	deriveSessionKeys,
	encodeRelayHello,
	parseClientHello,
	signTranscript,
	transcriptHash,
} from '../../source/net/handshake.js';
import {FrameOpener, FrameSealer} from '../../source/net/secure-channel.js';

/** One connection to a fake relay, after its relay_hello: the test writes whatever it likes. */
export type FakeSession = {
	socket: Socket;
	/** Seals relay->client frames under this connection's key, counting seq from 0. */
	sealer: FrameSealer;
	/** The relay->client key, for hand-made tokens. */
	key: Buffer;
	/** Everything the client sent after its hello. */
	received: () => string;
	/** The messages the client sent after its hello, opened, in order (each frame is opened once). */
	sent: () => unknown[];
};

export type FakeRelay = {port: number; fingerprint: string; sessions: FakeSession[]; close(): void};

const servers: Server[] = [];

afterEach(() => {
	for (const server of servers.splice(0)) server.close();
});

/**
 * A relay that runs the real handshake (optionally with a corrupted signature) and then does only
 * what the test tells it: the client-side counterpart of RawPeer.
 */
export async function fakeRelay(
	onSession: (session: FakeSession) => void,
	options: {identity?: RawKeyPair; corruptSignature?: boolean} = {},
): Promise<FakeRelay> {
	const identity = options.identity ?? generateRawKeyPair('ed25519');
	const sessions: FakeSession[] = [];
	const server = createServer(socket => {
		socket.on('error', () => {});
		let received = '';
		socket.once('data', chunk => {
			const hello = parseClientHello(chunk.toString('utf8').trim());
			const ephemeral = generateRawKeyPair('x25519');
			const hash = transcriptHash(hello, identity.publicRaw, ephemeral.publicRaw);
			const signature = signTranscript(identity.privateKey, hash);
			if (options.corruptSignature) signature[0]! ^= 1;
			socket.write(encodeRelayHello({identity: identity.publicRaw, ephemeral: ephemeral.publicRaw, signature}) + '\n');
			socket.on('data', more => (received += more.toString('utf8')));
			const keys = deriveSessionKeys(ephemeral.privateKey, hello.ephemeral, hash);
			const key = keys.relayToClient;
			const opener = new FrameOpener(keys.clientToRelay, 1024);
			const opened: unknown[] = [];
			let read = 0;
			const sent = () => {
				const end = received.lastIndexOf('\n') + 1;
				for (const frame of received.slice(read, end).split('\n')) if (frame !== '') opened.push(...opener.open(frame));
				read = Math.max(read, end);
				return opened;
			};
			const session = {socket, sealer: new FrameSealer(key), key, received: () => received, sent};
			sessions.push(session);
			onSession(session);
		});
	});
	servers.push(server);
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	const {port} = server.address() as {port: number};
	return {port, fingerprint: fingerprint(identity.publicRaw), sessions, close: () => server.close()};
}
