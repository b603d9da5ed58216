import {chmodSync, closeSync, lstatSync, mkdirSync, openSync, readSync, statSync} from 'node:fs';
import {dirname} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import {migrate} from './migrations.js';
import {checkPrivateDescriptor} from './private-file.js';

export type SqliteDatabase = Database.Database;

/** The first 16 bytes of every SQLite file that is not encrypted. */
const plainHeader = Buffer.from('SQLite format 3\0', 'latin1');

/** What is on disk at a database path before it is opened. */
export type DatabaseFileState = 'absent' | 'plain' | 'encrypted';

/** Why an account's database could not be opened: `code` says what a UI should do about it. */
export class AccountDatabaseError extends Error {
	constructor(
		readonly code: 'passphrase_required' | 'wrong_passphrase' | 'account_in_use' | 'damaged' | 'unsafe_file',
		message: string,
	) {
		super(message);
		this.name = 'AccountDatabaseError';
	}
}

/**
 * The account databases this process has open, by device and inode, and whether each is encrypted.
 * SQLite's lock is a POSIX record lock, and closing any descriptor of a file drops every such lock
 * the process holds on it: so no file descriptor of ours may ever be opened and closed on a
 * database that is open here (a second open, or a look at its header, would hand the lock away
 * and let another process write beside this one).
 */
const openHere = new Map<string, {encrypted: boolean}>();
const keyOf = new WeakMap<SqliteDatabase, string>();

function inodeKey(path: string): string | undefined {
	try {
		const stats = statSync(path);
		return `${stats.dev}:${stats.ino}`;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
}

export function databaseFileState(path: string): DatabaseFileState {
	const key = inodeKey(path);
	const open = key === undefined ? undefined : openHere.get(key);
	if (open !== undefined) return open.encrypted ? 'encrypted' : 'plain';
	let fd: number;
	try {
		fd = openSync(path, 'r');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
		throw error;
	}
	try {
		const header = Buffer.alloc(16);
		const read = readSync(fd, header, 0, 16, 0);
		// An empty file is what a process killed while creating the database leaves: SQLite treats it as new.
		if (read === 0) return 'absent';
		return read === 16 && header.equals(plainHeader) ? 'plain' : 'encrypted';
	} finally {
		closeSync(fd);
	}
}

/**
 * Opens (or creates) one account's database, migrated to the current schema, holding its lock:
 * SQLite's exclusive locking mode, taken at once with a write, so a second process on the same
 * account fails here with a clear error instead of waiting, and none ever writes beside another.
 * A passphrase given for a database without one adds it.
 *
 * With a passphrase the whole file is encrypted (SQLCipher 4's format: AES-256-CBC with an
 * HMAC-SHA512 per page, the key from PBKDF2-HMAC-SHA512 over 256,000 iterations and a random salt
 * in the file's first 16 bytes); temp_store=MEMORY keeps sorts and temporary tables off the disk,
 * where they would be plaintext. The WAL (the journal) is encrypted page by page like the file.
 */
export function openAccountDatabase(path: string, passphrase?: string): SqliteDatabase {
	checkPassphrase(passphrase);
	mkdirSync(dirname(path), {recursive: true, mode: 0o700});
	refuseLink(path);
	refuseLink(`${path}-wal`);
	const existing = inodeKey(path);
	if (existing !== undefined && openHere.has(existing)) {
		throw new AccountDatabaseError('account_in_use', `another im-tui is using this account (${path} is open in this process already); quit it first, one client per account at a time`);
	}
	const state = databaseFileState(path);
	if (state === 'encrypted' && passphrase === undefined) {
		throw new AccountDatabaseError('passphrase_required', `${path} is encrypted: give its passphrase (--passphrase-file, IM_TUI_PASSPHRASE, or at the prompt)`);
	}
	// Created 0600 before SQLite sees it: SQLite gives its -wal file the database file's mode.
	closeSync(openSync(path, 'a', 0o600));
	checkPrivate(path);
	const db = new Database(path, {timeout: 0});
	try {
		if (passphrase !== undefined && state !== 'plain') applyKey(db, passphrase);
		db.pragma('locking_mode = EXCLUSIVE');
		db.pragma('journal_mode = WAL');
		db.pragma('synchronous = NORMAL');
		db.pragma('temp_store = MEMORY');
		db.pragma('secure_delete = ON');
		db.pragma('foreign_keys = ON');
		// Takes the exclusive lock now, and keeps it until close.
		db.exec('BEGIN EXCLUSIVE; COMMIT');
		migrate(db);
		const key = inodeKey(path)!;
		openHere.set(key, {encrypted: passphrase !== undefined && state !== 'plain'});
		keyOf.set(db, key);
		const close = db.close.bind(db);
		db.close = () => {
			openHere.delete(key);
			return close();
		};
		// A passphrase given for a database without one adds it.
		if (passphrase !== undefined && state === 'plain') changePassphrase(db, passphrase);
		return db;
	} catch (error) {
		db.close();
		throw translate(path, error, passphrase !== undefined && state === 'encrypted');
	}
}

/** Sets the key of an encrypted database (or of a new one): before anything else reads it. */
export function applyKey(db: SqliteDatabase, passphrase: string, pragma: 'key' | 'rekey' = 'key'): void {
	db.pragma(`cipher = 'sqlcipher'`);
	db.pragma('legacy = 4');
	db.pragma(`${pragma} = ${sqlString(passphrase)}`);
}

/**
 * An empty key is SQLite3MultipleCiphers' "no encryption": given as a passphrase it would leave the
 * database (or make it) plain while the user believes it encrypted. Refused before anything is touched.
 */
export function checkPassphrase(passphrase: string | undefined): void {
	if (passphrase === '') throw new TypeError('a passphrase cannot be empty: give one, or none to keep the database unencrypted');
}

function sqlString(text: string): string {
	return `'${text.replaceAll("'", "''")}'`;
}

function translate(path: string, error: unknown, keyed: boolean): Error {
	const code = (error as {code?: string}).code;
	if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
		return new AccountDatabaseError('account_in_use', `another im-tui is using this account (${path} is locked); quit it first, one process per account at a time`);
	}
	if (code === 'SQLITE_NOTADB') {
		return keyed
			? new AccountDatabaseError('wrong_passphrase', 'wrong passphrase for this account: nothing was changed; try again')
			: new AccountDatabaseError('damaged', `${path} is not a database im-tui can read: restore it from a backup`);
	}
	if (code === 'SQLITE_CORRUPT') return new AccountDatabaseError('damaged', `${path} is damaged (${(error as Error).message}): restore it from a backup`);
	return error as Error;
}

