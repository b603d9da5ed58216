import pg from 'pg';
import {StoreError, withCode} from './pg-errors.js';
import type {Queryable} from './queryable.js';

type AnyQuery = (...args: unknown[]) => Promise<unknown>;

/** The pool behind each Queryable made by poolQueryable: atomic() opens a transaction of its own there. */
const pools = new WeakMap<Queryable, pg.Pool>();

/** `query` of `target`, its failures given a code (pg-errors.ts); refused once `isOpen` says the transaction is over. */
function guardedQuery(target: Queryable, isOpen: () => boolean = () => true): Queryable['query'] {
	const query = target.query.bind(target) as unknown as AnyQuery;
	const guarded: AnyQuery = async (...args) => {
		if (!isOpen()) {
			throw new StoreError('this transaction is over: a store given to batch() is used only inside its work', '25000');
		}
		try {
			return await query(...args);
		} catch (error) {
			throw withCode(error);
		}
	};
	return guarded as unknown as Queryable['query'];
}

/** What the store's parts query outside a batch: the pool, each statement on its own (atomic() for several). */
export function poolQueryable(pool: pg.Pool): Queryable {
	const db: Queryable = {query: guardedQuery(pool)};
	pools.set(db, pool);
	return db;
}

/**
 * Runs `work` atomically: on the pool, in a transaction of its own; on the client of an open
 * transaction (inside a batch), inline, as part of it. What a part calls when a method takes more
 * than one statement.
 */
export async function atomic<T>(db: Queryable, work: (db: Queryable) => Promise<T>): Promise<T> {
	const pool = pools.get(db) ?? (db instanceof pg.Pool ? db : undefined);
	return pool === undefined ? work(db) : inTransaction(pool, work);
}

/**
 * Checks a client out of the pool, begins, runs `work` with it, commits; on a rejection or a
 * failed commit rolls back and rejects; always gives the client back (dropped if its connection
 * failed). A connection that fails meanwhile rejects the call, never the process.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (db: Queryable) => Promise<T>): Promise<T> {
	let client: pg.PoolClient;
	try {
		client = await pool.connect();
	} catch (error) {
		throw withCode(error);
	}
	let lost: Error | undefined;
	// A checked-out client whose server goes away emits 'error'; unheard, that would end the process.
	const onError = (error: Error): void => {
		lost ??= error;
	};
	client.on('error', onError);
	let open = true;
	const db: Queryable = {query: guardedQuery(client, () => open)};
	try {
		await db.query('begin');
		const result = await work(db);
		const committed = await db.query('commit');
		// PostgreSQL answers COMMIT of a transaction in which a statement failed with ROLLBACK, not an error.
		if (committed.command !== 'COMMIT') {
			throw new StoreError('the transaction was rolled back: a statement in it failed (its error was caught inside the work)', '25P02');
		}
		return result;
	} catch (error) {
		if (lost === undefined) {
			await client.query('rollback').catch((failed: unknown) => {
				lost = failed instanceof Error ? failed : new Error(String(failed));
			});
		}
		throw withCode(error);
	} finally {
		open = false;
		client.off('error', onError);
		client.release(lost);
	}
}
