import {chmodSync, cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {openAccountDatabase} from '../../source/client/store/account-database.js';
import {AccountStore} from '../../source/client/store/account-store.js';
import {legacyFiles} from '../../source/client/store/legacy-import.js';
import {privateRaw} from '../../source/crypto/raw-keys.js';
import type {PublicIdentity} from '../../source/crypto/identity.js';
import {tempDir} from '../helpers/temp-dir.js';
import {filesHolding, filesUnder} from './store-files.js';

// The fixture is what release 0.2's own stores wrote: see test/fixtures/legacy-0.2/README.md.
const fixture = resolve(import.meta.dirname, '../fixtures/legacy-0.2');
const expected = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8'));
const relay: string = expected.relay;
const username: string = expected.username;

type Encoded = {identity: string; x25519: string; binding: string};
const record = (encoded: Encoded): PublicIdentity => ({
	identity: Buffer.from(encoded.identity, 'base64url'),
	x25519: Buffer.from(encoded.x25519, 'base64url'),
	binding: Buffer.from(encoded.binding, 'base64url'),
});

const open: Array<{close(): void}> = [];
afterEach(() => {
	for (const handle of open.splice(0)) handle.close();
});

/** The fixture copied to a fresh data directory, private as 0.2 left it (git keeps no modes). */
function copyFixture(): {dataDir: string; directory: string} {
	const dataDir = tempDir();
	cpSync(join(fixture, 'data'), dataDir, {recursive: true});
	const walk = (path: string) => {
		if (statSync(path).isDirectory()) {
			chmodSync(path, 0o700);
			for (const name of readdirSync(path)) walk(join(path, name));
		} else {
			chmodSync(path, 0o600);
		}
	};
	walk(dataDir);
	return {dataDir, directory: join(dataDir, relay, username)};
}

function openStore(dataDir: string, options = {}): AccountStore {
	const store = AccountStore.open(dataDir, relay, username, options);
	open.push(store);
	return store;
}

function contents(directory: string): Map<string, Buffer> {
	return new Map(readdirSync(directory).map(name => [name, readFileSync(join(directory, name))]));
}

/** Everything the fixture holds, checked against expected.json. */
function expectEverything(store: AccountStore, identityFile: {identity: {secret: string}; x25519: {secret: string}}): void {
	expect(store.keys.identity.publicRaw.toString('base64url')).toBe(expected.identityPublic);
	expect(store.keys.x25519.publicRaw.toString('base64url')).toBe(expected.x25519Public);
	expect(privateRaw(store.keys.identity.privateKey).toString('base64url')).toBe(identityFile.identity.secret);
	expect(privateRaw(store.keys.x25519.privateKey).toString('base64url')).toBe(identityFile.x25519.secret);

	const {contacts} = store;
	expect(contacts.names()).toEqual(Object.keys(expected.contacts).sort());
	for (const [name, contact] of Object.entries<any>(expected.contacts)) {
		const want: Record<string, unknown> = {pinned: record(contact.pinned), verified: contact.verified, sendCounter: contact.sendCounter, receive: contact.receive};
		if (contact.pending !== undefined) want.pending = record(contact.pending);
		expect(contacts.get(name), name).toEqual(want);
		expect(contacts.owed(name), name).toEqual(contact.owed);
	}
	expect(contacts.talkedWith()).toEqual(expected.talkedWith);
	expect(contacts.marks()).toEqual({verified: new Set(['erin']), keyChanged: new Set(['carol'])});
	expect(contacts.inbox()).toEqual(expected.inbox);
	expect(contacts.owing()).toEqual(expected.owing);
	expect(store.outbox.load()).toEqual(expected.outbox);
	expect(store.carryOver.done).toBe(true);
}

describe('importing the JSON files of release 0.2', () => {
	it('loses nothing: keys, every pin and contact with its counters, the inbox, owed receipts, the outbox in order, the carry-over mark', () => {
		const {dataDir, directory} = copyFixture();
		const identityFile = JSON.parse(readFileSync(join(directory, 'identity.json'), 'utf8'));
		expect(readdirSync(directory).sort()).toEqual([...legacyFiles].sort());
		expect(AccountStore.state(dataDir, relay, username)).toBe('absent');

		const store = openStore(dataDir);
		expect(store.imported).toBe(true);
		expectEverything(store, identityFile);
		// dave's pin is the key contacts.json holds, not the older one pins.json still had.
		expect(store.contacts.get('dave')!.pinned).not.toEqual(record(expected.daveRetired));
		// The JSON files are gone; only the database (and its WAL while open) is left.
		expect(readdirSync(directory).filter(name => !name.startsWith('account.db'))).toEqual([]);
		store.close();
		expect(readdirSync(directory)).toEqual(['account.db']);

		// The second open imports nothing, and finds everything.
		const again = openStore(dataDir);
		expect(again.imported).toBe(false);
		expectEverything(again, identityFile);
	});

	it('keeps the retired pin with what is owed to it: trusting the old key again brings back its counters and receipts', () => {
		const {dataDir} = copyFixture();
		const {contacts} = openStore(dataDir);
		expect(contacts.observe('dave', record(expected.daveRetired))).toBe('changed');
		expect(contacts.trust('dave')).toBe(true);
		expect(contacts.get('dave')).toMatchObject({pinned: record(expected.daveRetired), sendCounter: 1, receive: {next: 1, missing: []}});
		expect(contacts.owed('dave')).toEqual(expected.daveRetiredOwed);
		// And the imported counters go on: bob's next envelope is his fourth, his counter 2 is late, 4 a replay.
		expect(contacts.nextSendCounter('bob')).toBe(3);
		expect(contacts.receive('bob', 2).verdict).toBe('late');
		expect(contacts.receive('bob', 4).verdict).toBe('replay');
	});

	it('without carried-over.json, the carry-over is still to do', () => {
		const {dataDir, directory} = copyFixture();
		rmSync(join(directory, 'carried-over.json'));
		const store = openStore(dataDir);
		expect(store.imported).toBe(true);
		expect(store.carryOver.done).toBe(false);
		expect(store.outbox.load()).toEqual(expected.outbox);
	});

	it('removes files a process killed after the import and before the deletion left, importing nothing again', () => {
		const {dataDir, directory} = copyFixture();
		const saved = contents(directory);
		const store = openStore(dataDir);
		store.contacts.nextSendCounter('frank');
		store.close();
		// As if killed between the commit and the deletion: the files are back, with the leftovers of 0.2's writers.
		for (const [name, bytes] of saved) writeFileSync(join(directory, name), bytes, {mode: 0o600});
		writeFileSync(join(directory, 'contacts.json.lock'), '123\n', {mode: 0o600});
		writeFileSync(join(directory, 'outbox.json.1234.tmp'), '{', {mode: 0o600});
		const again = openStore(dataDir);
		expect(again.imported).toBe(false);
		expect(again.contacts.get('frank')!.sendCounter).toBe(1);
		expect(again.outbox.load()).toEqual(expected.outbox);
		expect(readdirSync(directory).filter(name => !name.startsWith('account.db'))).toEqual([]);
	});

	it('imports into an encrypted database when given a passphrase: no key of identity.json is left in a file', () => {
		const {dataDir, directory} = copyFixture();
		const identityFile = JSON.parse(readFileSync(join(directory, 'identity.json'), 'utf8'));
		const store = openStore(dataDir, {passphrase: 'correct horse battery staple'});
		expect(store.imported).toBe(true);
		expectEverything(store, identityFile);
		store.close();
		expect(AccountStore.state(dataDir, relay, username)).toBe('encrypted');
		for (const secret of [identityFile.identity.secret, identityFile.x25519.secret] as string[]) {
			const raw = Buffer.from(secret, 'base64url');
			expect(filesHolding(dataDir, secret)).toEqual([]);
			expect(filesUnder(dataDir).filter(path => readFileSync(path).includes(raw))).toEqual([]);
		}
	});

	it.each<[string, string, string, RegExp]>([
		['a damaged contacts.json', 'contacts.json', '{"version":1,"contacts":{', /contacts\.json is damaged \(not JSON\); fix or restore it, then start im-tui again \(nothing was imported\)/],
		['a contacts.json with a bad contact', 'contacts.json', '{"version":1,"contacts":{"bob":{"pinned":{}}}}', /contacts\.json is damaged \(bob: bad pinned record\)/],
		['a damaged pins.json', 'pins.json', '{"version":2,"pins":{}}', /pins\.json is damaged/],
		['a damaged outbox.json', 'outbox.json', '{"version":1,"envelopes":[{"id":"x","to":"bob"}]}', /outbox in .*outbox\.json is damaged/],
		['an identity.json of another user', 'identity.json', '', /identity\.json is damaged \(it belongs to another relay or username/],
	])('stops at %s with a clear error: no account row, the JSON files left in place', (_, name, text, message) => {
		const {dataDir, directory} = copyFixture();
		const path = join(directory, name);
		const damaged = text !== '' ? text : JSON.stringify({...JSON.parse(readFileSync(path, 'utf8')), username: 'bob'});
		writeFileSync(path, damaged);
		const before = contents(directory);
		expect(() => openStore(dataDir)).toThrow(message);
		// The JSON files are as they were; the database holds no account, so the next open imports.
		const after = contents(directory);
		for (const [file, bytes] of before) expect(after.get(file), file).toEqual(bytes);
		const db = openAccountDatabase(join(directory, 'account.db'));
		expect(db.prepare('SELECT COUNT(*) FROM account').pluck().get()).toBe(0);
		expect(db.prepare('SELECT COUNT(*) FROM contacts').pluck().get()).toBe(0);
		expect(db.prepare('SELECT COUNT(*) FROM outbox').pluck().get()).toBe(0);
		expect(db.prepare('SELECT COUNT(*) FROM settings').pluck().get()).toBe(0);
		db.close();

		// Once the file is restored, the import goes through.
		writeFileSync(path, readFileSync(join(fixture, 'data', relay, username, name)));
		const store = openStore(dataDir);
		expect(store.imported).toBe(true);
		expect(store.keys.identity.publicRaw.toString('base64url')).toBe(expected.identityPublic);
		expect(store.contacts.names()).toEqual(Object.keys(expected.contacts).sort());
	});

	it('refuses a JSON file other users can read, importing nothing', () => {
		const {dataDir, directory} = copyFixture();
		chmodSync(join(directory, 'contacts.json'), 0o644);
		expect(() => openStore(dataDir)).toThrow(/contacts\.json is accessible by other users.*chmod 600/);
		expect(readdirSync(directory).sort()).toEqual([...legacyFiles, 'account.db'].sort());
		chmodSync(join(directory, 'contacts.json'), 0o600);
		expect(openStore(dataDir).imported).toBe(true);
	});
});
