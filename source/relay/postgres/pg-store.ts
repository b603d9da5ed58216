import pg from 'pg';
import type {AsyncRelayStore, AsyncRoomStore} from '../async-store.js';
import {silentLogger, type Logger} from '../logger.js';
import {errorCode, StoreError} from './pg-errors.js';
import {PgPrekeys, prekeyMethods} from './pg-prekeys.js';
import {PgQueue, queueMethods} from './pg-queue.js';
import {PgRoomStore} from './pg-rooms.js';
import {createSchema, schemaVersion} from './pg-schema.js';
import {inTransaction, poolQueryable} from './pg-transaction.js';
import {PgUsers, userMethods, type InviteDeleter} from './pg-users.js';
import type {Queryable} from './queryable.js';

/** The relay store in PostgreSQL, which several relays share; `pool` for the cluster's own statements (LISTEN, leases). */
export type PostgresStore = AsyncRelayStore & {readonly pool: pg.Pool};

export type PostgresStoreOptions = {
	/** Connections this relay holds at most (10). */
	poolSize?: number;
	log?: Logger;
};

const roomMethods = [
	'room', 'saveRoom', 'createRoom', 'moveRoomHead', 'takeRoomSeqs', 'deleteRoom', 'appendLog', 'roomLog', 'roomMembers', 'saveMember',
	'setAdmin', 'departMember', 'deleteMember', 'setPosition', 'memberRoomCount', 'memberRooms', 'sharesRoom', 'hasReader', 'insertRoomItem',
	'roomMessageById', 'insertRoomKeys', 'deleteRoomKeys', 'roomItemCounts', 'roomItems', 'markDelivered', 'deleteReadItems', 'roomItemTotals',
	'invite', 'saveInvite', 'acceptInvite', 'deleteInvite', 'inviteCounts', 'invitesFor', 'acceptedInvites', 'purgeRooms',
] as const satisfies ReadonlyArray<keyof AsyncRoomStore>;

const int8 = 20;

/** bigint columns (numbers and times) come back as numbers, as the contract has them; one beyond 2^53 is an error, not a rounded number. */
function parseInt8(text: string): number {
	const value = Number(text);
	if (!Number.isSafeInteger(value)) throw new RangeError(`PostgreSQL returned ${text}, beyond the numbers JavaScript holds exactly`);
	return value;
}

const storeTypes: pg.CustomTypesConfig = {
	getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
		oid === int8 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

const deleteInvites: InviteDeleter = async (db, username) => new PgRoomStore(db).deleteUserInvites(username);

function delegate<T extends object, K extends keyof T>(part: T, names: readonly K[]): Pick<T, K> {
	const methods = {} as Pick<T, K>;
	for (const name of names) {
		const method = part[name];
		methods[name] = (typeof method === 'function' ? method.bind(part) : method) as T[K];
	}
	return methods;
}

/** The store's methods over `db` (the pool, or the client of an open transaction), but close; a method no part has fails to compile here. */
function storeOver(db: Queryable, batch: AsyncRelayStore['batch']): Omit<AsyncRelayStore, 'close'> {
	return {
		kind: 'postgres',
		...delegate(new PgRoomStore(db), roomMethods),
		...delegate(new PgUsers(db, deleteInvites), userMethods),
		...delegate(new PgQueue(db), queueMethods),
		...delegate(new PgPrekeys(db), prekeyMethods),
		batch,
	};
}

/** The store bound to an open transaction: what batch's work gets; a batch of it runs inline. */
function transactionStore(db: Queryable): AsyncRelayStore {
	const tx: AsyncRelayStore = {
		...storeOver(db, async work => work(tx)),
		close: async () => {
			throw new StoreError('close the store, not a transaction', 'close_transaction');
		},
	};
	return tx;
}

function checkedUrl(url: string): string {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		throw new StoreError('a PostgreSQL store is given as postgres://user@host:port/database', 'bad_store_url');
	}
	if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
		throw new StoreError(`a PostgreSQL store is given as postgres://user@host:port/database, not ${parsed.protocol}//`, 'bad_store_url');
	}
	return url;
}

/**
 * Connects a pool to the database at `url`, makes or checks the schema (pg-schema.ts), and returns
 * the store. Store methods run on the pool, each atomic on its own; `batch` is one transaction on
 * one client. A failure of PostgreSQL rejects the call with an error carrying a code
 * (isStoreUnavailable says which mean "not reachable"); it never ends the process.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
	const poolSize = options.poolSize ?? 10;
	if (!Number.isInteger(poolSize) || poolSize < 1) throw new StoreError(`a pool of ${poolSize} connections: give a whole number, 1 or more`, 'bad_pool_size');
	const log = options.log ?? silentLogger;
	const pool = new pg.Pool({
		connectionString: checkedUrl(url),
		max: poolSize,
		types: storeTypes,
		connectionTimeoutMillis: 10_000,
		keepAlive: true,
	});
	// An idle connection the server dropped: the pool discards it and the next call opens another.
	pool.on('error', error => log('store_connection_lost', {kind: 'postgres', code: errorCode(error) ?? null}));
	try {
		const schema = await createSchema(pool);
		log('store_opened', {kind: 'postgres', schema: schemaVersion, created: schema === 'created'});
	} catch (error) {
		await pool.end().catch(() => undefined);
		throw error;
	}
	let closing: Promise<void> | undefined;
	return {
		...storeOver(poolQueryable(pool), async work => inTransaction(pool, async client => work(transactionStore(client)))),
		pool,
		close: async () => {
			closing ??= pool.end();
			await closing;
		},
	};
}
