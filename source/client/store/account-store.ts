import {mkdirSync} from 'node:fs';
import {dirname} from 'node:path';
import type {IdentityKeys} from '../../crypto/identity.js';
import {CarryOverMark} from '../carry-over-mark.js';
import {ContactStore} from '../contact-store.js';
import {History, type Retention} from '../history.js';
import {OutboxStore} from '../outbox-store.js';
import {changePassphrase, checkPassphrase, databaseFileState, keepPrivate, openAccountDatabase, type DatabaseFileState, type SqliteDatabase} from './account-database.js';
import {loadOrCreateAccountKeys} from './account-keys.js';
import {accountDirectory, databasePath} from './account-paths.js';
import {importLegacyAccount} from './legacy-import.js';

export const pruneIntervalMs = 3_600_000;

export type AccountStoreOptions = {
	/** Encrypts the database (and so the keys in it); a new database is created encrypted. */
	passphrase?: string;
	retention?: Retention;
};

/**
 * Everything the client keeps for one account on one relay, in one database: the keys, contacts,
 * outbox, history and settings. Opening it takes the database's lock (one process per account)
 * and imports what a release before 0.3 left in JSON files. close() releases it.
 */
export class AccountStore {
	readonly keys: IdentityKeys;
	readonly contacts: ContactStore;
	readonly outbox: OutboxStore;
	readonly history: History;
	readonly carryOver: CarryOverMark;
	/** Whether this open imported the JSON files of an older release. */
	readonly imported: boolean;
	#closed = false;
	/** With a retention of some days, what grows too old goes every hour, not only at each start. */
	#pruning: NodeJS.Timeout | undefined;

	private constructor(
		private readonly db: SqliteDatabase,
		readonly path: string,
		relayFingerprint: string,
		readonly username: string,
		directory: string,
		retention: Retention | undefined,
	) {
		this.imported = importLegacyAccount(db, directory, relayFingerprint, username);
		this.keys = loadOrCreateAccountKeys(db, relayFingerprint, username);
		this.contacts = new ContactStore(db);
		this.outbox = new OutboxStore(db);
		this.history = new History(db, retention);
		this.carryOver = new CarryOverMark(db);
		if (typeof retention === 'object') {
			this.#pruning = setInterval(() => {
				try {
					this.history.prune();
				} catch {
					// A full disk or a busy moment: the next hour, or the next start, tries again.
				}
			}, pruneIntervalMs);
			this.#pruning.unref();
		}
	}

	static open(dataDir: string, relayFingerprint: string, username: string, options: AccountStoreOptions = {}): AccountStore {
		const path = databasePath(dataDir, relayFingerprint, username);
		const directory = accountDirectory(dataDir, relayFingerprint, username);
		// Refused before anything is made.
		checkPassphrase(options.passphrase);
		mkdirSync(directory, {recursive: true, mode: 0o700});
		keepPrivate(dirname(directory));
		keepPrivate(directory);
		const db = openAccountDatabase(path, options.passphrase);
		try {
			return new AccountStore(db, path, relayFingerprint, username, directory, options.retention);
		} catch (error) {
			db.close();
			throw error;
		}
	}

	/** Whether the account's database exists, and whether it is encrypted: what a UI asks before login. */
	static state(dataDir: string, relayFingerprint: string, username: string): DatabaseFileState {
		return databaseFileState(databasePath(dataDir, relayFingerprint, username));
	}

	/** Adds, changes or (undefined) removes the passphrase. */
	setPassphrase(passphrase: string | undefined): void {
		changePassphrase(this.db, passphrase);
	}

	/** The database itself: for maintenance, and for tests that make it fail as a full disk would. */
	get database(): SqliteDatabase {
		return this.db;
	}

	get closed(): boolean {
		return this.#closed;
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		clearInterval(this.#pruning);
		this.db.close();
	}
}
