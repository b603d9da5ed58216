import {afterEach, describe} from 'vitest';
import type {AsyncRelayStore} from '../../source/relay/async-store.js';
import {asyncSqliteStore} from '../../source/relay/sqlite-async.js';
import {openSqliteStore} from '../../source/relay/sqlite-store.js';
import {tempDir} from '../helpers/temp-dir.js';
import {batchBehaviours} from './batch-behaviours.js';
import {contactBehaviours} from './contacts-behaviours.js';
import {prekeyBehaviours} from './prekeys-behaviours.js';
import {queueBehaviours} from './queue-behaviours.js';
import {roomBehaviours} from './rooms-behaviours.js';
import {userBehaviours} from './users-behaviours.js';

describe('the SQLite store (sqlite-async.ts over sqlite-store.ts)', () => {
	const opened: AsyncRelayStore[] = [];
	// A test that fails before closing its store still lets go of the file.
	afterEach(async () => {
		for (const store of opened.splice(0)) await store.close().catch(() => undefined);
	});
	const open = async (): Promise<AsyncRelayStore> => {
		const store = asyncSqliteStore(openSqliteStore(tempDir()));
		opened.push(store);
		return store;
	};
	userBehaviours(open);
	contactBehaviours(open);
	queueBehaviours(open);
	prekeyBehaviours(open);
	batchBehaviours(open);
	roomBehaviours(open);
});
