import pg from 'pg';
import {afterAll, beforeAll, expect, it} from 'vitest';
import {relayChannel} from '../../source/relay/postgres/cluster-names.js';
import {RelayLease} from '../../source/relay/postgres/relay-leases.js';
import {maxNamesAsked, SessionRegistry} from '../../source/relay/postgres/session-registry.js';
import type {ReplacedWakeup} from '../../source/relay/postgres/wakeup-payloads.js';
import {Wakeups} from '../../source/relay/postgres/wakeups.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {waitFor} from '../helpers/wait-for.js';

type Relay = {id: string; pool: pg.Pool; lease: RelayLease; registry: SessionRegistry; wakeups: Wakeups; replaced: ReplacedWakeup[]};

describePostgres('the session registry: one session per username across relays', () => {
	const database = usePostgresDatabase();
	const relays: Relay[] = [];
	let a: Relay;
	let b: Relay;

	/** A "relay": a pool of its own, a lease, and a listener collecting the `replaced` wake-ups sent to its channel. */
	async function relay(id: string): Promise<Relay> {
		const pool = new pg.Pool({connectionString: database.url, max: 3});
		pool.on('error', () => {});
		const lease = await RelayLease.acquire(pool, id, {leaseMs: 10_000});
		const registry = await SessionRegistry.open(pool);
		const wakeups = await Wakeups.listen(database.url, id, {heartbeatMs: 0});
		const replaced: ReplacedWakeup[] = [];
		wakeups.on((wakeup, channel) => {
			if (wakeup.type === 'replaced' && channel === relayChannel(id)) replaced.push(wakeup);
		});
		const made = {id, pool, lease, registry, wakeups, replaced};
		relays.push(made);
		return made;
	}

	beforeAll(async () => {
		a = await relay('relay_a');
		b = await relay('relay_b');
	});
	afterAll(async () => {
		for (const {lease, wakeups, pool} of relays) {
			lease.stopRenewing();
			await wakeups.close();
			await pool.end();
		}
	});

	it('50 rounds of two logins of one name racing on two relays: each ends with one holder, and the other relay is told', async () => {
		const won = {relay_a: 0, relay_b: 0};
		for (let round = 0; round < 50; round++) {
			const username = `racer_${round}`;
			const [fromA, fromB] = await Promise.all([a.registry.claim(username, 'relay_a', `a${round}`), b.registry.claim(username, 'relay_b', `b${round}`)]);
			// Both succeed; the later one replaced the earlier one, which replaced nothing.
			expect([fromA, fromB].filter(result => result === undefined)).toHaveLength(1);
			const [winner, loser] = fromA === undefined ? [b, a] : [a, b];
			const loserConnection = `${loser === a ? 'a' : 'b'}${round}`;
			expect(fromA ?? fromB).toEqual({relay: loser.id, connection: loserConnection, generation: 1});
			const holder = await a.registry.session(username);
			expect(holder).toEqual({relay: winner.id, connection: `${winner === a ? 'a' : 'b'}${round}`, generation: 2});
			won[winner.id as keyof typeof won]++;
			await waitFor(() => expect(loser.replaced.filter(wakeup => wakeup.username === username)).toEqual([{type: 'replaced', username, connection: loserConnection}]));
		}
		// Every round told its loser once and never its winner.
		expect(a.replaced.length + b.replaced.length).toBe(50);
		expect(won.relay_a + won.relay_b).toBe(50);
		const holders = await a.registry.relayOf(Array.from({length: 50}, (_, round) => `racer_${round}`));
		expect(holders.size).toBe(50);
	});

	it('the release of a replaced session leaves the new one in place', async () => {
		await a.registry.claim('frank', 'relay_a', 'old');
		expect(await b.registry.claim('frank', 'relay_b', 'new')).toEqual({relay: 'relay_a', connection: 'old', generation: 1});
		expect(await a.registry.release('frank', 'relay_a', 'old')).toBe(false);
		expect(await a.registry.session('frank')).toEqual({relay: 'relay_b', connection: 'new', generation: 2});
		expect(await b.registry.release('frank', 'relay_b', 'new')).toBe(true);
		expect(await a.registry.session('frank')).toBeUndefined();
		expect(await a.registry.claim('frank', 'relay_a', 'again')).toBeUndefined();
	});

	it('a login again on the same relay replaces the older connection and tells that relay; the same connection claiming again replaces nothing', async () => {
		const before = a.replaced.length;
		await a.registry.claim('grace', 'relay_a', 'first');
		expect(await a.registry.claim('grace', 'relay_a', 'second')).toEqual({relay: 'relay_a', connection: 'first', generation: 1});
		expect(await a.registry.claim('grace', 'relay_a', 'second')).toBeUndefined();
		expect(await a.registry.session('grace')).toEqual({relay: 'relay_a', connection: 'second', generation: 2});
		await waitFor(() => expect(a.replaced.slice(before)).toEqual([{type: 'replaced', username: 'grace', connection: 'first'}]));
	});

	it('relayOf says where each user is logged in, for at most a bounded list of names', async () => {
		await a.registry.claim('heidi', 'relay_a', 'h');
		await b.registry.claim('ivan', 'relay_b', 'i');
		expect(await a.registry.relayOf(['heidi', 'ivan', 'nobody_here', 'heidi'])).toEqual(
			new Map([
				['heidi', 'relay_a'],
				['ivan', 'relay_b'],
			]),
		);
		expect(await a.registry.relayOf([])).toEqual(new Map());
		const tooMany = Array.from({length: maxNamesAsked + 1}, (_, index) => `u${index}`);
		await expect(a.registry.relayOf(tooMany)).rejects.toThrow(`relayOf takes at most ${maxNamesAsked} names at a time (got ${maxNamesAsked + 1})`);
		await expect(a.registry.relayOf(['ok', 'NOT OK'])).rejects.toThrow(/a name is 1 to 32 of a-z, 0-9, _ and -/);
	});

	it("onRelay pages through a relay's users in name order", async () => {
		const c = await relay('relay_c');
		const names = Array.from({length: 25}, (_, index) => `paged_${String(index).padStart(2, '0')}`);
		for (const name of [...names].reverse()) await c.registry.claim(name, 'relay_c', `conn_${name}`);
		const pages: string[][] = [];
		for (let after = ''; ; ) {
			const page = await c.registry.onRelay('relay_c', {after, limit: 10});
			if (page.length === 0) break;
			pages.push(page);
			after = page.at(-1)!;
		}
		expect(pages.map(page => page.length)).toEqual([10, 10, 5]);
		expect(pages.flat()).toEqual(names);
		expect(await c.registry.onRelay('relay_nobody')).toEqual([]);
	});

	it('refuses a claim from a relay without a live lease, and bad names, relay ids and connection ids, with words', async () => {
		await expect(a.registry.claim('judy', 'relay_never_started', 'c')).rejects.toThrow('relay "relay_never_started" holds no live lease: it may not claim sessions');
		await expect(a.registry.claim('Judy Smith', 'relay_a', 'c')).rejects.toThrow(/a name is 1 to 32/);
		await expect(a.registry.claim('judy', 'relay-a', 'c')).rejects.toThrow(/a relay id is 1 to 40 of a-z, 0-9 and _/);
		await expect(a.registry.claim('judy', 'relay_a', 'c'.repeat(65))).rejects.toThrow(/a connection id is 1 to 64/);
		await expect(a.registry.release('judy', 'relay_a', '')).rejects.toThrow(/a connection id/);
		await expect(a.registry.onRelay('relay_a', {after: 'x y'})).rejects.toThrow(/a name is/);
		expect(await a.registry.session('judy')).toBeUndefined();
	});
});
