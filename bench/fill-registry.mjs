// Registers users straight into a relay's database (the relay must be down): a registry of a
// million in seconds, where registering them over the wire would take hours of signature checks.
import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import {databaseFileName, openSqliteStore} from '../dist/relay/sqlite-store.js';

/**
 * `count` users user0, user1, … in `dataDir`'s database. Their keys are random bytes (no binding
 * verifies), except for the names in `records` ({username, identity, x25519, binding} in B64U),
 * which are registered with those real records instead.
 */
export function fillRegistry(dataDir, count, records = []) {
	openSqliteStore(dataDir).close();
	const db = new Database(join(dataDir, databaseFileName));
	try {
		const insert = db.prepare('insert into users (username, identity, x25519, binding, registered_at, confirmed) values (?, ?, ?, ?, 0, 1)');
		const real = new Map(records.map(record => [record.username, record]));
		// One pool of random bytes, sliced per row: random enough for filler, and fast.
		const pool = randomBytes(1 << 20);
		const slice = (offset, length) => pool.subarray(offset % (pool.length - length), (offset % (pool.length - length)) + length).toString('base64url');
		const batch = 100_000;
		for (let start = 0; start < count; start += batch) {
			db.transaction(() => {
				for (let index = start; index < Math.min(count, start + batch); index++) {
					const username = `user${index}`;
					const record = real.get(username);
					if (record) insert.run(username, record.identity, record.x25519, record.binding);
					else insert.run(username, slice(index * 7, 32), slice(index * 11 + 3, 32), slice(index * 13 + 5, 64));
				}
			})();
		}
		for (const record of records) if (!/^user\d+$/.test(record.username)) insert.run(record.username, record.identity, record.x25519, record.binding);
	} finally {
		db.close();
	}
}
