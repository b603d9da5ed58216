import {copyFileSync, existsSync, mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {ContactStore} from '../../source/client/contact-store.js';
import {openAccountDatabase} from '../../source/client/store/account-database.js';
import {accountDirectory, databasePath} from '../../source/client/store/account-paths.js';
import {AccountStore} from '../../source/client/store/account-store.js';
import {tempDir} from './temp-dir.js';

/** A ContactStore on a database of its own in `directory` (a new temporary one by default), open until the test process ends. */
export function contactStoreIn(directory = tempDir()): ContactStore {
	return new ContactStore(openAccountDatabase(join(directory, 'account.db')));
}

/** Opens `username`'s account in `dataDir` (as a client not running now would), reads it, and closes it again. */
export function withAccount<T>(dataDir: string, relayFingerprint: string, username: string, read: (account: AccountStore) => T): T {
	const account = AccountStore.open(dataDir, relayFingerprint, username);
	try {
		return read(account);
	} finally {
		account.close();
	}
}

/** The identity keys of `username`'s account in `dataDir`, made on first use. */
export function accountKeysIn(dataDir: string, relayFingerprint: string, username: string) {
	return withAccount(dataDir, relayFingerprint, username, account => account.keys);
}

/**
 * `username`'s account (made now if new) copied from `dataDir` to `toDataDir` (a new temporary one
 * by default), as a backup restored on a second device would be: the same keys, contacts and
 * outbox, in a database of its own. Two clients can then log in as the same identity at once. The
 * account must not be open.
 */
export function copyAccount(dataDir: string, relayFingerprint: string, username: string, toDataDir = tempDir()): string {
	withAccount(dataDir, relayFingerprint, username, () => {});
	mkdirSync(accountDirectory(toDataDir, relayFingerprint, username), {recursive: true, mode: 0o700});
	const from = databasePath(dataDir, relayFingerprint, username);
	const to = databasePath(toDataDir, relayFingerprint, username);
	copyFileSync(from, to);
	// Closed, the database has its write-ahead log emptied into it; copied all the same if one is left.
	if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${to}-wal`);
	return toDataDir;
}
