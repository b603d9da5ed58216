import {describe} from 'vitest';
import {openSqliteStore} from '../../source/relay/sqlite-store.js';
import {asyncSqliteStore} from '../../source/relay/sqlite-async.js';
import {createRoomTables, pgRoomsOnlyStore} from '../helpers/pg-rooms.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {tempDir} from '../helpers/temp-dir.js';
import {roomBehaviours} from './rooms-behaviours.js';

describe('rooms on SQLite (sqlite-rooms.ts behind sqlite-async.ts)', () => {
	roomBehaviours(async () => asyncSqliteStore(openSqliteStore(tempDir())));
});

describePostgres('rooms on PostgreSQL (postgres/pg-rooms.ts)', () => {
	const database = usePostgresDatabase();
	let made = false;
	roomBehaviours(async () => {
		if (!made) await createRoomTables(database.url);
		made = true;
		return pgRoomsOnlyStore(database.url);
	});
});
