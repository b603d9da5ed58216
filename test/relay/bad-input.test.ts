import {describe, expect, it} from 'vitest';
import {protocolVersion} from '../../source/net/handshake.js';
import {FrameSealer} from '../../source/net/secure-channel.js';
import {meet, next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {RawPeer} from '../helpers/raw-peer.js';

/**
 * Every bad input gets a stable error code and a closed connection, and never disturbs the
 * bystanders: after each case alice and bob still chat.
 */
async function bystandersStillChat(alice: Awaited<ReturnType<typeof onlineClient>>): Promise<void> {
	const acked = next(alice, 'delivered');
	alice.send('bob', 'still here');
	await acked;
}

/** Reads frames from `first` on until `count` messages have arrived, however they were batched. */
async function collect(read: (index: number) => Promise<unknown[]>, first: number, count: number): Promise<unknown[]> {
	const messages: unknown[] = [];
	for (let index = first; messages.length < count; index++) messages.push(...(await read(index)));
	return messages;
}

function plaintextError(line: string): unknown {
	return JSON.parse(line);
}

describe('hostile input before the handshake', () => {
	const cases: Array<[string, string | Buffer, string]> = [
		['garbage', 'GET / HTTP/1.1\n', 'bad_frame'],
		['binary junk', Buffer.from([0xff, 0x00, 0xfe, 0x0a]), 'bad_frame'],
		['a JSON array', '[1,2,3]\n', 'bad_frame'],
		['the wrong message', '{"type":"login","username":"x"}\n', 'bad_frame'],
		['an older version', `{"type":"client_hello","version":${protocolVersion - 1},"ephemeral":"","random":""}\n`, 'unsupported_version'],
		['a newer version', `{"type":"client_hello","version":${protocolVersion + 1},"ephemeral":"","random":""}\n`, 'unsupported_version'],
		['a short key', `{"type":"client_hello","version":${protocolVersion},"ephemeral":"AAAA","random":"${'A'.repeat(43)}"}\n`, 'handshake_failed'],
		[
			'a padded key',
			`{"type":"client_hello","version":${protocolVersion},"ephemeral":"${'A'.repeat(43)}=","random":"${'A'.repeat(43)}"}\n`,
			'handshake_failed',
		],
		[
			'a low-order (all-zero) public key',
			`{"type":"client_hello","version":${protocolVersion},"ephemeral":"${'A'.repeat(43)}","random":"${'A'.repeat(43)}"}\n`,
			'handshake_failed',
		],
	];

	it.each(cases)('%s gets a plaintext error and a close', async (_name, bytes, code) => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		await meet(alice, await onlineClient(relay, 'bob'));
		const peer = await RawPeer.open(relay.port);
		peer.write(bytes);
		expect(plaintextError(await peer.line(0))).toMatchObject({type: 'error', code, fatal: true, ref: null});
		await peer.untilClosed();
		await bystandersStillChat(alice);
	});

	it('an oversized line is cut off at maxFrameBytes, newline or not', async () => {
		const relay = await relayForTest({limits: {maxFrameBytes: 1024}});
		const peer = await RawPeer.open(relay.port);
		peer.write('x'.repeat(1025));
		expect(plaintextError(await peer.line(0))).toMatchObject({code: 'frame_too_large'});
		await peer.untilClosed();
	});

	it('a stalled handshake times out', async () => {
		const relay = await relayForTest({limits: {handshakeTimeoutMs: 150}});
		const peer = await RawPeer.open(relay.port);
		peer.write('{"type":"client_');
		expect(plaintextError(await peer.line(0))).toMatchObject({code: 'handshake_timeout'});
		await peer.untilClosed();
	});

	it('refuses a connection past maxPendingConnections with server_full while the others are under a second old', async () => {
		const relay = await relayForTest({limits: {maxPendingConnections: 1}});
		const first = await RawPeer.open(relay.port);
		const second = await RawPeer.open(relay.port);
		expect(plaintextError(await second.line(0))).toMatchObject({code: 'server_full'});
		await second.untilClosed();
		expect(first.closed).toBe(false);
	});
});

