import pg from 'pg';
import {expect, it} from 'vitest';
import type {RelayLimits} from '../../source/relay/relay-options.js';
import type {RunningRelay} from '../../source/relay/server.js';
import {copyAccount} from '../helpers/account.js';
import {logIn, meet, newClient, next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {tempDir} from '../helpers/temp-dir.js';

describePostgres('two relays on one PostgreSQL: the 1:1 path, presence, one session per identity', () => {
	const database = usePostgresDatabase();
	let round = 0;

	/** Two relays of one service (one key, one database), each with its own id. */
	/** Waits until these users' clients have uploaded their prekeys (a first message needs the recipient's bundle, whichever relay asks). */
	async function prekeysStored(...names: string[]): Promise<void> {
		const admin = new pg.Client({connectionString: database.url});
		await admin.connect();
		try {
			await expect
				.poll(async () => (await admin.query('select username from signed_prekeys where username = any($1)', [names])).rows.length, {timeout: 10_000})
				.toBe(names.length);
		} finally {
			await admin.end();
		}
	}

	async function twoRelays(leaseMs = 10_000, limits: Partial<RelayLimits> = {}): Promise<[RunningRelay, RunningRelay]> {
		round += 1;
		const dataDir = tempDir();
		const a = await relayForTest({dataDir, limits, cluster: {url: database.url, relayId: `a${round}`, leaseMs}});
		const b = await relayForTest({dataDir, limits, cluster: {url: database.url, relayId: `b${round}`, leaseMs}});
		expect(b.fingerprint).toBe(a.fingerprint);
		return [a, b];
	}

	it('a message from a client on relay A reaches one on relay B, both ways; each sees the other online', async () => {
		const [a, b] = await twoRelays();
		const alice = await onlineClient(a, 'alice1');
		const bob = await onlineClient(b, 'bob1');
		await meet(alice, bob);
		await prekeysStored('alice1', 'bob1');
		const toBob = next(bob, 'message', 10_000);
		alice.send('bob1', 'from A to B');
		expect((await toBob)[0].text).toBe('from A to B');
		const toAlice = next(alice, 'message', 10_000);
		bob.send('alice1', 'from B to A');
		expect((await toAlice)[0].text).toBe('from B to A');
		// Presence across relays: bob leaves B, alice on A sees it.
		await bob.close();
		await expect.poll(() => alice.contacts.find(contact => contact.username === 'bob1')?.online).toBe(false);
	});

	it('a message to someone offline reaches it when it logs in on the other relay', async () => {
		const [a, b] = await twoRelays();
		const alice = await onlineClient(a, 'alice2');
		const carolDir = tempDir();
		const carol = await onlineClient(a, 'carol2', {dataDir: carolDir});
		await meet(alice, carol);
		await prekeysStored('carol2');
		await carol.close();
		const accepted = next(alice, 'accepted');
		alice.send('carol2', 'waiting in postgres');
		await accepted;
		const carolOnB = newClient(b, {dataDir: carolDir});
		const messages = record(carolOnB, 'message');
		await logIn(carolOnB, 'carol2');
		await expect.poll(() => messages.map(([message]) => message.text)).toEqual(['waiting in postgres']);
		// ...and what comes after, from A, while carol is on B.
		alice.send('carol2', 'and the next');
		await expect.poll(() => messages.map(([message]) => message.text)).toEqual(['waiting in postgres', 'and the next']);
	});

	it('a login on B ends the session on A with session_replaced; the others still see it online', async () => {
		const [a, b] = await twoRelays();
		const dataDir = tempDir();
		const otherDevice = copyAccount(dataDir, a.fingerprint, 'dave3');
		const first = await onlineClient(a, 'dave3', {dataDir});
		const watcher = await onlineClient(a, 'erin3');
		await meet(first, watcher);
		const closed = next(first, 'closed');
		const second = await onlineClient(b, 'dave3', {dataDir: otherDevice});
		expect((await closed)[0].code).toBe('session_replaced');
		expect(a.onlineUsernames()).toEqual(['erin3']);
		expect(b.onlineUsernames()).toEqual(['dave3']);
		await meet(second, watcher);
		await prekeysStored('dave3');
		const toSecond = next(second, 'message');
		watcher.send('dave3', 'to the session on B');
		expect((await toSecond)[0].text).toBe('to the session on B');
		expect(watcher.contacts.find(contact => contact.username === 'dave3')?.online).toBe(true);
	});

	it('two logins of one identity racing on two relays: exactly one session survives', async () => {
		const [a, b] = await twoRelays();
		const dataDir = tempDir();
		// Registered once, then two devices log in at the same moment, one on each relay.
		const registered = await onlineClient(a, 'frank4', {dataDir});
		await registered.close();
		const devices = [copyAccount(dataDir, a.fingerprint, 'frank4'), copyAccount(dataDir, a.fingerprint, 'frank4')];
		const clients = [newClient(a, {dataDir: devices[0]!}), newClient(b, {dataDir: devices[1]!})];
		const closes = clients.map(client => record(client, 'closed'));
		await Promise.allSettled(clients.map(async client => logIn(client, 'frank4')));
		await expect.poll(() => closes.filter(seen => seen.length > 0).length, {timeout: 5000}).toBe(1);
		expect(closes.flat().map(([event]) => event.code)).toEqual(['session_replaced']);
		await new Promise(resolve => setTimeout(resolve, 300));
		expect([...a.onlineUsernames(), ...b.onlineUsernames()].filter(name => name === 'frank4')).toEqual(['frank4']);
	});

	it('a relay that loses its lease ends its sessions (their clients come back) and takes a lease again', {timeout: 20_000}, async () => {
		const [a, b] = await twoRelays(600);
		const alice = await onlineClient(a, 'gina5', {reconnect: {initialDelayMs: 50, maxDelayMs: 200}});
		const bob = await onlineClient(b, 'hank5');
		await meet(alice, bob);
		await prekeysStored('gina5');
		const dropped = next(alice, 'reconnecting', 5000);
		const admin = new pg.Client({connectionString: database.url});
		await admin.connect();
		try {
			// What a relay cut off for longer than its lease finds: another relay reaped it.
			await admin.query(`delete from relays where id = 'a${round}'`);
			await dropped;
			await next(alice, 'welcome', 10_000);
			const {rows} = await admin.query<{count: string}>(`select count(*) from relays where id = 'a${round}'`);
			expect(Number(rows[0]!.count)).toBe(1);
		} finally {
			await admin.end();
		}
		const received = next(alice, 'message', 5000);
		bob.send('gina5', 'after the lease came back');
		expect((await received)[0].text).toBe('after the lease came back');
	});

	it('a long conversation across relays is never refused by the sender relay\'s counts: what the recipient read on the other relay no longer counts there', {timeout: 30_000}, async () => {
		// A share of 20 per sender and recipient: the sender's relay never sees the other relay's acks.
		const [a, b] = await twoRelays(10_000, {maxQueuedPerSender: 20});
		const alice = await onlineClient(a, 'alice9');
		const bob = await onlineClient(b, 'bob9');
		await meet(alice, bob);
		await prekeysStored('alice9', 'bob9');
		const refused = record(alice, 'relay-error');
		const received = record(bob, 'message');
		for (let n = 0; n < 60; n++) {
			const accepted = next(alice, 'accepted', 10_000);
			alice.send('bob9', `line ${n}`);
			await accepted;
			await expect.poll(() => received.length, {timeout: 10_000}).toBe(n + 1);
		}
		expect(refused).toEqual([]);
	});

	it('the cap on what waits for one recipient holds for the service: senders on two relays share it', {timeout: 20_000}, async () => {
		const [a, b] = await twoRelays(10_000, {maxQueuedPerUser: 5});
		const alice = await onlineClient(a, 'ivan6');
		const bob = await onlineClient(b, 'jane6');
		const kateDir = tempDir();
		const carol = await onlineClient(a, 'kate6', {dataDir: kateDir});
		await meet(alice, bob, carol);
		await prekeysStored('kate6');
		await carol.close();
		const outcomes = (client: typeof alice) => {
			const seen = {accepted: 0, full: 0};
			client.on('accepted', () => (seen.accepted += 1));
			client.on('relay-error', ({code}) => {
				if (code === 'queue_full') seen.full += 1;
			});
			return seen;
		};
		const fromAlice = outcomes(alice);
		const fromBob = outcomes(bob);
		for (let n = 0; n < 3; n++) alice.send('kate6', `from A ${n}`);
		await expect.poll(() => fromAlice.accepted).toBe(3);
		for (let n = 0; n < 3; n++) bob.send('kate6', `from B ${n}`);
		// Relay B holds none of A's in memory: the store refuses what passes the cap.
		await expect.poll(() => fromBob.accepted + fromBob.full).toBe(3);
		expect(fromBob).toEqual({accepted: 2, full: 1});
		// Read (acknowledged) on the other relay: the count goes down for everyone, and there is room again.
		const kate = newClient(b, {dataDir: kateDir});
		const read = record(kate, 'message');
		await logIn(kate, 'kate6');
		await expect.poll(() => read.length).toBe(5);
		const admin = new pg.Client({connectionString: database.url});
		await admin.connect();
		try {
			await expect
				.poll(async () => (await admin.query<{queued: string}>("select queued from delivery_counters where recipient = 'kate6'")).rows[0]?.queued)
				.toBe('0');
		} finally {
			await admin.end();
		}
		bob.send('kate6', 'room again');
		await expect.poll(() => fromBob.accepted).toBe(3);
	});

	it("a sender's bytes quota counts what it stored through another relay, read when it logs in", {timeout: 30_000}, async () => {
		const [a, b] = await twoRelays(10_000, {maxStoredBytesPerSender: 4000});
		const aliceDir = tempDir();
		const alice = await onlineClient(a, 'lena7', {dataDir: aliceDir});
		const kate = await onlineClient(a, 'mona7');
		await meet(alice, kate);
		await prekeysStored('mona7');
		await kate.close();
		/** Sends one message and waits for what the relay makes of it. */
		const outcome = async (client: typeof alice): Promise<string> => {
			const id = client.send('mona7', 'a message that waits');
			return new Promise(resolve => {
				client.on('accepted', accepted => accepted.id === id && resolve('accepted'));
				client.on('relay-error', error => error.ref === id && resolve(error.code));
			});
		};
		let taken = 0;
		while ((await outcome(alice)) === 'accepted') taken += 1;
		expect(taken).toBeGreaterThan(0);
		await alice.close();
		// The same account on relay B, which started before any of it was stored.
		const again = newClient(b, {dataDir: aliceDir});
		await logIn(again, 'lena7');
		expect(await outcome(again)).toBe('quota_exceeded');
	});
});
