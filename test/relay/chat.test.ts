import {describe, expect, it} from 'vitest';
import {meet, next, registerOffline, newClient, onlineClient, record, relayForTest} from '../helpers/chat.js';

describe('relay with headless clients on 127.0.0.1', () => {
	it('asks for a username, welcomes with every registered user and tells the others', async () => {
		const relay = await relayForTest({motd: 'be kind'});
		const alice = await onlineClient(relay, 'alice');
		await registerOffline(relay, 'carol', [alice]);
		const joined = next(alice, 'user-joined');
		const bob = newClient(relay);
		const asked = next(bob, 'login-request');
		bob.connect();
		await asked;
		const welcomed = next(bob, 'welcome');
		bob.login('Bob');
		const [welcome] = await welcomed;
		expect(welcome).toEqual({
			username: 'bob',
			users: [
				{username: 'alice', online: true, verified: false, keyChanged: false},
				{username: 'carol', online: false, verified: false, keyChanged: false},
			],
			motd: 'be kind',
			online: ['alice'],
			onlineCount: 2,
			waiting: 0,
		});
		expect(await joined).toEqual([{username: 'bob', online: true, verified: false, keyChanged: false}]);
		expect(bob.username).toBe('bob');
		expect(relay.onlineUsernames()).toEqual(['alice', 'bob']);
	});

	it('delivers a message end to end: stored by the relay, then a receipt from the recipient', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const carol = await onlineClient(relay, 'carol');
		await meet(alice, bob, carol);
		const carolSaw = record(carol, 'message');
		const received = next(bob, 'message');
		const accepted = next(alice, 'accepted');
		const delivered = next(alice, 'delivered');
		const id = alice.send('bob', 'hello bob ✓');
		const [message] = await received;
		expect(message).toMatchObject({id, from: 'alice', to: 'bob', kind: 'direct', text: 'hello bob ✓'});
		expect(message.time).toBeGreaterThan(Date.now() - 60_000);
		expect(message.sent).toBeGreaterThan(Date.now() - 60_000);
		expect((await accepted)[0].id).toBe(id);
		expect((await delivered)[0]).toEqual({id, by: 'bob'});
		// a round trip to carol proves she had every chance to receive a stray copy
		const ping = next(carol, 'message');
		bob.send('carol', 'are you there');
		await ping;
		expect(carolSaw.map(([m]) => m.text)).toEqual(['are you there']);
	});

	it('keeps many messages in order (the rate limit lifted, as a benchmark would)', async () => {
		const relay = await relayForTest({limits: {rateBurst: Infinity, ratePerSecond: Infinity}});
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		const texts = Array.from({length: 300}, (_, i) => `message ${i}`);
		const seen = record(bob, 'message');
		const receipts = record(alice, 'delivered');
		for (const text of texts) alice.send('bob', text);
		while (receipts.length < texts.length) await next(alice, 'delivered');
		expect(seen.map(([m]) => m.text)).toEqual(texts);
		expect(record(bob, 'gap')).toEqual([]);
	});

	it('splits a burst of the largest messages into frames that fit, and refuses a longer one before spending a counter', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		// control characters cost six bytes each once JSON-escaped: the worst case for size
		const texts = Array.from({length: 12}, (_, i) => String.fromCharCode(1 + i).repeat(8192));
		const seen = record(bob, 'message');
		const gaps = record(bob, 'gap');
		expect(() => alice.send('bob', 'x'.repeat(8193))).toThrow(/at most 8192 bytes/);
		for (const text of texts) alice.send('bob', text);
		while (seen.length < texts.length) await next(bob, 'message');
		expect(seen.map(([m]) => m.text)).toEqual(texts);
		expect(gaps).toEqual([]);
	});

	it('sends to everyone online, one copy each, each encrypted for its recipient', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const carol = await onlineClient(relay, 'carol');
		await meet(alice, bob, carol);
		await registerOffline(relay, 'dave', [alice]);
		const [b, c] = [next(bob, 'message'), next(carol, 'message')];
		const receipts = record(alice, 'delivered');
		const {id, recipients} = alice.sendToEveryone('hello all');
		expect(recipients).toEqual(['bob', 'carol']);
		expect((await b)[0]).toMatchObject({id, from: 'alice', to: 'bob', kind: 'everyone', text: 'hello all'});
		expect((await c)[0]).toMatchObject({id, from: 'alice', to: 'carol', kind: 'everyone', text: 'hello all'});
		while (receipts.length < 2) await next(alice, 'delivered');
		expect(receipts.map(([receipt]) => receipt.by).sort()).toEqual(['bob', 'carol']);
	});

	it('refuses invalid and reserved names before asking the relay, and taken names from the relay', async () => {
		const relay = await relayForTest();
		await onlineClient(relay, 'alice');
		const client = newClient(relay);
		const asked = next(client, 'login-request');
		client.connect();
		await asked;
		const attempts: Array<[string, string]> = [
			['', 'invalid_username'],
			['has space', 'invalid_username'],
			['émile', 'invalid_username'],
			['System', 'reserved_username'],
			['ALICE', 'username_taken'],
		];
		for (const [name, code] of attempts) {
			const refused = next(client, 'login-error');
			client.login(name);
			expect((await refused)[0].code, name).toBe(code);
		}
		const welcomed = next(client, 'welcome');
		client.login('alice2');
		expect((await welcomed)[0].username).toBe('alice2');
	});

	it('tells everyone else when someone quits or drops', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const carol = await onlineClient(relay, 'carol');
		const bobLeft = next(alice, 'user-left');
		await bob.close();
		expect(await bobLeft).toEqual(['bob']);
		const carolLeft = next(alice, 'user-left');
		// a dropped connection, with no goodbye
		(carol as unknown as {connection: {socket: {destroy(): void}}}).connection.socket.destroy();
		expect(await carolLeft).toEqual(['carol']);
		expect(relay.onlineUsernames()).toEqual(['alice']);
		expect(alice.contacts).toEqual([
			{username: 'bob', online: false, verified: false, keyChanged: false},
			{username: 'carol', online: false, verified: false, keyChanged: false},
		]);
	});

	it('delivers operator announcements to everyone online', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const [a, b] = [next(alice, 'announcement'), next(bob, 'announcement')];
		relay.announce('maintenance at noon');
		expect((await a)[0].text).toBe('maintenance at noon');
		expect((await b)[0].text).toBe('maintenance at noon');
	});

	it('tells clients when the relay shuts down', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const closed = next(alice, 'closed');
		await relay.close('going down for upgrade');
		expect((await closed)[0]).toEqual({code: 'shutdown', message: 'going down for upgrade'});
	});
});
