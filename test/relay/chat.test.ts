import {describe, expect, it} from 'vitest';
import {next, newClient, onlineClient, record, relayForTest} from '../helpers/chat.js';

describe('relay with headless clients on 127.0.0.1', () => {
	it('asks for a username, welcomes with the online list and tells the others', async () => {
		const relay = await relayForTest({motd: 'be kind'});
		const alice = await onlineClient(relay, 'alice');
		const joined = next(alice, 'user-joined');
		const bob = newClient(relay);
		const asked = next(bob, 'login-request');
		bob.connect();
		await asked;
		const welcomed = next(bob, 'welcome');
		bob.login('Bob');
		const [welcome] = await welcomed;
		expect(welcome).toEqual({username: 'bob', users: ['alice'], motd: 'be kind'});
		expect(await joined).toEqual(['bob']);
		expect(bob.username).toBe('bob');
		expect(relay.onlineUsernames()).toEqual(['alice', 'bob']);
	});

	it('routes a message to the named recipient with the authenticated sender, and acks it', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const carol = await onlineClient(relay, 'carol');
		const carolSaw = record(carol, 'message');
		const received = next(bob, 'message');
		const acked = next(alice, 'sent');
		const id = alice.send('bob', 'hello bob ✓');
		const [message] = await received;
		expect(message).toMatchObject({id, from: 'alice', to: 'bob', text: 'hello bob ✓'});
		expect(message.time).toBeGreaterThan(Date.now() - 60_000);
		const [ack] = await acked;
		expect(ack.id).toBe(id);
		// a round trip to carol proves she had every chance to receive a stray copy
		const ping = next(carol, 'message');
		bob.send('carol', 'are you there');
		await ping;
		expect(carolSaw.map(([m]) => m.text)).toEqual(['are you there']);
	});

	it('keeps many messages in order', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const texts = Array.from({length: 500}, (_, i) => `message ${i}`);
		const seen = record(bob, 'message');
		const acks = record(alice, 'sent');
		for (const text of texts) alice.send('bob', text);
		while (acks.length < texts.length) await next(alice, 'sent');
		expect(seen.map(([m]) => m.text)).toEqual(texts);
	});

	it('tells the sender clearly when the recipient is offline or not a valid name', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const offline = next(alice, 'relay-error');
		const id = alice.send('dave', 'anyone?');
		expect((await offline)[0]).toMatchObject({code: 'recipient_offline', ref: id});
		const invalid = next(alice, 'relay-error');
		const id2 = alice.send('not a name!', 'hi');
		expect((await invalid)[0]).toMatchObject({code: 'unknown_recipient', ref: id2});
		expect(alice.status).toBe('online');
	});

	it('refuses an oversized message but keeps the connection', async () => {
		const relay = await relayForTest({limits: {maxTextBytes: 100}});
		const alice = await onlineClient(relay, 'alice');
		await onlineClient(relay, 'bob');
		const refused = next(alice, 'relay-error');
		const id = alice.send('bob', 'x'.repeat(101));
		expect((await refused)[0]).toMatchObject({code: 'message_too_large', ref: id});
		const acked = next(alice, 'sent');
		alice.send('bob', 'x'.repeat(100));
		await acked;
	});

	it('refuses invalid, reserved and taken usernames, and lets the client retry on the same connection', async () => {
		const relay = await relayForTest();
		await onlineClient(relay, 'alice');
		const client = newClient(relay);
		const asked = next(client, 'login-request');
		client.connect();
		await asked;
		const attempts: Array<[string, string]> = [
			['', 'invalid_username'],
			['has space', 'invalid_username'],
			['x'.repeat(33), 'invalid_username'],
			['émile', 'invalid_username'],
			['System', 'reserved_username'],
			['everyone', 'reserved_username'],
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
		const again = next(client, 'login-error');
		client.login('other');
		expect((await again)[0].code).toBe('already_logged_in');
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
		(carol as unknown as {socket: {destroy(): void}}).socket.destroy();
		expect(await carolLeft).toEqual(['carol']);
		expect(relay.onlineUsernames()).toEqual(['alice']);
	});

	it('frees the username when its owner leaves', async () => {
		const relay = await relayForTest();
		const first = await onlineClient(relay, 'alice');
		await first.close();
		await expect.poll(() => relay.onlineUsernames()).toEqual([]);
		const second = await onlineClient(relay, 'alice');
		expect(second.username).toBe('alice');
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