describe('hostile input after the handshake', () => {
	async function session(limits = {}) {
		const relay = await relayForTest({limits});
		const alice = await onlineClient(relay, 'alice');
		await meet(alice, await onlineClient(relay, 'bob'));
		const peer = await RawPeer.open(relay.port);
		const channel = await peer.handshake();
		const readMessages = async (index: number) => channel.opener.open(await peer.line(index)) as Array<Record<string, unknown>>;
		expect(await readMessages(1)).toEqual([{type: 'login_request'}]);
		return {relay, alice, peer, channel, readMessages};
	}

	async function expectFatal(readMessages: (i: number) => Promise<Array<Record<string, unknown>>>, peer: RawPeer, code: string) {
		expect(await readMessages(2)).toEqual([expect.objectContaining({type: 'error', code, fatal: true})]);
		await peer.untilClosed();
	}

	it('a token that does not authenticate: bad_token', async () => {
		const {alice, peer, readMessages} = await session();
		const forged = new FrameSealer(Buffer.alloc(32, 7)).seal([{type: 'ping', nonce: 1}]);
		peer.write(forged + '\n');
		await expectFatal(readMessages, peer, 'bad_token');
		await bystandersStillChat(alice);
	});

	it('a replayed frame: bad_sequence', async () => {
		const {alice, peer, channel, readMessages} = await session();
		const frame = channel.sealer.seal([{type: 'ping', nonce: 1}]);
		peer.write(frame + '\n' + frame + '\n');
		// both answers were produced in one turn of the relay's event loop, so they share a frame
		expect(await readMessages(2)).toEqual([
			{type: 'pong', nonce: 1},
			expect.objectContaining({code: 'bad_sequence', fatal: true}),
		]);
		await peer.untilClosed();
		await bystandersStillChat(alice);
	});

	it('a dropped frame (a gap in seq): bad_sequence', async () => {
		const {peer, channel, readMessages} = await session();
		channel.sealer.seal([{type: 'ping', nonce: 1}]);
		peer.write(channel.sealer.seal([{type: 'ping', nonce: 2}]) + '\n');
		await expectFatal(readMessages, peer, 'bad_sequence');
	});

	const badBatches: Array<[string, unknown[], string]> = [
		['an unknown message type', [{type: 'teleport'}], 'bad_message'],
		['a field of the wrong type', [{type: 'login', username: 42}], 'bad_message'],
		['a login key of the wrong length', [{type: 'login', username: 'x', identity: 'AAAA', x25519: 'AAAA', binding: 'AAAA', proof: 'AAAA'}], 'bad_message'],
		['an ack before login', [{type: 'ack', deliveries: [1]}], 'not_logged_in'],
		['a message that is not an object', ['login'], 'bad_message'],
		['a malformed message id', [{type: 'send', id: 'no spaces', to: 'bob', kind: 'direct', ephemeral: 'A'.repeat(43), body: 'x'}], 'bad_message'],
		['an unknown kind', [{type: 'send', id: 'm1', to: 'bob', kind: 'group', ephemeral: 'A'.repeat(43), body: 'x'}], 'bad_message'],
		['a send before login', [{type: 'send', id: 'm1', to: 'bob', kind: 'direct', ephemeral: 'A'.repeat(43), body: 'x'}], 'not_logged_in'],
	];

	it.each(badBatches)('%s', async (_name, messages, code) => {
		const {alice, peer, channel, readMessages} = await session();
		peer.write(channel.sealer.seal(messages as object[]) + '\n');
		await expectFatal(readMessages, peer, code);
		await bystandersStillChat(alice);
	});

	it('a spoofed sender field is ignored: the relay names the authenticated sender', async () => {
		const {relay, alice, peer, channel, readMessages} = await session();
		const bob = await onlineClient(relay, 'bob2');
		await meet(alice, bob);
		const seen = record(bob, 'rejected');
		peer.write(channel.sealer.seal([RawPeer.login(channel, 'mallory')]) + '\n');
		expect((await readMessages(2))[0]).toMatchObject({type: 'welcome', username: 'mallory'});
		const rejected = next(bob, 'rejected');
		const envelope = {type: 'send', id: 'm1', to: 'bob2', kind: 'direct', ephemeral: 'A'.repeat(43), body: 'x', from: 'alice'};
		peer.write(channel.sealer.seal([envelope]) + '\n');
		expect((await rejected)[0]).toMatchObject({from: 'mallory', code: 'unauthenticated'});
		expect(seen).toHaveLength(1);
	});

	it('an oversized envelope body is refused and the connection kept', async () => {
		const {peer, channel, readMessages} = await session({maxBodyBytes: 100});
		peer.write(channel.sealer.seal([RawPeer.login(channel, 'mallory')]) + '\n');
		await readMessages(2);
		const big = {type: 'send', id: 'big', to: 'alice', kind: 'direct', ephemeral: 'A'.repeat(43), body: 'x'.repeat(101)};
		const small = {type: 'send', id: 'small', to: 'alice', kind: 'direct', ephemeral: 'A'.repeat(43), body: 'x'.repeat(100)};
		peer.write(channel.sealer.seal([big, small]) + '\n');
		const replies = await collect(readMessages, 3, 2);
		expect(replies).toEqual([
			expect.objectContaining({type: 'error', code: 'message_too_large', fatal: false, ref: 'big'}),
			expect.objectContaining({type: 'accepted', id: 'small'}),
		]);
	});

	it('an envelope for nobody registered: unknown_recipient, connection kept', async () => {
		const {peer, channel, readMessages} = await session();
		peer.write(channel.sealer.seal([RawPeer.login(channel, 'mallory')]) + '\n');
		await readMessages(2);
		const envelopes = ['dave', 'not a name!'].map((to, index) => ({
			type: 'send',
			id: `m${index}`,
			to,
			kind: 'direct',
			ephemeral: 'A'.repeat(43),
			body: 'x',
		}));
		peer.write(channel.sealer.seal(envelopes) + '\n');
		expect(await readMessages(3)).toEqual([
			expect.objectContaining({code: 'unknown_recipient', ref: 'm0', fatal: false}),
			expect.objectContaining({code: 'unknown_recipient', ref: 'm1', fatal: false}),
		]);
	});

	it('refuses invalid, reserved and badly proven logins, and lets the client retry on the same connection', async () => {
		const {peer, channel, readMessages} = await session();
		const otherConnection = {relayIdentity: channel.relayIdentity, transcript: Buffer.alloc(32, 9)};
		const attempts: Array<[unknown, string]> = [
			[{...RawPeer.login(channel, 'mallory'), username: 'has space'}, 'invalid_username'],
			[{...RawPeer.login(channel, 'mallory'), username: 'x'.repeat(33)}, 'invalid_username'],
			[{...RawPeer.login(channel, 'mallory'), username: 'System'}, 'reserved_username'],
			[{...RawPeer.login(channel, 'mallory'), username: 'mallory2'}, 'bad_login'],
			[RawPeer.login(otherConnection, 'mallory'), 'bad_login'],
			[RawPeer.login(channel, 'ALICE'), 'username_taken'],
		];
		for (const [index, [login, code]] of attempts.entries()) {
			peer.write(channel.sealer.seal([login as object]) + '\n');
			expect((await readMessages(2 + index))[0], code).toMatchObject({type: 'error', code, fatal: false});
		}
		peer.write(channel.sealer.seal([RawPeer.login(channel, 'Mallory')]) + '\n');
		expect((await readMessages(2 + attempts.length))[0]).toMatchObject({type: 'welcome', username: 'mallory'});
		peer.write(channel.sealer.seal([RawPeer.login(channel, 'mallory')]) + '\n');
		expect((await readMessages(3 + attempts.length))[0]).toMatchObject({code: 'already_logged_in'});
	});

	it('an empty batch or one over maxBatchMessages: bad_message', async () => {
		const {peer, channel, readMessages} = await session({maxBatchMessages: 4});
		peer.write(channel.sealer.seal(Array.from({length: 5}, (_, nonce) => ({type: 'ping', nonce}))) + '\n');
		await expectFatal(readMessages, peer, 'bad_message');
	});

	it('no login within loginTimeoutMs: login_timeout', async () => {
		const {peer, readMessages} = await session({loginTimeoutMs: 150});
		await expectFatal(readMessages, peer, 'login_timeout');
	});
});

