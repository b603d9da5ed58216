import {describe, expect, it} from 'vitest';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {encodeClientHello, newClientHello} from '../../source/net/handshake.js';
import {meet, next, onlineClient, relayForTest} from '../helpers/chat.js';
import {RawPeer} from '../helpers/raw-peer.js';

/** Writes `bytes` one at a time, a turn of the event loop apart, then keeps trickling `filler` until the socket closes. */
function trickle(peer: RawPeer, bytes: Buffer, filler: Buffer, chunk = 1): void {
	let offset = 0;
	const step = () => {
		if (peer.closed || peer.socket.destroyed) return;
		const source = offset < bytes.length ? bytes : filler;
		const start = offset < bytes.length ? offset : 0;
		peer.write(source.subarray(start, start + chunk));
		offset += chunk;
		setTimeout(step, 5);
	};
	step();
}

async function loggedIn(limits: Record<string, number>) {
	const relay = await relayForTest({limits});
	const alice = await onlineClient(relay, 'alice');
	const peer = await RawPeer.open(relay.port);
	const channel = await peer.handshake();
	const read = async (index: number) => channel.opener.open(await peer.line(index)) as Array<{type: string; code?: string}>;
	await read(1);
	peer.write(channel.sealer.seal([RawPeer.login(channel, 'mallory')]) + '\n');
	expect((await read(2))[0]!.type).toBe('welcome');
	await expect.poll(() => alice.contacts.some(contact => contact.username === 'mallory' && contact.online)).toBe(true);
	return {relay, alice, peer, read};
}

/** Every message of every frame from `first` on, until the relay closes the connection. */
async function untilClosed(peer: RawPeer, read: (index: number) => Promise<Array<{type: string; code?: string}>>, first: number) {
	await peer.untilClosed();
	const messages = [];
	for (let index = first; index < peer.lines.length; index++) messages.push(...(await read(index)));
	return messages.map(message => message.code ?? message.type);
}

describe('slowloris: bytes trickled one at a time', () => {
	it('a hello trickled without end never beats the handshake deadline: handshake_timeout', async () => {
		const relay = await relayForTest({limits: {handshakeTimeoutMs: 300}});
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		const peer = await RawPeer.open(relay.port);
		// the whole hello but its line feed, then JSON whitespace for ever
		const hello = Buffer.from(encodeClientHello(newClientHello(generateRawKeyPair('x25519'))));
		trickle(peer, hello, Buffer.from(' '));
		expect(JSON.parse(await peer.line(0, 10_000))).toMatchObject({type: 'error', code: 'handshake_timeout', fatal: true});
		await peer.untilClosed();
		const received = next(bob, 'message');
		alice.send('bob', 'unbothered');
		expect((await received)[0].text).toBe('unbothered');
	});

	it('after login, a frame trickled without a line feed is cut off at maxFrameBytes: frame_too_large', async () => {
		// Room for alice's own frames (her prekeys upload of 100 one-time keys is about 9 KB sealed), far below the default.
		const {peer, read} = await loggedIn({maxFrameBytes: 16_384});
		trickle(peer, Buffer.alloc(0), Buffer.alloc(256, 'A'), 256);
		expect(await untilClosed(peer, read, 3)).toContain('frame_too_large');
	});

	it('idleness counts whole frames: a peer trickling bytes after login is dropped as idle and shown as left', async () => {
		const {alice, peer, read} = await loggedIn({heartbeatIntervalMs: 50, idleTimeoutMs: 300});
		const left = next(alice, 'user-left', 10_000);
		trickle(peer, Buffer.alloc(0), Buffer.from('A'));
		expect((await left)[0]).toBe('mallory');
		const codes = await untilClosed(peer, read, 3);
		expect(codes).toContain('ping');
		expect(codes.at(-1)).toBe('idle_timeout');
	});
});
