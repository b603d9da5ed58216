import {join} from 'node:path';
import {randomBytes} from 'node:crypto';
import Database from 'better-sqlite3';
import {loadOrCreateIdentity} from '../../source/client/identity-store.js';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {publicIdentity} from '../../source/crypto/identity.js';
import {databaseFileName, openSqliteStore} from '../../source/relay/sqlite-store.js';

/**
 * Rewrites the relay's record of `username` to the keys kept in `keysDir` (made there if new): the
 * relay, which must be down, then serves that user's contacts another identity.
 */
export function serveUserFrom(relayDir: string, fingerprint: string, username: string, keysDir: string): void {
	const record = publicIdentity(loadOrCreateIdentity(keysDir, fingerprint, username), username);
	const db = new Database(join(relayDir, databaseFileName));
	try {
		db.prepare('update users set identity = ?, x25519 = ?, binding = ? where username = ?').run(
			toBase64Url(record.identity),
			toBase64Url(record.x25519),
			toBase64Url(record.binding),
			username,
		);
	} finally {
		db.close();
	}
}

/**
 * Registers `count` users (user0, user1, …) with random keys straight into a relay's database
 * (the relay must be down), in one transaction: a large directory in a moment.
 */
export function fillDirectory(relayDir: string, count: number): void {
	openSqliteStore(relayDir).close();
	const db = new Database(join(relayDir, databaseFileName));
	try {
		const insert = db.prepare('insert into users (username, identity, x25519, binding, registered_at, confirmed) values (?, ?, ?, ?, 0, 1)');
		const key = (length: number) => randomBytes(length).toString('base64url');
		db.transaction(() => {
			for (let index = 0; index < count; index++) insert.run(`user${index}`, key(32), key(32), key(64));
		})();
	} finally {
		db.close();
	}
}
