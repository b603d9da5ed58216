import {afterAll, beforeAll} from 'vitest';
import type {AsyncRelayStore} from '../../source/relay/async-store.js';
import {openPostgresStore, type PostgresStore} from '../../source/relay/postgres/pg-store.js';
import {emptyStoreTables} from '../helpers/pg-store.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {batchBehaviours} from './batch-behaviours.js';
import {contactBehaviours} from './contacts-behaviours.js';
import {prekeyBehaviours} from './prekeys-behaviours.js';
import {queueBehaviours} from './queue-behaviours.js';
import {roomBehaviours} from './rooms-behaviours.js';
import {userBehaviours} from './users-behaviours.js';

describePostgres('the PostgreSQL store (postgres/pg-store.ts)', () => {
	const database = usePostgresDatabase();
	let store: PostgresStore | undefined;
	beforeAll(async () => {
		store = await openPostgresStore(database.url, {poolSize: 4});
	});
	afterAll(async () => {
		await store?.close();
	});
	/** The one store of the file, emptied: a test's close leaves it open for the next. */
	const open = async (): Promise<AsyncRelayStore> => {
		await emptyStoreTables(store!.pool);
		return {...store!, close: async () => undefined};
	};
	userBehaviours(open);
	contactBehaviours(open);
	queueBehaviours(open);
	prekeyBehaviours(open);
	batchBehaviours(open);
	roomBehaviours(open);
});
