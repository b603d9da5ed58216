import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest';
import type {OneTimePrekey} from '../../source/net/messages.js';
import {openPostgresStore, type PostgresStore} from '../../source/relay/postgres/pg-store.js';
import {emptyStoreTables} from '../helpers/pg-store.js';
import {createDatabase, describePostgres, dropDatabase, usePostgresDatabase} from '../helpers/postgres.js';
import {envelope, oneTimePrekeys, signedPrekey, storedUser} from './store-fixtures.js';

/** Runs `tasks` with at most `width` in flight at once. */
async function inFlight<T>(width: number, tasks: ReadonlyArray<() => Promise<T>>): Promise<T[]> {
	const results: T[] = [];
	let next = 0;
	const lane = async (): Promise<void> => {
		while (next < tasks.length) {
			const index = next++;
			results[index] = await tasks[index]!();
		}
	};
	await Promise.all(Array.from({length: width}, lane));
	return results;
}

/** Two relays (two stores, two pools) on one database, racing on what the contract says they may race on (async-store.ts). */
describePostgres('two relays on one PostgreSQL database', () => {
	const database = usePostgresDatabase();
	let relayA: PostgresStore;
	let relayB: PostgresStore;
	beforeAll(async () => {
		relayA = await openPostgresStore(database.url, {poolSize: 6});
		relayB = await openPostgresStore(database.url, {poolSize: 6});
	});
	afterAll(async () => {
		await relayA?.close();
		await relayB?.close();
	});
	beforeEach(async () => {
		await emptyStoreTables(relayA.pool);
	});

	it('200 claims at once from both relays on a pool of 100 one-time prekeys hand out each key exactly once', async () => {
		await relayA.savePrekeys('alice', signedPrekey(1), oneTimePrekeys(...Array.from({length: 100}, (_, index) => index + 1)), 100);
		const claims = Array.from({length: 200}, (_, index) => (index % 2 === 0 ? relayA : relayB).claimBundle('alice', true));
		const bundles = await Promise.all(claims);
		const handedOut = bundles.map(bundle => bundle!.oneTime).filter((key): key is OneTimePrekey => key !== null);
		expect(handedOut).toHaveLength(100);
		expect(new Set(handedOut.map(key => key.id)).size).toBe(100);
		expect(handedOut.map(key => key.id).sort((a, b) => a - b)).toEqual(Array.from({length: 100}, (_, index) => index + 1));
		expect(await relayB.prekeyCount('alice')).toEqual({oneTime: 0, signed: 1});
	});

	it('both relays enqueue 500 envelopes each to one recipient while a reader follows: it reads all 1,000, none twice, numbers increasing', async () => {
		const perRelay = 500;
		const enqueues = (relay: PostgresStore, name: string) =>
			Array.from({length: perRelay / 5}, (_, call) => async () =>
				relay.enqueue(Array.from({length: 5}, (_, index) => envelope(name, 'reader', `${name}-${call * 5 + index}`))),
			);
		let writing = true;
		const writers = Promise.all([inFlight(5, enqueues(relayA, 'relay-a')), inFlight(5, enqueues(relayB, 'relay-b'))]).finally(() => {
			writing = false;
		});
		const seen: string[] = [];
		let lastSeen = 0;
		let pages = 0;
		for (;;) {
			const stillWriting = writing;
			const page = await (pages % 2 === 0 ? relayA : relayB).queued('reader', lastSeen, 64);
			pages++;
			for (const queued of page) {
				expect(queued.delivery).toBeGreaterThan(lastSeen);
				lastSeen = queued.delivery;
				seen.push(queued.id);
			}
			// Done once a read begun after the writers finished finds nothing more.
			if (page.length === 0 && !stillWriting) break;
		}
		const answers = (await writers).flat(2);
		expect(answers.every(answer => answer.stored)).toBe(true);
		expect(seen).toHaveLength(2 * perRelay);
		expect(new Set(seen).size).toBe(2 * perRelay);
		expect(pages, 'the reader read while the writers wrote').toBeGreaterThan(2);
	});

	it('enqueues from both relays to the same recipients in opposite orders do not deadlock', async () => {
		const recipients = Array.from({length: 8}, (_, index) => `r${index}`);
		const calls = (relay: PostgresStore, name: string, order: readonly string[]) =>
			Array.from({length: 40}, (_, call) => async () => relay.enqueue(order.map(to => envelope(name, to, `${name}-${call}`))));
		const results = await Promise.all([
			inFlight(4, calls(relayA, 'a', recipients)),
			inFlight(4, calls(relayB, 'b', [...recipients].reverse())),
		]);
		expect(results.flat(2)).toHaveLength(2 * 40 * recipients.length);
		for (const recipient of recipients) {
			const numbers = (await relayA.queued(recipient, 0, 100)).map(queued => queued.delivery);
			expect(numbers).toEqual(Array.from({length: 80}, (_, index) => index + 1));
		}
	});

	it('one envelope resent to both relays at once is stored once, and both are answered with its number', async () => {
		for (let round = 0; round < 30; round++) {
			const resent = envelope('alice', 'bob', `resent-${round}`);
			const [[a], [b]] = await Promise.all([relayA.enqueue([resent]), relayB.enqueue([resent])]);
			expect([a!.stored, b!.stored].filter(Boolean)).toHaveLength(1);
			expect(a!.delivery).toBe(b!.delivery);
		}
		const queued = await relayA.queued('bob', 0, 100);
		expect(queued).toHaveLength(30);
	});

	it('both relays registering one name at once: exactly one is told true, and the name is registered once', async () => {
		for (let round = 0; round < 20; round++) {
			const name = `name${round}`;
			const [a, b] = await Promise.all([
				relayA.registerUser(storedUser(name, {identity: 'a'.repeat(43)})),
				relayB.registerUser(storedUser(name, {identity: 'b'.repeat(43)})),
			]);
			expect([a, b].filter(Boolean)).toHaveLength(1);
			expect((await relayB.user(name))?.identity).toBe(a ? 'a'.repeat(43) : 'b'.repeat(43));
		}
		expect(await relayA.userCount()).toBe(20);
	});

	it('relays opening a fresh database at once all succeed, and find one schema', async () => {
		const url = await createDatabase();
		try {
			const stores = await Promise.all(Array.from({length: 4}, async () => openPostgresStore(url, {poolSize: 1})));
			try {
				expect(await stores[0]!.registerUser(storedUser('alice'))).toBe(true);
				expect(await stores[3]!.userCount()).toBe(1);
				const {rows} = await stores[1]!.pool.query<{count: number}>('select count(*)::int as count from schema_version');
				expect(rows).toEqual([{count: 1}]);
			} finally {
				await Promise.all(stores.map(async store => store.close()));
			}
		} finally {
			await dropDatabase(url);
		}
	});
});
