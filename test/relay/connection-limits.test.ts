import {describe, expect, it} from 'vitest';
import {meet, next, onlineClient, relayForTest} from '../helpers/chat.js';
import {RawPeer} from '../helpers/raw-peer.js';

async function openMany(port: number, count: number, localAddress: string): Promise<RawPeer[]> {
	const peers: RawPeer[] = [];
	// one after another, so the relay accepts them in this order
	for (let index = 0; index < count; index++) peers.push(await RawPeer.open(port, localAddress));
	return peers;
}

describe('connection limits', () => {
	it('refuses connections past maxConnections with server_full', async () => {
		const relay = await relayForTest({limits: {maxConnections: 2}});
		const [first, second] = [await RawPeer.open(relay.port, '127.0.0.2'), await RawPeer.open(relay.port, '127.0.0.3')];
		const third = await RawPeer.open(relay.port, '127.0.0.4');
		expect(await third.refusal()).toBe('server_full');
		expect(first!.lines.concat(second!.lines)).toEqual([]);
	});

	it('refuses past maxConnectionsPerAddress with too_many_connections, before any handshake; other addresses still connect', async () => {
		const relay = await relayForTest({limits: {maxConnectionsPerAddress: 2}});
		const held = await openMany(relay.port, 2, '127.0.0.2');
		const refused = await RawPeer.open(relay.port, '127.0.0.2');
		expect(await refused.refusal()).toBe('too_many_connections');
		const other = await RawPeer.open(relay.port);
		const channel = await other.handshake();
		expect(channel.opener.open(await other.line(1))).toEqual([{type: 'login_request'}]);
		// a slot comes back when one of the address's connections closes
		held[0]!.socket.destroy();
		await held[0]!.untilClosed();
		await expect
			.poll(async () => {
				const again = await RawPeer.open(relay.port, '127.0.0.2');
				const answer = await again.hello();
				again.socket.destroy();
				return answer;
			})
			.toBe('relay_hello');
	});

	it('a handshake flood is held to maxConnectionsPerAddress and maxConnections, times out, and a bystander keeps chatting', async () => {
		const events: string[] = [];
		const relay = await relayForTest({
			limits: {maxConnections: 24, maxConnectionsPerAddress: 8, handshakeTimeoutMs: 3000},
			log: event => events.push(event),
		});
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		// 12 connections from each of three addresses that never send a hello (the handshake timeout
		// leaves seconds to open them all): 8 of the first and
		// of the second are held, 6 of the third fill the relay (2 slots are alice and bob)
		const flood = [
			...(await openMany(relay.port, 12, '127.0.0.2')),
			...(await openMany(relay.port, 12, '127.0.0.3')),
			...(await openMany(relay.port, 12, '127.0.0.4')),
		];
		const received = next(bob, 'message');
		alice.send('bob', 'still here during the flood');
		expect((await received)[0].text).toBe('still here during the flood');
		const codes = await Promise.all(flood.map(peer => peer.refusal()));
		expect(codes).toEqual([
			...[...Array(8).fill('handshake_timeout'), ...Array(4).fill('too_many_connections')],
			...[...Array(8).fill('handshake_timeout'), ...Array(4).fill('too_many_connections')],
			...[...Array(6).fill('handshake_timeout'), ...Array(6).fill('server_full')],
		]);
		// the timed-out slots are free again: someone new can log in, and the pair still chats
		const carol = await onlineClient(relay, 'carol');
		await meet(bob, carol);
		const again = next(carol, 'message');
		bob.send('carol', 'welcome after the flood');
		expect((await again)[0].text).toBe('welcome after the flood');
		expect(events).not.toContain('internal_error');
	});
});
