import {join} from 'node:path';
import Database from 'better-sqlite3';
import {loadOrCreateIdentity} from '../../source/client/identity-store.js';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {publicIdentity} from '../../source/crypto/identity.js';
import {databaseFileName} from '../../source/relay/sqlite-store.js';

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
