import {join} from 'node:path';
import {randomBytes} from 'node:crypto';
import Database from 'better-sqlite3-multiple-ciphers';
import {accountKeysIn} from './account.js';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {publicIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import {databaseFileName, openSqliteStore} from '../../source/relay/sqlite-store.js';

/**
 * Rewrites the relay's record of `username` to the keys kept in `keysDir` (made there if new): the
 * relay, which must be down, then serves that user's contacts another identity. The prekeys it
 * held for the name go with the old record (as when a name changes hands, deleteUser): they were
 * signed by the other identity, and their ids, which every account counts from 0, would stand for
 * the new holder's own, so its client would never replace them.
 */
export function serveUserFrom(relayDir: string, fingerprint: string, username: string, keysDir: string): void {
	const record = publicIdentity(accountKeysIn(keysDir, fingerprint, username), username);
	const db = new Database(join(relayDir, databaseFileName));
	try {
		db.prepare('update users set identity = ?, x25519 = ?, binding = ? where username = ?').run(
			toBase64Url(record.identity),
			toBase64Url(record.x25519),
			toBase64Url(record.binding),
			username,
		);
		db.prepare('delete from signed_prekeys where username = ?').run(username);
		db.prepare('delete from one_time_prekeys where username = ?').run(username);
	} finally {
		db.close();
	}
}

/**
 * Registers `count` users (user0, user1, …) with random keys straight into a relay's database
 * (the relay must be down), in one transaction: a large directory in a moment. With `contactsOf`,
 * they are all that account's contacts (it need not be registered yet).
 */
export function fillDirectory(relayDir: string, count: number, options: {contactsOf?: string} = {}): void {
	openSqliteStore(relayDir).close();
	const db = new Database(join(relayDir, databaseFileName));
	try {
		const insert = db.prepare('insert into users (username, identity, x25519, binding, registered_at, confirmed) values (?, ?, ?, ?, 0, 1)');
		const contact = db.prepare('insert into contacts (owner, contact) values (?, ?)');
		const key = (length: number) => randomBytes(length).toString('base64url');
		db.transaction(() => {
			for (let index = 0; index < count; index++) {
				insert.run(`user${index}`, key(32), key(32), key(64));
				if (options.contactsOf !== undefined) contact.run(options.contactsOf, `user${index}`);
			}
		})();
	} finally {
		db.close();
	}
}

/** A user's public record as the relay stores it. */
export type StoredRecord = {identity: string; x25519: string; binding: string};

/**
 * Registers `count` filler users (filler0000000, filler0000001, …) that all share `record`, in
 * one statement: a million in a few seconds. Their bindings do not verify (they are not made
 * for their names); they are there to be counted, not to be talked to.
 */
export function fillManyUsers(relayDir: string, count: number, record: StoredRecord): void {
	openSqliteStore(relayDir).close();
	const db = new Database(join(relayDir, databaseFileName));
	try {
		db.pragma('synchronous = OFF');
		db.prepare(
			`with recursive n(i) as (select 0 union all select i + 1 from n where i < ?)
			insert into users (username, identity, x25519, binding, registered_at, confirmed)
			select 'filler' || substr('000000' || i, -7, 7), ?, ?, ?, 0, 1 from n`,
		).run(count - 1, record.identity, record.x25519, record.binding);
	} finally {
		db.close();
	}
}

/** Registers `username` with the keys in `keys` and gives it `contacts` (registered or not), straight into the database. */
export function registerWithContacts(relayDir: string, username: string, keys: IdentityKeys, contacts: readonly string[]): void {
	openSqliteStore(relayDir).close();
	const record = publicIdentity(keys, username);
	const db = new Database(join(relayDir, databaseFileName));
	try {
		db.prepare('insert into users (username, identity, x25519, binding, registered_at, confirmed) values (?, ?, ?, ?, 0, 1)').run(
			username,
			toBase64Url(record.identity),
			toBase64Url(record.x25519),
			toBase64Url(record.binding),
		);
		const contact = db.prepare('insert into contacts (owner, contact) values (?, ?)');
		for (const name of contacts) contact.run(username, name);
	} finally {
		db.close();
	}
}
