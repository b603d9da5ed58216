import type pg from 'pg';
import type {Queryable} from './queryable.js';

/**
 * The cluster's own tables: one lease row per running relay, one session row per logged-in
 * username (which relay and connection hold it). The store's tables are pg-schema.ts's; these two
 * are made here, so the cluster's parts need nothing of the store.
 */
const clusterSchema = `
create table if not exists relays (
	id text primary key,
	started_at timestamptz not null,
	expires_at timestamptz not null
);
create index if not exists relays_expires on relays (expires_at);
create table if not exists sessions (
	username text primary key,
	relay text not null,
	connection text not null,
	generation bigint not null
);
create index if not exists sessions_relay on sessions (relay, username);
`;

/** Makes the tables if they are absent. Relays starting together take turns (the advisory lock), so two never race on one `create`. */
export async function ensureClusterSchema(pool: pg.Pool): Promise<void> {
	await inTransaction(pool, async tx => {
		await tx.query("select pg_advisory_xact_lock(hashtext('im-tui cluster schema'))");
		await tx.query(clusterSchema);
	});
}

/**
 * Runs `work` in one transaction on a client of its own: commits when it resolves, rolls back and
 * rejects when it rejects or the commit fails. A client whose connection failed is discarded, not
 * returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (tx: Queryable) => Promise<T>): Promise<T> {
	const client = await pool.connect();
	let broken: Error | undefined;
	try {
		await client.query('begin');
		try {
			const result = await work(client);
			await client.query('commit');
			return result;
		} catch (error) {
			await client.query('rollback').catch((rollbackError: unknown) => {
				broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
			});
			throw error;
		}
	} catch (error) {
		broken ??= isConnectionError(error) ? (error as Error) : undefined;
		throw error;
	} finally {
		client.release(broken);
	}
}

/**
 * Errors after which the connection is unusable: no SQLSTATE at all (the socket failed), a
 * connection exception (08...) or the server ending the backend (57P..).
 */
function isConnectionError(error: unknown): boolean {
	const code = (error as {code?: unknown} | undefined)?.code;
	if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
	return code.startsWith('08') || code.startsWith('57P');
}