/**
 * An account's folder and its relay's folder are im-tui's own: 0700 even if they were made looser
 * (by hand, or by another tool), so nobody else lists whose accounts are there. Not for folders the
 * user chose (the data directory itself).
 */
export function keepPrivate(directory: string): void {
	const stats = lstatSync(directory, {throwIfNoEntry: false});
	if (stats === undefined || !stats.isDirectory()) return;
	if (process.getuid !== undefined && stats.uid !== process.getuid()) return;
	if ((stats.mode & 0o077) !== 0) chmodSync(directory, 0o700);
}

/** A database (or its WAL) that is a symbolic link would have SQLite write wherever it points. */
function refuseLink(path: string): void {
	if (lstatSync(path, {throwIfNoEntry: false})?.isSymbolicLink()) {
		throw new AccountDatabaseError('unsafe_file', `${path} is a symbolic link: im-tui keeps an account's database in the account's own folder, as a regular file`);
	}
}

/** Like ssh with a key file: a database others can read, or that belongs to someone else, is refused. */
function checkPrivate(path: string): void {
	const fd = openSync(path, 'r');
	try {
		checkPrivateDescriptor(fd, path, why => new AccountDatabaseError('unsafe_file', why));
	} finally {
		closeSync(fd);
	}
}

/**
 * Adds, changes (`passphrase` set) or removes (undefined) the encryption of an open database.
 * SQLite rewrites every page under the new key in a rollback-journal transaction, so the WAL is
 * emptied into the file first and the journal mode switched back after.
 */
export function changePassphrase(db: SqliteDatabase, passphrase: string | undefined): void {
	checkPassphrase(passphrase);
	db.pragma('wal_checkpoint(TRUNCATE)');
	db.pragma('journal_mode = DELETE');
	try {
		if (passphrase === undefined) db.pragma(`rekey = ''`);
		else applyKey(db, passphrase, 'rekey');
		const key = keyOf.get(db);
		if (key !== undefined) openHere.set(key, {encrypted: passphrase !== undefined});
	} finally {
		db.pragma('journal_mode = WAL');
	}
}