describe('heartbeats', () => {
	it('drops a connection that stops answering, while a live client answers pings and stays', async () => {
		const relay = await relayForTest({limits: {heartbeatIntervalMs: 40, idleTimeoutMs: 200}});
		const bob = await onlineClient(relay, 'bob');
		const peer = await RawPeer.open(relay.port);
		const channel = await peer.handshake();
		peer.write(channel.sealer.seal([RawPeer.login(channel, 'mallory')]) + '\n');
		const left = next(bob, 'user-left');
		expect(await left).toEqual(['mallory']);
		await peer.untilClosed();
		const received = peer.lines.slice(1).flatMap(line => channel.opener.open(line) as Array<{type: string; code?: string}>);
		expect(received.map(message => message.code ?? message.type)).toEqual(
			expect.arrayContaining(['login_request', 'welcome', 'ping', 'idle_timeout']),
		);
		// bob was quiet just as long, but his client answered every ping
		expect(bob.status).toBe('online');
		expect(relay.onlineUsernames()).toEqual(['bob']);
	});
});

describe('a client that never reads', () => {
	it('is dropped once its unread output passes maxBufferedBytes, and bystanders keep chatting', async () => {
		const events: string[] = [];
		const relay = await relayForTest({
			// the rate limit is lifted so that pings alone can fill the buffer
			limits: {maxBufferedBytes: 64 * 1024, rateBurst: Infinity, ratePerSecond: Infinity},
			log: event => events.push(event),
		});
		const alice = await onlineClient(relay, 'alice');
		await meet(alice, await onlineClient(relay, 'bob'));
		const peer = await RawPeer.open(relay.port);
		const channel = await peer.handshake();
		await peer.line(1);
		// logged in: before that, a frame holds at most maxPreLoginFrameBytes
		peer.write(channel.sealer.seal([RawPeer.login(channel, 'mallory')]) + '\n');
		await peer.line(2);
		peer.socket.pause();
		const pings = Array.from({length: 1024}, (_, nonce) => ({type: 'ping', nonce}));
		const writable = () =>
			new Promise(resolve => {
				peer.socket.once('drain', resolve);
				peer.socket.once('close', resolve);
			});
		for (let frame = 0; frame < 2000 && !peer.socket.destroyed; frame++) {
			if (!peer.socket.write(channel.sealer.seal(pings) + '\n')) await writable();
		}
		peer.socket.resume();
		await peer.untilClosed(10_000);
		expect(events).toContain('slow_reader');
		await bystandersStillChat(alice);
	});
});
