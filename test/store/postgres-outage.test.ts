import pg from 'pg';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {AsyncRelayStore} from '../../source/relay/async-store.js';
import type {LogFields} from '../../source/relay/logger.js';
import {errorCode, isStoreUnavailable} from '../../source/relay/postgres/pg-errors.js';
import {openPostgresStore, type PostgresStore} from '../../source/relay/postgres/pg-store.js';
import {describePostgres, postgresSkipReason, postgresUrl, usePostgresDatabase} from '../helpers/postgres.js';
import {privateClusterUnavailable, startPrivateCluster, type PrivateCluster} from '../helpers/private-postgres.js';
import {waitFor} from '../helpers/wait-for.js';
import {storedUser} from './store-fixtures.js';

/** A batch that writes, then waits inside its transaction until `resume` is called. */
function heldBatch(store: AsyncRelayStore): {inside: Promise<void>; resume: () => void; done: Promise<unknown>} {
	let entered!: () => void;
	let resume!: () => void;
	const inside = new Promise<void>(resolve => (entered = resolve));
	const gate = new Promise<void>(resolve => (resume = resolve));
	const done = store
		.batch(async tx => {
			await tx.registerUser(storedUser('inside'));
			entered();
			await gate;
			await tx.registerUser(storedUser('after'));
		})
		.then(
			() => undefined,
			(error: unknown) => error,
		);
	return {inside, resume, done};
}

function loggedTo(lines: Array<{event: string; fields?: LogFields}>) {
	return (event: string, fields?: LogFields) => lines.push({event, fields});
}

describePostgres('the PostgreSQL store when its server ends its connections (pg_terminate_backend)', () => {
	const database = usePostgresDatabase();

	it('a batch whose connection is ended mid-way rejects with a code, idle connections lost are logged, and the next calls succeed', async () => {
		const lines: Array<{event: string; fields?: LogFields}> = [];
		const store = await openPostgresStore(database.url, {poolSize: 3, log: loggedTo(lines)});
		const admin = new pg.Client({connectionString: database.url});
		await admin.connect();
		try {
			await store.registerUser(storedUser('alice'));
			// Three connections in the pool: one for the batch, two idle.
			await Promise.all([store.user('alice'), store.user('alice'), store.user('alice')]);
			const held = heldBatch(store);
			await held.inside;
			// The timeout makes each call wait until its backend has exited.
			const {rows} = await admin.query<{ended: number}>(
				'select count(*) filter (where pg_terminate_backend(pid, 10000))::int as ended from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
			);
			expect(rows[0]!.ended).toBe(3);
			// The idle ones are lost while nothing uses them: the pool hears it, and the log says so.
			await waitFor(() => expect(lines.filter(line => line.event === 'store_connection_lost').map(line => line.fields?.['code'])).toEqual(['57P01', '57P01']));
			held.resume();
			const error = await held.done;
			expect(errorCode(error), String(error)).toMatch(/^(57P01|08003|08006)$/);
			expect(isStoreUnavailable(error)).toBe(true);
			expect(await store.user('alice')).toEqual(storedUser('alice'));
			expect(await store.user('inside')).toBeUndefined();
			expect(await store.batch(async tx => tx.registerUser(storedUser('later')))).toBe(true);
		} finally {
			await admin.end();
			await store.close();
		}
	});
});

// Like every PostgreSQL test, run when PostgreSQL tests are asked for (IM_TUI_TEST_POSTGRES), though it starts a server of its own.
const noCluster = postgresUrl === undefined ? postgresSkipReason : privateClusterUnavailable();

(noCluster === undefined ? describe : describe.skip)(
	`the PostgreSQL store when its server stops and starts again (a private cluster)${noCluster === undefined ? '' : ` (skipped: ${noCluster})`}`,
	() => {
		let cluster: PrivateCluster | undefined;
		let store: PostgresStore | undefined;
		beforeAll(async () => {
			cluster = await startPrivateCluster();
		}, 60_000);
		afterAll(async () => {
			await store?.close();
			await cluster?.destroy();
		}, 60_000);

		it('while the server is down every call rejects with a code saying so, the process goes on; once it is back the same store works', async () => {
			const lines: Array<{event: string; fields?: LogFields}> = [];
			store = await openPostgresStore(cluster!.url, {poolSize: 2, log: loggedTo(lines)});
			await store.registerUser(storedUser('alice'));
			// Both connections open: one for the batch, one idle when the server stops.
			await Promise.all([store.user('alice'), store.user('alice')]);
			const held = heldBatch(store);
			await held.inside;
			await cluster!.stop();
			held.resume();
			const batchError = await held.done;
			expect(isStoreUnavailable(batchError), String(batchError)).toBe(true);

			const calls: Array<[string, () => Promise<unknown>]> = [
				['user', async () => store!.user('alice')],
				['registerUser', async () => store!.registerUser(storedUser('bob'))],
				['claimBundle', async () => store!.claimBundle('alice', true)],
				['batch', async () => store!.batch(async tx => tx.userCount())],
			];
			for (const [name, call] of calls) {
				const error = await call().then(
					() => undefined,
					(failed: unknown) => failed,
				);
				expect(errorCode(error), `${name}: ${String(error)}`).toBe('ECONNREFUSED');
				expect(isStoreUnavailable(error)).toBe(true);
			}

			await cluster!.start();
			expect(await store.user('alice')).toEqual(storedUser('alice'));
			expect(await store.user('inside')).toBeUndefined();
			expect(await store.registerUser(storedUser('bob'))).toBe(true);
			expect(await store.batch(async tx => tx.userCount())).toBe(2);
			expect(lines.some(line => line.event === 'store_connection_lost')).toBe(true);
		}, 60_000);
	},
);
