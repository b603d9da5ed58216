import {randomBytes} from 'node:crypto';
import pg from 'pg';
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest';
import {errorCode, isStoreUnavailable} from '../../source/relay/postgres/pg-errors.js';
import {openPostgresStore, type PostgresStore} from '../../source/relay/postgres/pg-store.js';
import {schemaVersion} from '../../source/relay/postgres/pg-schema.js';
import {emptyStoreTables} from '../helpers/pg-store.js';
import {createDatabase, describePostgres, dropDatabase, postgresUrl, usePostgresDatabase} from '../helpers/postgres.js';
import {envelope, now, storedUser} from './store-fixtures.js';

/** What only the PostgreSQL store does: its schema, its numbers, what PostgreSQL refuses, and how a batch fails there. */
describePostgres('the PostgreSQL store (postgres/pg-store.ts): schema, numbers, refusals', () => {
	const database = usePostgresDatabase();
	let store: PostgresStore;
	beforeAll(async () => {
		store = await openPostgresStore(database.url, {poolSize: 3});
	});
	afterAll(async () => {
		await store?.close();
	});
	beforeEach(async () => {
		await emptyStoreTables(store.pool);
	});

	it('is kind postgres, has no takeDelivery, and refuses an envelope that comes with a number, saying why; nothing is stored', async () => {
		expect(store.kind).toBe('postgres');
		expect(store.takeDelivery).toBeUndefined();
		const given = store.enqueue([envelope('alice', 'bob', 'm1'), {...envelope('alice', 'bob', 'm2'), delivery: 7}]);
		await expect(given).rejects.toMatchObject({code: 'delivery_given', message: expect.stringMatching(/delivery number 7.*numbers envelopes itself/)});
		expect(await store.queued('bob', 0, 10)).toEqual([]);
	});

	it('opens again on its own database: the schema is found, not made twice, and what was written stays', async () => {
		await store.registerUser(storedUser('alice'));
		const again = await openPostgresStore(database.url, {poolSize: 1});
		try {
			expect(await again.user('alice')).toEqual(storedUser('alice'));
			expect(await again.userCount()).toBe(1);
			const {rows} = await again.pool.query<{version: number}>('select version from schema_version');
			expect(rows).toEqual([{version: schemaVersion}]);
		} finally {
			await again.close();
		}
	});

	it('refuses a database made by a newer im-tui, in words a person can act on', async () => {
		const url = await createDatabase();
		try {
			const first = await openPostgresStore(url, {poolSize: 1});
			await first.pool.query('update schema_version set version = $1', [schemaVersion + 1]);
			await first.close();
			await expect(openPostgresStore(url, {poolSize: 1})).rejects.toMatchObject({
				code: 'schema_too_new',
				message: `this database was made by a newer im-tui (schema ${schemaVersion + 1}); upgrade this relay (it knows schema ${schemaVersion} and older)`,
			});
		} finally {
			await dropDatabase(url);
		}
	});

	it('a bad URL or pool size is refused before anything connects', async () => {
		await expect(openPostgresStore('not a url')).rejects.toMatchObject({code: 'bad_store_url'});
		await expect(openPostgresStore('mysql://user@host/db')).rejects.toThrow(/postgres:\/\/user@host:port\/database, not mysql:/);
		await expect(openPostgresStore(database.url, {poolSize: 0})).rejects.toMatchObject({code: 'bad_pool_size'});
	});

	it('a server that cannot be reached at open is an error with a code, not a hang', async () => {
		const error = await openPostgresStore('postgres://postgres@127.0.0.1:1/postgres').then(
			() => undefined,
			(failed: unknown) => failed,
		);
		expect(errorCode(error)).toBe('ECONNREFUSED');
		expect(isStoreUnavailable(error)).toBe(true);
	});

	it('numbers and times beyond 32 bits come back as numbers; a delivery number beyond 2^53 is an error, not a rounded number, and keeps nothing', async () => {
		await store.pool.query("insert into delivery_counters (recipient, last) values ('bob', $1), ('carol', $2)", [2 ** 40, 2 ** 53 - 1]);
		const [queued] = await store.enqueue([envelope('alice', 'bob', 'm1', {time: now * 1000})]);
		expect(queued).toEqual({delivery: 2 ** 40 + 1, stored: true});
		const [read] = await store.queued('bob', 2 ** 40, 1);
		expect(read).toMatchObject({delivery: 2 ** 40 + 1, time: now * 1000});
		expect(typeof read!.delivery).toBe('number');
		await expect(store.enqueue([envelope('alice', 'carol', 'm2')])).rejects.toMatchObject({code: '23514', message: expect.stringMatching(/delivery_number_beyond_2_53/)});
		expect(await store.queued('carol', 0, 10)).toEqual([]);
		const {rows} = await store.pool.query<{last: number}>("select last from delivery_counters where recipient = 'carol'");
		expect(rows).toEqual([{last: 2 ** 53 - 1}]);
	});

	it('text PostgreSQL refuses (U+0000, which no checked protocol field can hold) is a clear rejection with its code, and nothing of the call is written', async () => {
		await expect(store.registerUser(storedUser('alice', {identity: 'a\u0000b'}))).rejects.toMatchObject({
			code: '22021',
			message: expect.stringMatching(/invalid byte sequence for encoding "UTF8": 0x00/),
		});
		expect(await store.user('alice')).toBeUndefined();
		expect(await store.userCount()).toBe(0);
		const batch = [envelope('alice', 'bob', 'm1'), envelope('alice', 'bob', 'm2', {body: 'x\u0000y'}), envelope('alice', 'carol', 'm3')];
		await expect(store.enqueue(batch)).rejects.toMatchObject({code: '22021'});
		expect(await store.queued('bob', 0, 10)).toEqual([]);
		expect(await store.queueTotals()).toEqual([]);
		// The counters rolled back too: the next envelope is the recipient's first.
		expect(await store.enqueue([envelope('alice', 'bob', 'm1')])).toEqual([{delivery: 1, stored: true}]);
	});

	it('a batch whose work caught a failed statement and went on is rolled back and rejects: PostgreSQL commits none of it', async () => {
		const swallowed = store.batch(async tx => {
			await tx.registerUser(storedUser('alice'));
			await tx.registerUser(storedUser('bob', {binding: 'a\u0000b'})).catch(() => false);
			return 'done';
		});
		await expect(swallowed).rejects.toMatchObject({code: '25P02', message: expect.stringMatching(/rolled back: a statement in it failed/)});
		expect(await store.user('alice')).toBeUndefined();
		expect(await store.userCount()).toBe(0);
	});

	it('the store a batch gave its work refuses calls once the batch is over, and cannot be closed', async () => {
		let kept: Awaited<Parameters<Parameters<PostgresStore['batch']>[0]>[0]> | undefined;
		await store.batch(async tx => {
			kept = tx;
			await expect(tx.close()).rejects.toThrow(/close the store, not a transaction/);
		});
		await expect(kept!.registerUser(storedUser('late'))).rejects.toMatchObject({code: '25000', message: expect.stringMatching(/transaction is over/)});
		expect(await store.user('late')).toBeUndefined();
	});

	it('on a database whose default collation is a locale’s (ICU en-US), names still come in byte order, as on SQLite', async () => {
		const name = `im_tui_test_icu_${randomBytes(6).toString('hex')}`;
		const url = new URL(postgresUrl!);
		url.pathname = `/${name}`;
		const admin = new pg.Client({connectionString: postgresUrl});
		await admin.connect();
		try {
			await admin.query(`create database ${name} locale_provider icu icu_locale 'en-US' template template0`);
			const icu = await openPostgresStore(url.toString(), {poolSize: 1});
			try {
				const {rows} = await icu.pool.query<{names: string[]}>("select array_agg(name order by name) as names from unnest(array['ab', 'a_b', 'a-c']) as name");
				expect(rows[0]!.names, 'the locale sorts as bytes do, so this test would show nothing').not.toEqual(['a-c', 'a_b', 'ab']);
				for (const username of ['ab', 'a_b', 'a-c']) {
					await icu.registerUser(storedUser(username));
					await icu.addContact('owner', username, 'inbound', now);
				}
				expect(await icu.firstUsernames(10)).toEqual(['a-c', 'a_b', 'ab']);
				expect((await icu.usersNamed(['ab', 'a_b', 'a-c'])).map(user => user.username)).toEqual(['a-c', 'a_b', 'ab']);
				expect(await icu.contactNames('owner', 10)).toEqual(['a-c', 'a_b', 'ab']);
				expect(await icu.evictOldestInbound('owner')).toBe('a-c');
			} finally {
				await icu.close();
			}
		} finally {
			await admin.query(`drop database if exists ${name} with (force)`);
			await admin.end();
		}
	});
});
