import pg from 'pg';
import {afterAll, beforeAll, expect, it} from 'vitest';
import {serviceChannel} from '../../source/relay/postgres/cluster-names.js';
import {RelayLease, type LeaseLoss} from '../../source/relay/postgres/relay-leases.js';
import {SessionRegistry} from '../../source/relay/postgres/session-registry.js';
import type {Wakeup} from '../../source/relay/postgres/wakeup-payloads.js';
import {Wakeups} from '../../source/relay/postgres/wakeups.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {startTcpProxy} from '../helpers/tcp-proxy.js';
import {waitFor} from '../helpers/wait-for.js';

/** The dead relays' leases are short; the live ones' long enough that a busy machine does not expire them. */
const shortLeaseMs = 300;
const liveLeaseMs = 3000;

describePostgres('relay leases: who is alive, and reaping the dead', () => {
	const database = usePostgresDatabase();
	const pools: pg.Pool[] = [];
	const leases: RelayLease[] = [];
	let wakeups: Wakeups;
	const offline: string[][] = [];

	function newPool(url = database.url): pg.Pool {
		// Idle connections close soon: this file makes many "relays", on a server others share.
		const pool = new pg.Pool({connectionString: url, max: 2, idleTimeoutMillis: 300});
		pool.on('error', () => {});
		pools.push(pool);
		return pool;
	}

	async function acquire(pool: pg.Pool, relayId: string, leaseMs: number, lost?: LeaseLoss[]): Promise<RelayLease> {
		const lease = await RelayLease.acquire(pool, relayId, {leaseMs, onLost: reason => lost?.push(reason)});
		leases.push(lease);
		return lease;
	}

	beforeAll(async () => {
		wakeups = await Wakeups.listen(database.url, 'observer', {heartbeatMs: 0});
		wakeups.on((wakeup: Wakeup, channel) => {
			if (channel === serviceChannel && wakeup.type === 'offline') offline.push(wakeup.names);
		});
	});
	afterAll(async () => {
		for (const lease of leases) lease.stopRenewing();
		await wakeups?.close();
		await Promise.all(pools.map(async pool => pool.end()));
	});

	const sleep = async (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

	it("keeps the lease of a relay that renews; one that stops is expired after its lease, by the server's clock", async () => {
		const watcher = await acquire(newPool(), 'watcher', liveLeaseMs);
		const steady = await acquire(newPool(), 'steady', shortLeaseMs);
		await sleep(shortLeaseMs * 3);
		expect(steady.lost).toBeUndefined();
		expect(await watcher.expired()).not.toContain('steady');

		steady.stopRenewing();
		const stoppedAt = Date.now();
		// Renewed at most a third of a lease ago, so alive for at least two thirds more.
		await sleep(shortLeaseMs / 3);
		expect(await watcher.expired()).not.toContain('steady');
		await waitFor(async () => expect(await watcher.expired()).toContain('steady'), {timeoutMs: 3000});
		expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual((shortLeaseMs * 2) / 3 - 20);
		expect(await watcher.reap('steady')).toEqual([]);
		expect(await watcher.expired()).not.toContain('steady');
	});

	it('two live relays reaping one dead relay at once: exactly one reaps it, gets its users, and announces them offline once', async () => {
		const poolB = newPool();
		const poolC = newPool();
		const b = await acquire(poolB, 'reaper_b', liveLeaseMs);
		const c = await acquire(poolC, 'reaper_c', liveLeaseMs);
		const registry = await SessionRegistry.open(poolB);
		const deadPool = newPool();
		const winners = {b: 0, c: 0};
		for (let round = 0; round < 10; round++) {
			const deadId = `dead_${round}`;
			const dead = await acquire(deadPool, deadId, shortLeaseMs);
			const users = [`r${round}_carol`, `r${round}_alice`, `r${round}_bob`];
			for (const user of [...users, `r${round}_moved`]) await registry.claim(user, deadId, `conn_${user}`);
			// One user logs in again on a live relay before the dead one is reaped: that session is not the dead relay's any more.
			await registry.claim(`r${round}_moved`, 'reaper_b', 'conn_moved');
			dead.stopRenewing();
			await waitFor(async () => expect(await b.expired()).toContain(deadId), {timeoutMs: 3000});

			const offlineBefore = offline.length;
			const [byB, byC] = await Promise.all([b.reap(deadId), c.reap(deadId)]);
			const reaped = [byB, byC].filter(result => result !== undefined);
			expect(reaped).toEqual([[...users].sort()]);
			winners[byB === undefined ? 'c' : 'b']++;
			expect(await registry.onRelay(deadId)).toEqual([]);
			expect((await registry.session(`r${round}_moved`))?.relay).toBe('reaper_b');
			await waitFor(() => expect(offline.slice(offlineBefore)).toEqual([[...users].sort()]));
			// Reaped once: neither reaps it again.
			expect(await b.reap(deadId)).toBeUndefined();
			expect(await c.reap(deadId)).toBeUndefined();
		}
		expect(winners.b + winners.c).toBe(10);
		// No relay reaps a live one, or itself.
		expect(await b.reap('reaper_c')).toBeUndefined();
		expect(await b.reap('reaper_b')).toBeUndefined();
		expect(c.lost).toBeUndefined();
	});

	it('a relay that renews after being reaped learns it was reaped; after a newer relay took its id, replaced; merely expired, expired', async () => {
		const live = await acquire(newPool(), 'live_judge', liveLeaseMs);

		const reapedLost: LeaseLoss[] = [];
		const reaped = await acquire(newPool(), 'partitioned', shortLeaseMs, reapedLost);
		reaped.stopRenewing();
		await waitFor(async () => expect(await live.reap('partitioned')).toEqual([]), {timeoutMs: 3000});
		expect(await reaped.renew()).toBe(false);
		expect(reaped.lost).toBe('reaped');
		expect(reapedLost).toEqual(['reaped']);
		expect(await reaped.renew()).toBe(false);
		expect(reapedLost).toEqual(['reaped']);

		const replacedLost: LeaseLoss[] = [];
		const old = await acquire(newPool(), 'taken_over', shortLeaseMs, replacedLost);
		old.stopRenewing();
		await waitFor(async () => expect(await live.expired()).toContain('taken_over'), {timeoutMs: 3000});
		const newer = await acquire(newPool(), 'taken_over', liveLeaseMs);
		expect(await old.renew()).toBe(false);
		expect(replacedLost).toEqual(['replaced']);
		// The old run's release leaves the newer run's row alone.
		expect(await old.release()).toEqual([]);
		expect(await newer.renew()).toBe(true);

		const expiredLost: LeaseLoss[] = [];
		const late = await acquire(newPool(), 'late', shortLeaseMs, expiredLost);
		late.stopRenewing();
		await waitFor(async () => expect(await live.expired()).toContain('late'), {timeoutMs: 3000});
		// Expired, not reaped yet: it may not claim sessions any more.
		const registry = await SessionRegistry.open(newPool());
		await expect(registry.claim('zombie_login', 'late', 'c1')).rejects.toThrow('relay "late" holds no live lease: it may not claim sessions');
		expect(await late.renew()).toBe(false);
		expect(expiredLost).toEqual(['expired']);
	});

	it('a relay cut off from PostgreSQL for a whole lease says so (unconfirmed) without waiting for the network', async () => {
		const url = new URL(database.url);
		const proxy = await startTcpProxy({host: url.hostname, port: Number(url.port)});
		try {
			const lost: LeaseLoss[] = [];
			const lease = await acquire(newPool(proxy.through(database.url)), 'cut_off', shortLeaseMs, lost);
			await sleep(shortLeaseMs);
			expect(lost).toEqual([]);
			proxy.freeze();
			const frozenAt = Date.now();
			await waitFor(() => expect(lost).toEqual(['unconfirmed']), {timeoutMs: 3000});
			expect(Date.now() - frozenAt).toBeLessThanOrEqual(shortLeaseMs + 200);
			expect(lease.lost).toBe('unconfirmed');
		} finally {
			await proxy.close();
		}
	});

	it('refuses an id a live relay holds; takes over an expired one, reaping what its earlier run left', async () => {
		const pool = newPool();
		const registry = await SessionRegistry.open(pool);
		const first = await acquire(pool, 'restarting', shortLeaseMs);
		await expect(acquire(newPool(), 'restarting', liveLeaseMs)).rejects.toThrow(/relay id "restarting" is held by a running relay \(its lease ends in \d+ ms\): give each relay its own id/);
		await registry.claim('left_behind', 'restarting', 'c1');
		first.stopRenewing();
		await sleep(shortLeaseMs + 50);
		const offlineBefore = offline.length;
		const second = await acquire(pool, 'restarting', liveLeaseMs);
		expect(second.previousUsers).toEqual(['left_behind']);
		expect(await registry.session('left_behind')).toBeUndefined();
		await waitFor(() => expect(offline.slice(offlineBefore)).toEqual([['left_behind']]));
	});

	it('release deletes its row and its sessions and announces its users offline', async () => {
		const pool = newPool();
		const registry = await SessionRegistry.open(pool);
		const lease = await acquire(pool, 'leaving', liveLeaseMs);
		await registry.claim('dave', 'leaving', 'c1');
		await registry.claim('erin', 'leaving', 'c2');
		const offlineBefore = offline.length;
		expect(await lease.release()).toEqual(['dave', 'erin']);
		expect(await registry.onRelay('leaving')).toEqual([]);
		await waitFor(() => expect(offline.slice(offlineBefore)).toEqual([['dave', 'erin']]));
		const {rows} = await pool.query("select 1 from relays where id = 'leaving'");
		expect(rows).toEqual([]);
		await expect(registry.claim('dave', 'leaving', 'c3')).rejects.toThrow(/relay "leaving" holds no live lease/);
	});

	it('refuses bad ids and lease lengths with words', async () => {
		const pool = newPool();
		await expect(RelayLease.acquire(pool, 'Bad Id', {leaseMs: 1000})).rejects.toThrow(/a relay id is 1 to 40 of a-z, 0-9 and _/);
		await expect(RelayLease.acquire(pool, 'ok', {leaseMs: 5})).rejects.toThrow(/a lease lasts 30 ms to an hour/);
		await expect(RelayLease.acquire(pool, 'ok', {leaseMs: Number.NaN})).rejects.toThrow(/a lease lasts/);
		const lease = await acquire(pool, 'checker', liveLeaseMs);
		await expect(lease.reap("x'; drop table relays; --")).rejects.toThrow(/a relay id/);
		expect(await lease.expired(10_000_000)).toBeInstanceOf(Array);
	});
});
