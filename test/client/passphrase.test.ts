import {readdirSync, readFileSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {AccountDatabaseError} from '../../source/client/store/account-database.js';
import {AccountStore, type AccountStoreOptions} from '../../source/client/store/account-store.js';
import {everyoneConversation} from '../../source/client/history.js';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import {privateRaw} from '../../source/crypto/raw-keys.js';
import {tempDir} from '../helpers/temp-dir.js';
import {filesHolding, filesUnder, marker, mode, relayFingerprint} from './store-files.js';

const relay = relayFingerprint();
const bob = publicIdentity(generateIdentity(), 'bob');
const passphrase = 'correct horse battery staple';
const plainHeader = Buffer.from('SQLite format 3\0', 'latin1');

const open: Array<{close(): void}> = [];
afterEach(() => {
	for (const handle of open.splice(0)) handle.close();
});

function openStore(dataDir: string, options: AccountStoreOptions = {}): AccountStore {
	const store = AccountStore.open(dataDir, relay, 'alice', options);
	open.push(store);
	return store;
}

/** Messages both ways, in two conversations, and a contact row with an accepted text: all holding `secret`. */
function writeSecrets(store: AccountStore, secret: string): void {
	store.history.received({kind: 'direct', from: 'bob', to: 'alice', id: 'in1', text: `hello ${secret}`, sent: 1, time: 2});
	store.history.sent({id: 'out1', author: 'alice', to: 'bob', recipients: [], text: `${secret} back`, time: 3});
	store.history.sent({id: 'out2', author: 'alice', to: everyoneConversation, recipients: ['bob'], text: `all ${secret} `.repeat(500), time: 4});
	store.contacts.observe('bob', bob);
	store.contacts.receive('bob', 0, {type: 'text', id: 'in2', kind: 'direct', text: `waiting ${secret}`, sent: 5, time: 6});
	store.contacts.nextSendCounter('bob');
}

function expectSecretsBack(store: AccountStore, secret: string): void {
	expect(store.history.page('bob', {limit: 10}).map(entry => entry.text)).toEqual([`hello ${secret}`, `${secret} back`]);
	expect(store.history.search(secret)).toHaveLength(3);
	expect(store.contacts.get('bob')).toMatchObject({pinned: bob, sendCounter: 1, receive: {next: 1}});
	expect(store.contacts.inbox()).toEqual([{from: 'bob', accepted: {type: 'text', id: 'in2', kind: 'direct', text: `waiting ${secret}`, sent: 5, time: 6, gap: 0}}]);
}

/** Files under the OS temp directory written since `since` (node_modules and .git trees left out). */
function tempFilesSince(since: number, directory = tmpdir()): string[] {
	let entries;
	try {
		entries = readdirSync(directory, {withFileTypes: true});
	} catch {
		return [];
	}
	return entries.flatMap(entry => {
		const path = join(directory, entry.name);
		if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === '.git' ? [] : tempFilesSince(since, path);
		if (!entry.isFile()) return [];
		try {
			const stats = statSync(path);
			return Math.max(stats.mtimeMs, stats.ctimeMs, stats.birthtimeMs) >= since ? [path] : [];
		} catch {
			return [];
		}
	});
}

function errorOf(action: () => unknown): AccountDatabaseError {
	try {
		action();
	} catch (error) {
		return error as AccountDatabaseError;
	}
	throw new Error('expected an error');
}

function snapshot(directory: string): Map<string, Buffer> {
	return new Map(readdirSync(directory).map(name => [name, readFileSync(join(directory, name))]));
}

describe('an account database with a passphrase', () => {
	it('holds no plaintext: the text is in no file of the data directory, its WAL, or a temporary file, in any encoding', () => {
		const started = Date.now() - 1000;
		const dataDir = tempDir();
		const secret = marker('secret');
		const store = openStore(dataDir, {passphrase});
		writeSecrets(store, secret);
		expect(readdirSync(join(dataDir, relay, 'alice')).sort()).toEqual(['account.db', 'account.db-wal']);
		// While open: the database and its WAL.
		expect(filesUnder(dataDir).length).toBe(2);
		expect(filesHolding(dataDir, secret)).toEqual([]);
		const keys = [privateRaw(store.keys.identity.privateKey), privateRaw(store.keys.x25519.privateKey)];
		store.close();
		expect(AccountStore.state(dataDir, relay, 'alice')).toBe('encrypted');
		expect(readFileSync(store.path).subarray(0, 16).equals(plainHeader)).toBe(false);
		expect(filesHolding(dataDir, secret)).toEqual([]);
		const temporary = tempFilesSince(started);
		expect(temporary).toContain(store.path);
		expect(filesHolding(tmpdir(), secret, temporary)).toEqual([]);
		// Nor the account's secret keys.
		for (const key of keys) expect(filesUnder(dataDir).filter(path => readFileSync(path).includes(key)), key.toString('hex')).toEqual([]);
		expect(mode(store.path)).toBe(0o600);
	});

	it('without a passphrase the same text is in the files, which are 0600: the check above can see it', () => {
		const dataDir = tempDir();
		const secret = marker('plain');
		const store = openStore(dataDir);
		writeSecrets(store, secret);
		expect(filesHolding(dataDir, secret).some(found => found.includes('account.db-wal'))).toBe(true);
		for (const path of filesUnder(dataDir)) expect(mode(path), path).toBe(0o600);
		store.close();
		expect(filesHolding(dataDir, secret).some(found => found.includes('account.db'))).toBe(true);
		expect(AccountStore.state(dataDir, relay, 'alice')).toBe('plain');
		expect(readFileSync(store.path).subarray(0, 16)).toEqual(plainHeader);
	});

	// Each try derives a key (PBKDF2, 256,000 rounds): slow on purpose.
	it('is refused without the passphrase, and with a wrong one, changing no byte; the right one reads everything back', {timeout: 60_000}, () => {
		const dataDir = tempDir();
		const directory = join(dataDir, relay, 'alice');
		const secret = marker();
		const store = openStore(dataDir, {passphrase});
		writeSecrets(store, secret);
		store.close();
		const before = snapshot(directory);

		const missing = errorOf(() => openStore(dataDir));
		expect(missing).toBeInstanceOf(AccountDatabaseError);
		expect(missing).toMatchObject({code: 'passphrase_required', message: expect.stringMatching(/is encrypted: give its passphrase/)});
		expect(snapshot(directory)).toEqual(before);

		for (const wrong of ['correct horse battery stapler', "it's", 'ünïcödé 🙂']) {
			const refusal = errorOf(() => openStore(dataDir, {passphrase: wrong}));
			expect(refusal, wrong).toBeInstanceOf(AccountDatabaseError);
			expect(refusal).toMatchObject({code: 'wrong_passphrase', message: expect.stringMatching(/wrong passphrase for this account: nothing was changed/)});
			expect(refusal.message).not.toContain(wrong.trim() || '\0');
			expect(snapshot(directory), wrong).toEqual(before);
		}

		// A refused open let go of the database: the right passphrase opens it.
		const again = openStore(dataDir, {passphrase});
		expect(again.keys.identity.publicRaw).toEqual(store.keys.identity.publicRaw);
		expectSecretsBack(again, secret);
	});

	it('refuses an empty passphrase, which would leave the database plain, creating nothing', () => {
		const dataDir = tempDir();
		expect(() => openStore(dataDir, {passphrase: ''})).toThrow(/passphrase cannot be empty/);
		expect(readdirSync(dataDir)).toEqual([]);
		const store = openStore(dataDir, {passphrase});
		expect(() => store.setPassphrase('')).toThrow(/passphrase cannot be empty/);
		store.close();
		expect(AccountStore.state(dataDir, relay, 'alice')).toBe('encrypted');
		expect(openStore(dataDir, {passphrase}).keys.identity.publicRaw).toEqual(store.keys.identity.publicRaw);
	});

	it('changes: the old passphrase fails after, the new one works', () => {
		const dataDir = tempDir();
		const secret = marker();
		const store = openStore(dataDir, {passphrase});
		writeSecrets(store, secret);
		// Quotes and more than ASCII reach SQLite as the passphrase, not as SQL.
		const changed = `it's a 'quoted' "one", ünïcödé 🙂`;
		store.setPassphrase(changed);
		// The store goes on after the change.
		store.history.received({kind: 'direct', from: 'bob', to: 'alice', id: 'in3', text: `after ${secret}`, sent: 7, time: 8});
		store.close();
		expect(filesHolding(dataDir, secret)).toEqual([]);
		expect(errorOf(() => openStore(dataDir, {passphrase}))).toMatchObject({code: 'wrong_passphrase'});
		expect(errorOf(() => openStore(dataDir, {passphrase: "it's a "}))).toMatchObject({code: 'wrong_passphrase'});
		const again = openStore(dataDir, {passphrase: changed});
		expect(again.history.search(secret)).toHaveLength(4);
		expect(again.contacts.inbox()).toHaveLength(1);
	});

	it('is removed: the database opens with no passphrase and is a plain SQLite file', () => {
		const dataDir = tempDir();
		const secret = marker();
		const store = openStore(dataDir, {passphrase});
		writeSecrets(store, secret);
		store.setPassphrase(undefined);
		store.close();
		expect(readFileSync(store.path).subarray(0, 16)).toEqual(plainHeader);
		expect(AccountStore.state(dataDir, relay, 'alice')).toBe('plain');
		const again = openStore(dataDir);
		expectSecretsBack(again, secret);
		// and, plain now, the text can be seen in it: the decryption was real
		again.close();
		expect(filesHolding(dataDir, secret)).not.toEqual([]);
	});

	it('is added when a plain database is opened with one: the text written before is then in no file', () => {
		const dataDir = tempDir();
		const secret = marker();
		const plain = openStore(dataDir);
		writeSecrets(plain, secret);
		plain.close();
		expect(filesHolding(dataDir, secret)).not.toEqual([]);

		const store = openStore(dataDir, {passphrase});
		expectSecretsBack(store, secret);
		expect(filesHolding(dataDir, secret)).toEqual([]);
		store.close();
		expect(AccountStore.state(dataDir, relay, 'alice')).toBe('encrypted');
		expect(filesHolding(dataDir, secret)).toEqual([]);
		expect(errorOf(() => openStore(dataDir))).toMatchObject({code: 'passphrase_required'});
		expectSecretsBack(openStore(dataDir, {passphrase}), secret);
	});

	it('is set on a plain database from setPassphrase, while it is open', () => {
		const dataDir = tempDir();
		const secret = marker();
		const store = openStore(dataDir);
		writeSecrets(store, secret);
		store.setPassphrase(passphrase);
		expect(filesHolding(dataDir, secret)).toEqual([]);
		store.close();
		expect(AccountStore.state(dataDir, relay, 'alice')).toBe('encrypted');
		expectSecretsBack(openStore(dataDir, {passphrase}), secret);
	});
});
