import pg from 'pg';
import {expect, it} from 'vitest';
import type {RunningRelay} from '../../source/relay/server.js';
import {copyAccount} from '../helpers/account.js';
import {logIn, meet, newClient, next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {tempDir} from '../helpers/temp-dir.js';

describePostgres('two relays on one PostgreSQL: the 1:1 path, presence, one session per identity', () => {
	const database = usePostgresDatabase();
	let round = 0;

	/** Two relays of one service (one key, one database), each with its own id. */
	async function twoRelays(leaseMs = 10_000): Promise<[RunningRelay, RunningRelay]> {
		round += 1;
		const dataDir = tempDir();
		const a = await relayForTest({dataDir, cluster: {url: database.url, relayId: `a${round}`, leaseMs}});
		const b = await relayForTest({dataDir, cluster: {url: database.url, relayId: `b${round}`, leaseMs}});
		expect(b.fingerprint).toBe(a.fingerprint);
		return [a, b];
	}

	it('a message from a client on relay A reaches one on relay B, both ways; each sees the other online', async () => {
		const [a, b] = await twoRelays();
		const alice = await onlineClient(a, 'alice1');
		const bob = await onlineClient(b, 'bob1');
		await meet(alice, bob);
		const toBob = next(bob, 'message');
		alice.send('bob1', 'from A to B');
		expect((await toBob)[0].text).toBe('from A to B');
		const toAlice = next(alice, 'message');
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
});
