import pg from 'pg';
import type {AsyncRelayStore} from '../../source/relay/async-store.js';
import {PgRoomStore, pgRoomSchema} from '../../source/relay/postgres/pg-rooms.js';

/** Makes the room tables in the database at `url` (what the store's migration does with pgRoomSchema). */
export async function createRoomTables(url: string): Promise<void> {
	const client = new pg.Client({connectionString: url});
	await client.connect();
	try {
		await client.query(pgRoomSchema);
	} finally {
		await client.end();
	}
}

/** Runs `work` in one transaction on a client of `pool`: commits when it resolves, rolls back when it rejects. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
	const client = await pool.connect();
	try {
		await client.query('begin');
		let result: T;
		try {
			result = await work(client);
		} catch (error) {
			await client.query('rollback');
			throw error;
		}
		await client.query('commit');
		return result;
	} finally {
		client.release();
	}
}

/**
 * PgRoomStore as an AsyncRelayStore of rooms only, with a batch (one transaction on a pooled
 * client) and close: what the room behaviours need until they run through the whole PostgreSQL
 * store. Methods of the rest of the store are not there.
 */
export function pgRoomsOnlyStore(url: string): AsyncRelayStore {
	const pool = new pg.Pool({connectionString: url, max: 4});
	const bound = (rooms: PgRoomStore, batch: AsyncRelayStore['batch'], close: () => Promise<void>): AsyncRelayStore =>
		new Proxy(rooms, {
			get(target, key) {
				if (key === 'kind') return 'postgres';
				if (key === 'batch') return batch;
				if (key === 'close') return close;
				const value: unknown = Reflect.get(target, key);
				return typeof value === 'function' ? value.bind(target) : value;
			},
		}) as unknown as AsyncRelayStore;
	const batch: AsyncRelayStore['batch'] = async work =>
		inTransaction(pool, async client => {
			const tx: AsyncRelayStore = bound(new PgRoomStore(client), async inner => inner(tx), async () => {
				throw new Error('close the store, not a transaction');
			});
			return work(tx);
		});
	return bound(new PgRoomStore(pool), batch, async () => pool.end());
}
