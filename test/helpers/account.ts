import {join} from 'node:path';
import {ContactStore} from '../../source/client/contact-store.js';
import {openAccountDatabase} from '../../source/client/store/account-database.js';
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
