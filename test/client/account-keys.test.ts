import {randomBytes} from 'node:crypto';
import {chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {AccountDatabaseError, openAccountDatabase} from '../../source/client/store/account-database.js';
import {accountDirectory, databasePath} from '../../source/client/store/account-paths.js';
import {AccountStore} from '../../source/client/store/account-store.js';
import {schemaVersion} from '../../source/client/store/migrations.js';
import {publicIdentity, verifyBinding} from '../../source/crypto/identity.js';
import {privateRaw} from '../../source/crypto/raw-keys.js';
import {tempDir} from '../helpers/temp-dir.js';
import {encodings, mode, relayFingerprint} from './store-files.js';

const relay = relayFingerprint();
const otherRelay = relayFingerprint();

const open: Array<{close(): void}> = [];
afterEach(() => {
	for (const handle of open.splice(0)) handle.close();
});

function openStore(dataDir: string, username = 'alice', relayFingerprint = relay): AccountStore {
	const store = AccountStore.open(dataDir, relayFingerprint, username);
	open.push(store);
	return store;
}

/** What the file is, byte for byte, and when it was last written. */
function snapshot(path: string): {bytes: Buffer; mtime: bigint} {
	return {bytes: readFileSync(path), mtime: statSync(path, {bigint: true}).mtimeNs};
}

function errorOf(action: () => unknown): Error {
	try {
		action();
	} catch (error) {
		return error as Error;
	}
	throw new Error('expected an error');
}

describe('the account keys', () => {
	it('are made on first use, in a 0600 database inside 0700 directories', () => {
		const dataDir = join(tempDir(), 'data');
		const store = openStore(dataDir);
		expect(verifyBinding('alice', publicIdentity(store.keys, 'alice'))).toBe(true);
		expect(store.path).toBe(databasePath(dataDir, relay, 'alice'));
		expect(mode(store.path)).toBe(0o600);
		for (const directory of [dataDir, join(dataDir, relay), join(dataDir, relay, 'alice')]) expect(mode(directory), directory).toBe(0o700);
		store.close();
		// Closed, the WAL is folded into the database and removed: one file.
		expect(readdirSync(join(dataDir, relay, 'alice'))).toEqual(['account.db']);
		expect(AccountStore.state(dataDir, relay, 'alice')).toBe('plain');
		expect(AccountStore.state(dataDir, relay, 'bob')).toBe('absent');
	});

	it('are the same keys on every later open', () => {
		const dataDir = tempDir();
		const first = openStore(dataDir);
		first.close();
		const again = openStore(dataDir);
		expect(again.keys.identity.publicRaw).toEqual(first.keys.identity.publicRaw);
		expect(again.keys.x25519.publicRaw).toEqual(first.keys.x25519.publicRaw);
		expect(privateRaw(again.keys.identity.privateKey)).toEqual(privateRaw(first.keys.identity.privateKey));
		expect(privateRaw(again.keys.x25519.privateKey)).toEqual(privateRaw(first.keys.x25519.privateKey));
		expect(publicIdentity(again.keys, 'alice')).toEqual(publicIdentity(first.keys, 'alice'));
	});

	it('are one identity per relay and username', () => {
		const dataDir = tempDir();
		const stores = [openStore(dataDir, 'alice'), openStore(dataDir, 'bob'), openStore(dataDir, 'alice', otherRelay)];
		const keys = stores.map(store => store.keys.identity.publicRaw.toString('hex'));
		expect(new Set(keys).size).toBe(3);
		for (const store of stores) store.close();
		expect(openStore(dataDir, 'bob').keys.identity.publicRaw.toString('hex')).toBe(keys[1]);
		expect(openStore(dataDir, 'alice', otherRelay).keys.identity.publicRaw.toString('hex')).toBe(keys[2]);
	});

	it('refuse a database file other users can read or write, and leave it alone', () => {
		const dataDir = tempDir();
		const store = openStore(dataDir);
		store.close();
		const before = snapshot(store.path);
		for (const fileMode of [0o644, 0o640, 0o604, 0o620, 0o660]) {
			chmodSync(store.path, fileMode);
			const error = errorOf(() => openStore(dataDir));
			expect(error, fileMode.toString(8)).toBeInstanceOf(AccountDatabaseError);
			expect(error).toMatchObject({code: 'unsafe_file', message: expect.stringMatching(/accessible by other users.*chmod 600/)});
			expect(snapshot(store.path)).toEqual(before);
			expect(mode(store.path)).toBe(fileMode);
			expect(readdirSync(join(dataDir, relay, 'alice'))).toEqual(['account.db']);
		}
		chmodSync(store.path, 0o600);
		expect(openStore(dataDir).keys.identity.publicRaw).toEqual(store.keys.identity.publicRaw);
	});

	it('refuse a directory in place of the database', () => {
		const dataDir = tempDir();
		mkdirSync(databasePath(dataDir, relay, 'alice'), {recursive: true});
		expect(() => openStore(dataDir)).toThrow();
	});

	it.each<[string, string]>([
		['another relay', `UPDATE account SET relay = '${otherRelay}'`],
		['another user', `UPDATE account SET username = 'bob'`],
		['a short secret', 'UPDATE account SET identity_secret = substr(identity_secret, 1, 31)'],
		['a public key that does not match', 'UPDATE account SET x25519_public = identity_public'],
		['an x25519 secret that is not one', 'UPDATE account SET x25519_secret = zeroblob(0)'],
	])('refuse a damaged account row (%s), never replace it, and put no secret in the message', (_, damage) => {
		const dataDir = tempDir();
		const store = openStore(dataDir);
		const secrets = [privateRaw(store.keys.identity.privateKey), privateRaw(store.keys.x25519.privateKey)];
		store.close();
		const db = openAccountDatabase(store.path);
		db.exec(damage);
		const row = db.prepare('SELECT * FROM account').get();
		db.close();

		const error = errorOf(() => openStore(dataDir));
		expect(error.message).toMatch(/this account's keys are damaged \(.+\): restore its database from a backup/);
		for (const secret of secrets) {
			for (const form of [secret.toString('hex'), secret.toString('base64'), secret.toString('base64url'), secret.toString('latin1')]) {
				expect(error.message).not.toContain(form);
				expect(error.stack ?? '').not.toContain(form);
			}
		}
		const after = openAccountDatabase(store.path);
		open.push(after);
		expect(after.prepare('SELECT * FROM account').get()).toEqual(row);
		expect(after.prepare('SELECT COUNT(*) FROM account').pluck().get()).toBe(1);
	});

	it('never put a secret in the message of a refused open', () => {
		const dataDir = tempDir();
		const store = openStore(dataDir);
		store.close();
		const secret = privateRaw(store.keys.identity.privateKey);
		chmodSync(store.path, 0o644);
		const errors = [errorOf(() => openStore(dataDir))];
		chmodSync(store.path, 0o600);
		const holder = openStore(dataDir);
		errors.push(errorOf(() => openStore(dataDir)));
		holder.close();
		for (const error of errors) {
			expect(error).toBeInstanceOf(AccountDatabaseError);
			for (const {name, bytes} of encodings(secret.toString('latin1'))) expect(error.message, name).not.toContain(bytes.toString('latin1'));
			for (const form of [secret.toString('hex'), secret.toString('base64url')]) expect(error.message).not.toContain(form);
		}
	});

	it('refuse names and fingerprints that are not safe path parts, creating nothing', () => {
		const dataDir = tempDir();
		for (const username of ['..', '../bob', 'Alice', 'a/b', '', 'everyone']) {
			expect(() => AccountStore.open(dataDir, relay, username), username).toThrow(TypeError);
			expect(() => AccountStore.state(dataDir, relay, username), username).toThrow(TypeError);
		}
		for (const relayFingerprint of ['..', relay.toUpperCase(), relay.slice(1), `${relay.slice(0, 63)}/`, `../${relay.slice(3)}`]) {
			expect(() => AccountStore.open(dataDir, relayFingerprint, 'alice'), relayFingerprint).toThrow(TypeError);
		}
		expect(readdirSync(dataDir)).toEqual([]);
		expect(accountDirectory('/data', relay, 'alice')).toBe(`/data/${relay}/alice`);
	});
});

describe('the account database', () => {
	it('tightens an account folder and its relay folder made looser to 0700, and leaves the data directory as the user made it', () => {
		const dataDir = join(tempDir(), 'data');
		const account = accountDirectory(dataDir, relay, 'alice');
		mkdirSync(account, {recursive: true, mode: 0o755});
		chmodSync(dataDir, 0o755);
		chmodSync(join(dataDir, relay), 0o755);
		chmodSync(account, 0o755);
		const store = AccountStore.open(dataDir, relay, 'alice');
		open.push(store);
		expect(mode(account)).toBe(0o700);
		expect(mode(join(dataDir, relay))).toBe(0o700);
		expect(mode(dataDir)).toBe(0o755);
	});

	it('refuses an account database, or its WAL, that is a symbolic link, and leaves what it points to alone', () => {
		for (const name of ['account.db', 'account.db-wal']) {
			const dataDir = join(tempDir(), 'data');
			const account = accountDirectory(dataDir, relay, 'alice');
			mkdirSync(account, {recursive: true, mode: 0o700});
			const elsewhere = join(tempDir(), 'precious');
			writeFileSync(elsewhere, 'not a database', {mode: 0o600});
			symlinkSync(elsewhere, join(account, name));
			expect(() => AccountStore.open(dataDir, relay, 'alice')).toThrow(expect.objectContaining({code: 'unsafe_file', message: expect.stringContaining('symbolic link')}));
			expect(readFileSync(elsewhere, 'utf8')).toBe('not a database');
		}
	});

	it('refuses a file that is not a database, as damaged, and leaves it alone', () => {
		const dataDir = tempDir();
		const path = databasePath(dataDir, relay, 'alice');
		mkdirSync(join(dataDir, relay, 'alice'), {recursive: true, mode: 0o700});
		writeFileSync(path, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), randomBytes(8192)]), {mode: 0o600});
		const before = snapshot(path);
		expect(() => openStore(dataDir)).toThrow(expect.objectContaining({code: 'damaged', message: expect.stringMatching(/restore it from a backup/)}));
		expect(snapshot(path)).toEqual(before);
	});

	it('refuses a database written by a newer im-tui', () => {
		const dataDir = tempDir();
		const store = openStore(dataDir);
		store.close();
		const db = openAccountDatabase(store.path);
		expect(db.pragma('user_version', {simple: true})).toBe(schemaVersion);
		db.pragma(`user_version = ${schemaVersion + 1}`);
		db.close();
		expect(() => openStore(dataDir)).toThrow(/newer im-tui.*upgrade im-tui/);
		// The failed open let go of the database: the next one is refused for the same reason, not as in use.
		expect(() => openAccountDatabase(store.path)).toThrow(/newer im-tui/);
	});

	it('takes an empty file, as a process killed while creating it leaves, for a new database', () => {
		const dataDir = tempDir();
		const path = databasePath(dataDir, relay, 'alice');
		mkdirSync(join(dataDir, relay, 'alice'), {recursive: true, mode: 0o700});
		writeFileSync(path, '', {mode: 0o600});
		expect(AccountStore.state(dataDir, relay, 'alice')).toBe('absent');
		expect(verifyBinding('alice', publicIdentity(openStore(dataDir).keys, 'alice'))).toBe(true);
	});
});
