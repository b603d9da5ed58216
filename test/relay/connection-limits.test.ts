import {describe, expect, it} from 'vitest';
import {logIn, meet, newClient, next, onlineClient, relayForTest} from '../helpers/chat.js';
import {RawPeer} from '../helpers/raw-peer.js';
import {tempDir} from '../helpers/temp-dir.js';

async function openMany(port: number, count: number, localAddress: string): Promise<RawPeer[]> {
	const peers: RawPeer[] = [];
	// one after another, so the relay accepts them in this order
	for (let index = 0; index < count; index++) peers.push(await RawPeer.open(port, localAddress));
	return peers;
}

describe('connection limits', () => {
	it('past maxPendingConnections the oldest connection not logged in makes room once a second old (issue 11, finding 7)', async () => {
		const relay = await relayForTest({limits: {maxPendingConnections: 3}});
		const held = await openMany(relay.port, 3, '127.0.0.2');
		// all three are younger than a second: the newcomer is refused, nobody is evicted
		const early = await RawPeer.open(relay.port, '127.0.0.3');
		expect(await early.refusal()).toBe('server_full');
		await new Promise(resolve => setTimeout(resolve, 1100));
		const late = await RawPeer.open(relay.port, '127.0.0.3');
		expect(await late.hello()).toBe('relay_hello');
		expect(await held[0]!.refusal()).toBe('server_full');
		expect(held[1]!.closed || held[2]!.closed).toBe(false);
		expect(relay.stats().pendingConnections).toBe(3);
	});

	it('past maxConnections logged in, a newcomer is refused and an established account takes the place of the newcomer idle longest (issue 11)', async () => {
		const relay = await relayForTest({limits: {maxConnections: 2, establishedAfterMs: 0}});
		// alice and erin are established: registered, then used again (a second login)
		const devices = {alice: {dataDir: tempDir()}, erin: {dataDir: tempDir()}, gina: {dataDir: tempDir()}};
		for (const name of ['alice', 'erin', 'gina'] as const) {
			await (await onlineClient(relay, name, devices[name])).close();
			await (await onlineClient(relay, name, devices[name])).close();
		}
		await expect.poll(() => relay.onlineUsernames()).toEqual([]);
		const bob = await onlineClient(relay, 'bob');
		const carol = await onlineClient(relay, 'carol');
		// full: a new name is refused, and not registered
		const dave = newClient(relay);
		const daveClosed = next(dave, 'closed');
		const asked = next(dave, 'login-request');
		dave.connect();
		await asked;
		dave.login('dave');
		expect((await daveClosed)[0].code).toBe('server_full');
		expect(relay.stats()).toMatchObject({registeredUsers: 5, registrations: 5});
		// an established account gets in: bob, idle longest, gives way
		const bobClosed = next(bob, 'closed');
		const alice = await onlineClient(relay, 'alice', devices.alice);
		expect((await bobClosed)[0]).toMatchObject({code: 'server_full', message: expect.stringContaining('long-standing account')});
		expect(relay.onlineUsernames()).toEqual(['alice', 'carol']);
		const carolClosed = next(carol, 'closed');
		await onlineClient(relay, 'erin', devices.erin);
		expect((await carolClosed)[0].code).toBe('server_full');
		// an established account never takes another one's place
		const gina = newClient(relay, devices.gina);
		const ginaLeft = next(gina, 'closed');
		await expect(logIn(gina, 'gina')).rejects.toThrow();
		expect((await ginaLeft)[0].code).toBe('server_full');
		expect(relay.onlineUsernames()).toEqual(['alice', 'erin']);
		expect(relay.stats().evictions).toBe(2);
		expect(alice.status).toBe('online');
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

	it('a handshake flood is held to maxConnectionsPerAddress and maxPendingConnections, times out, and a bystander keeps chatting', async () => {
		const events: string[] = [];
		const relay = await relayForTest({
			limits: {maxPendingConnections: 20, maxConnectionsPerAddress: 8, handshakeTimeoutMs: 3000},
			log: event => events.push(event),
		});
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		// 12 connections from each of three addresses that never send a hello: 8 of each are let in
		// by address, and at most 20 of those wait at once
		const flood = [
			...(await openMany(relay.port, 12, '127.0.0.2')),
			...(await openMany(relay.port, 12, '127.0.0.3')),
			...(await openMany(relay.port, 12, '127.0.0.4')),
		];
		expect(relay.stats().pendingConnections).toBeLessThanOrEqual(20);
		const received = next(bob, 'message');
		alice.send('bob', 'still here during the flood');
		expect((await received)[0].text).toBe('still here during the flood');
		const codes = await Promise.all(flood.map(peer => peer.refusal()));
		const count = (code: string) => codes.filter(each => each === code).length;
		// 4 each from the first two addresses; the third's last 8 find every waiting slot taken
		expect(count('too_many_connections')).toBe(8);
		expect(count('handshake_timeout') + count('server_full')).toBe(28);
		expect(count('handshake_timeout')).toBeLessThanOrEqual(20);
		// the timed-out slots are free again: someone new can log in, and the pair still chats
		const carol = await onlineClient(relay, 'carol');
		await meet(bob, carol);
		const again = next(carol, 'message');
		bob.send('carol', 'welcome after the flood');
		expect((await again)[0].text).toBe('welcome after the flood');
		expect(events).not.toContain('internal_error');
	});
});
