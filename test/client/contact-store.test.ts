import {dirname, join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {ContactStore} from '../../source/client/contact-store.js';
import {maxInboxEntries, type AcceptedContent} from '../../source/client/inbox-ledger.js';
import {maxMissingCounters} from '../../source/client/receive-counter.js';
import {AccountDatabaseError, openAccountDatabase, type SqliteDatabase} from '../../source/client/store/account-database.js';
import {databasePath} from '../../source/client/store/account-paths.js';
import {AccountStore} from '../../source/client/store/account-store.js';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import {tempDir} from '../helpers/temp-dir.js';
import {mode, relayFingerprint} from './store-files.js';

const relay = relayFingerprint();
const bobKeys = generateIdentity();
const bob = publicIdentity(bobKeys, 'bob');
const bobNew = publicIdentity(generateIdentity(), 'bob');
const bobThird = publicIdentity(generateIdentity(), 'bob');

const open: Array<{close(): void}> = [];
afterEach(() => {
	for (const handle of open.splice(0)) handle.close();
});

/**
 * A ContactStore on a fresh account database, opened the way AccountStore opens it, with the
 * database handle kept so a test can look at the rows, count writes and fill the disk.
 */
class Account {
	readonly dataDir = tempDir();
	readonly path = databasePath(this.dataDir, relay, 'alice');
	db: SqliteDatabase;
	store: ContactStore;

	constructor() {
		this.db = openAccountDatabase(this.path);
		open.push(this.db);
		this.store = new ContactStore(this.db);
	}

	/** Closes the database and opens it again: what the next start of the client reads. */
	reopen(): ContactStore {
		this.db.close();
		this.db = openAccountDatabase(this.path);
		open.push(this.db);
		this.store = new ContactStore(this.db);
		return this.store;
	}

	/** Rows inserted, updated or deleted on this handle since it was opened. */
	get writes(): number {
		return this.db.prepare('SELECT total_changes()').pluck().get() as number;
	}

	row(name: string): any {
		const text = this.db.prepare('SELECT contact FROM contacts WHERE name = ?').pluck().get(name) as string | undefined;
		return text === undefined ? undefined : JSON.parse(text);
	}

	setRow(name: string, value: unknown): void {
		this.db.prepare('INSERT OR REPLACE INTO contacts (name, contact) VALUES (?, ?)').run(name, typeof value === 'string' ? value : JSON.stringify(value));
	}
}

describe('ContactStore: pins', () => {
	it('pins on first sight, one row per user with its keys in base64url', () => {
		const account = new Account();
		const {store} = account;
		expect(store.get('bob')).toBeUndefined();
		expect(store.observe('bob', bob)).toBe('pinned');
		expect(store.get('bob')).toEqual({pinned: bob, verified: false, sendCounter: 0, receive: {next: 0, missing: []}});
		const record = {identity: bob.identity.toString('base64url'), x25519: bob.x25519.toString('base64url'), binding: bob.binding.toString('base64url')};
		expect(account.row('bob')).toEqual({pinned: record, verified: false, sendCounter: 0, receive: {next: 0, missing: []}, retired: []});
		expect(account.reopen().get('bob')).toEqual({pinned: bob, verified: false, sendCounter: 0, receive: {next: 0, missing: []}});
	});

	it("says 'same' for the pinned record without writing", () => {
		const account = new Account();
		const {store} = account;
		store.observe('bob', bob);
		const before = account.writes;
		expect(store.observe('bob', publicIdentity(bobKeys, 'bob'))).toBe('same');
		expect(store.observeAll([{name: 'bob', record: bob}])).toEqual(['same']);
		expect(account.writes).toBe(before);
		store.nextSendCounter('bob');
		const after = account.writes;
		expect(store.observe('bob', publicIdentity(bobKeys, 'bob'))).toBe('same');
		expect(account.writes).toBe(after);
	});

	it('holds a different record as pending, keeps the pin and clears the verified mark', () => {
		const account = new Account();
		const {store} = account;
		store.observe('bob', bob);
		store.setVerified('bob', true);
		expect(store.observe('bob', bobNew)).toBe('changed');
		const contact = store.get('bob')!;
		expect(contact.pinned).toEqual(bob);
		expect(contact.pending).toEqual(bobNew);
		expect(contact.verified).toBe(false);
		const before = account.writes;
		expect(store.observe('bob', bobNew)).toBe('changed');
		expect(account.writes).toBe(before);
		expect(store.observe('bob', bobThird)).toBe('changed');
		expect(store.get('bob')!.pending).toEqual(bobThird);
		expect(account.reopen().get('bob')).toMatchObject({pinned: bob, pending: bobThird, verified: false});
	});

	it('keeps the warning when the relay serves the old pin again', () => {
		const {store} = new Account();
		store.observe('bob', bob);
		store.observe('bob', bobNew);
		expect(store.observe('bob', bob)).toBe('same');
		expect(store.get('bob')!.pending).toEqual(bobNew);
	});

	it('refuses a record whose binding does not verify for the name, and stores nothing', () => {
		const account = new Account();
		const {store} = account;
		expect(() => store.observe('carol', bob)).toThrow(/binding/);
		expect(() => store.observe('bob', {...bob, x25519: bobNew.x25519})).toThrow(/binding/);
		expect(() => store.observe('bob', {...bob, binding: Buffer.alloc(64)})).toThrow(/binding/);
		expect(store.names()).toEqual([]);
		expect(account.db.prepare('SELECT COUNT(*) FROM contacts').pluck().get()).toBe(0);
	});

	it('observes a batch record by record: a bad one is invalid, stores nothing, and spoils no other', () => {
		const account = new Account();
		const {store} = account;
		store.observe('bob', bob);
		const carol = publicIdentity(generateIdentity(), 'carol');
		const verdicts = store.observeAll([
			{name: 'carol', record: bob},
			{name: 'bob', record: {...bob, binding: Buffer.alloc(64)}},
			{name: 'carol', record: carol},
			{name: 'bob', record: bob},
			{name: 'bob', record: bobNew},
			{name: 'bob', record: bobNew},
		]);
		expect(verdicts).toEqual(['invalid', 'invalid', 'pinned', 'same', 'changed', 'changed']);
		expect(store.names()).toEqual(['bob', 'carol']);
		expect(store.get('carol')!.pinned).toEqual(carol);
		expect(store.get('bob')).toMatchObject({pinned: bob, pending: bobNew});
		const reopened = account.reopen();
		expect(reopened.names()).toEqual(['bob', 'carol']);
		expect(reopened.get('bob')).toMatchObject({pinned: bob, pending: bobNew});
	});

	it('pins a crowd in one batch, each a row of its own', () => {
		const account = new Account();
		const crowd = Array.from({length: 300}, (_, index) => ({name: `user${index}`, record: publicIdentity(generateIdentity(), `user${index}`)}));
		expect(account.store.observeAll(crowd)).toEqual(Array(crowd.length).fill('pinned'));
		expect(account.db.prepare('SELECT COUNT(*) FROM contacts').pluck().get()).toBe(300);
		const reopened = account.reopen();
		expect(reopened.get('user7')).toEqual({pinned: crowd[7]!.record, verified: false, sendCounter: 0, receive: {next: 0, missing: []}});
		expect(reopened.talkedWith()).toEqual([]);
	});

	it('marks who is verified and whose key changed, in one read, and lists those talked with', () => {
		const {store} = new Account();
		store.observe('bob', bob);
		store.observe('carol', publicIdentity(generateIdentity(), 'carol'));
		store.observe('dave', publicIdentity(generateIdentity(), 'dave'));
		store.observe('erin', publicIdentity(generateIdentity(), 'erin'));
		store.setVerified('carol', true);
		store.observe('dave', publicIdentity(generateIdentity(), 'dave'));
		store.nextSendCounter('erin');
		expect(store.marks()).toEqual({verified: new Set(['carol']), keyChanged: new Set(['dave'])});
		expect(store.talkedWith()).toEqual(['carol', 'dave', 'erin']);
	});

	it('lists names sorted and hands out copies', () => {
		const {store} = new Account();
		for (const name of ['zed', 'amy', 'bob']) store.observe(name, publicIdentity(generateIdentity(), name));
		expect(store.names()).toEqual(['amy', 'bob', 'zed']);
		const copy = store.get('amy')!;
		copy.pinned.identity.fill(0);
		copy.receive.missing.push(1);
		expect(store.get('amy')!.pinned.identity.equals(copy.pinned.identity)).toBe(false);
		expect(store.get('amy')!.receive.missing).toEqual([]);
	});

	it('stores a contact named __proto__ as data', () => {
		const account = new Account();
		expect(account.store.observe('__proto__', publicIdentity(generateIdentity(), '__proto__'))).toBe('pinned');
		expect(account.reopen().names()).toEqual(['__proto__']);
		expect(({} as Record<string, unknown>).pinned).toBeUndefined();
	});

	it('refuses a contact name that is not a username', () => {
		const {store} = new Account();
		expect(() => store.observe('../x', bob)).toThrow(TypeError);
		expect(() => store.observeAll([{name: 'Bob', record: bob}])).toThrow(TypeError);
		expect(() => store.trust('Bob')).toThrow(TypeError);
		expect(() => store.receive('bob!', 0)).toThrow(TypeError);
	});
});

describe('ContactStore: trust and verification', () => {
	it('trust re-pins, clears pending and verified, and restarts counters for a new key', () => {
		const account = new Account();
		const {store} = account;
		expect(store.trust('bob')).toBe(false);
		store.observe('bob', bob);
		expect(store.trust('bob')).toBe(false);
		store.nextSendCounter('bob');
		store.receive('bob', 0);
		store.receive('bob', 5);
		store.observe('bob', bobNew);
		expect(store.trust('bob')).toBe(true);
		expect(store.get('bob')).toEqual({pinned: bobNew, verified: false, sendCounter: 0, receive: {next: 0, missing: []}});
		expect(store.trust('bob')).toBe(false);
		expect(account.reopen().get('bob')).toEqual({pinned: bobNew, verified: false, sendCounter: 0, receive: {next: 0, missing: []}});
	});

	it('resumes the counters of a key that was pinned before, so its old envelopes stay replays', () => {
		const account = new Account();
		let store = account.store;
		store.observe('bob', bob);
		for (let index = 0; index < 3; index++) store.nextSendCounter('bob');
		store.receive('bob', 0);
		store.receive('bob', 1);
		store.receive('bob', 4);
		store.observe('bob', bobNew);
		store.trust('bob');
		store.nextSendCounter('bob');
		store.receive('bob', 0);
		// The retired pin is in the row, and comes back from it.
		store = account.reopen();
		store.observe('bob', bob);
		store.trust('bob');
		const back = store.get('bob')!;
		expect(back.pinned).toEqual(bob);
		expect(back.sendCounter).toBe(3);
		// The skipped 2 and 3 are forgotten on retirement: they are replays now, never accepted twice.
		expect(back.receive).toEqual({next: 5, missing: []});
		expect(store.receive('bob', 1).verdict).toBe('replay');
		expect(store.receive('bob', 2).verdict).toBe('replay');
		expect(store.receive('bob', 5)).toMatchObject({verdict: 'new', gap: 0});
		store.observe('bob', bobNew);
		store.trust('bob');
		expect(store.get('bob')).toMatchObject({sendCounter: 1, receive: {next: 1, missing: []}});
	});

	it('setVerified marks and unmarks, refuses while a change is pending and for strangers', () => {
		const account = new Account();
		let store = account.store;
		store.observe('bob', bob);
		store.setVerified('bob', true);
		store = account.reopen();
		expect(store.get('bob')!.verified).toBe(true);
		const before = account.writes;
		store.setVerified('bob', true);
		expect(account.writes).toBe(before);
		store.setVerified('bob', false);
		expect(store.get('bob')!.verified).toBe(false);
		expect(account.reopen().get('bob')!.verified).toBe(false);
		store = account.store;
		store.observe('bob', bobNew);
		expect(() => store.setVerified('bob', true)).toThrow(/trust/);
		store.setVerified('bob', false);
		expect(() => store.setVerified('carol', true)).toThrow(/not a contact/);
		expect(() => store.setVerified('Bob', true)).toThrow(TypeError);
		expect(store.get('bob')!.verified).toBe(false);
	});
});

describe('ContactStore: counters', () => {
	it('hands out send counters, each committed before it is returned', () => {
		const account = new Account();
		const {store} = account;
		store.observe('bob', bob);
		expect([store.nextSendCounter('bob'), store.nextSendCounter('bob'), store.nextSendCounter('bob')]).toEqual([0, 1, 2]);
		expect(account.db.inTransaction).toBe(false);
		expect(account.row('bob').sendCounter).toBe(3);
		expect(account.reopen().nextSendCounter('bob')).toBe(3);
		expect(() => account.store.nextSendCounter('carol')).toThrow(/not a contact/);
	});

	it('applies received counters and keeps them across a close and reopen: replays stay rejected', () => {
		const account = new Account();
		let store = account.store;
		store.observe('bob', bob);
		expect(store.receive('bob', 0)).toEqual({verdict: 'new', gap: 0, state: {next: 1, missing: []}});
		expect(store.receive('bob', 3)).toMatchObject({verdict: 'new', gap: 2});
		const before = account.writes;
		expect(store.receive('bob', 0)).toEqual({verdict: 'replay'});
		expect(account.writes).toBe(before);

		store = account.reopen();
		expect(store.get('bob')!.receive).toEqual({next: 4, missing: [1, 2]});
		expect(store.receive('bob', 0).verdict).toBe('replay');
		expect(store.receive('bob', 3).verdict).toBe('replay');
		expect(store.receive('bob', 2).verdict).toBe('late');
		expect(account.reopen().receive('bob', 2).verdict).toBe('replay');
		expect(account.reopen().receive('bob', 1).verdict).toBe('late');
		expect(account.reopen().receive('bob', 1).verdict).toBe('replay');
		expect(() => account.store.receive('carol', 0)).toThrow(/not a contact/);
	});

	it('stores a capped huge jump and reloads it', () => {
		const account = new Account();
		account.store.observe('bob', bob);
		expect(account.store.receive('bob', Number.MAX_SAFE_INTEGER)).toMatchObject({verdict: 'new', gap: Number.MAX_SAFE_INTEGER});
		const reloaded = account.reopen().get('bob')!;
		expect(reloaded.receive.next).toBe(2 ** 53);
		expect(reloaded.receive.missing).toHaveLength(maxMissingCounters);
		expect(account.reopen().receive('bob', Number.MAX_SAFE_INTEGER).verdict).toBe('replay');
	});
});

const text = (id: string, body = `text ${id}`): AcceptedContent => ({type: 'text', id, kind: 'direct', text: body, sent: 1, time: 2});

describe('ContactStore: what accepted envelopes show, and receipts owed', () => {
	it('keeps what an envelope shows in the commit that spends its counter, and across a close and reopen', () => {
		const account = new Account();
		const {store} = account;
		store.observe('bob', bob);
		store.receive('bob', 0, text('m0'));
		store.receive('bob', 3, {type: 'receipt', id: 'r3', ids: ['x', 'y'], time: 4});
		store.receive('bob', 1, text('m1'));
		// A replay keeps nothing: it was shown when it was accepted.
		expect(store.receive('bob', 0, text('m0', 'm0 again')).verdict).toBe('replay');
		expect(account.row('bob').inbox).toHaveLength(3);
		expect(account.reopen().inbox()).toEqual([
			{from: 'bob', accepted: {...text('m0'), gap: 0}},
			{from: 'bob', accepted: {type: 'receipt', id: 'r3', ids: ['x', 'y'], time: 4, gap: 2}},
			{from: 'bob', accepted: {...text('m1'), gap: 0}},
		]);
		// The public contact is unchanged by it.
		expect(account.store.get('bob')).toEqual({pinned: bob, verified: false, sendCounter: 0, receive: {next: 4, missing: [2]}});
	});

	it('settles in one commit: forgets what was shown, owes and pays receipts', () => {
		const account = new Account();
		let store = account.store;
		const carol = publicIdentity(generateIdentity(), 'carol');
		store.observeAll([
			{name: 'bob', record: bob},
			{name: 'carol', record: carol},
		]);
		store.receive('bob', 0, text('same'));
		store.receive('bob', 1, text('same', 'a second text that reuses the id'));
		store.receive('carol', 0, text('c0'));
		const before = account.writes;
		store.settle([
			{name: 'bob', shown: [{type: 'text', id: 'same'}], owe: ['same'], paid: []},
			{name: 'carol', shown: [{type: 'text', id: 'c0'}], owe: ['c0', 'older'], paid: []},
			{name: 'nobody', shown: [{type: 'text', id: 'x'}], owe: ['x'], paid: []},
		]);
		expect(account.writes).toBe(before + 2);
		expect(store.names()).toEqual(['bob', 'carol']);
		store = account.reopen();
		expect(store.inbox()).toEqual([{from: 'bob', accepted: {...text('same', 'a second text that reuses the id'), gap: 0}}]);
		expect(store.owed('bob')).toEqual(['same']);
		expect(store.owed('carol')).toEqual(['c0', 'older']);
		expect(store.owing()).toEqual(['bob', 'carol']);
		store.settle([{name: 'carol', shown: [], owe: [], paid: ['c0', 'older']}]);
		expect(store.owing()).toEqual(['bob']);
		const unchanged = account.writes;
		store.settle([{name: 'bob', shown: [], owe: [], paid: []}]);
		store.settle([]);
		expect(account.writes).toBe(unchanged);
		expect(account.reopen().owing()).toEqual(['bob']);
	});

	it('defers a settlement to the next write, whatever it is for, and keeps it while writes fail', () => {
		const account = new Account();
		let store = account.store;
		store.observe('bob', bob);
		store.receive('bob', 0, text('m0'));
		store.defer({name: 'bob', shown: [{type: 'text', id: 'm0'}], owe: ['m0'], paid: []});
		// Counted at once here, not yet in the database.
		expect(store.inbox()).toEqual([]);
		expect(store.owed('bob')).toEqual(['m0']);
		expect(store.owing()).toEqual(['bob']);
		expect(account.row('bob')).toMatchObject({inbox: [{id: 'm0'}]});
		expect(account.row('bob')).not.toHaveProperty('owed');

		// A write that fails carries nothing and loses nothing. The failure is a real one: the
		// database is full (max_page_count caps it at its size, on this connection only), and a text
		// of 8,000 bytes needs new pages.
		const pages = account.db.pragma('page_count', {simple: true}) as number;
		account.db.pragma(`max_page_count = ${pages}`);
		expect(() => store.receive('bob', 1, text('m1', 'x'.repeat(8000)))).toThrow(/full/);
		expect(account.db.inTransaction).toBe(false);
		expect(store.get('bob')!.receive).toEqual({next: 1, missing: []});
		expect(store.inbox()).toEqual([]);
		expect(store.owed('bob')).toEqual(['m0']);
		expect(account.row('bob')).toMatchObject({receive: {next: 1}, inbox: [{id: 'm0'}]});
		expect(account.row('bob')).not.toHaveProperty('owed');
		// The same envelope once there is room again: its counter was not spent.
		account.db.pragma('max_page_count = 1073741823');

		// The next write, here for a send counter, carries the settlement.
		expect(store.nextSendCounter('bob')).toBe(0);
		expect(account.row('bob')).toMatchObject({sendCounter: 1, owed: ['m0']});
		expect(account.row('bob')).not.toHaveProperty('inbox');
		store = account.reopen();
		expect(store.inbox()).toEqual([]);
		expect(store.owed('bob')).toEqual(['m0']);
		const before = account.writes;
		store.settle([]);
		expect(account.writes).toBe(before);
		expect(store.receive('bob', 1, text('m1', 'x'.repeat(8000))).verdict).toBe('new');
		expect(account.reopen().inbox()).toEqual([{from: 'bob', accepted: {...text('m1', 'x'.repeat(8000)), gap: 0}}]);
	});

	it('a deferred settlement is lost with the process, not written half: the entry waits to be shown again', () => {
		const account = new Account();
		account.store.observe('bob', bob);
		account.store.receive('bob', 0, text('m0'));
		account.store.defer({name: 'bob', shown: [{type: 'text', id: 'm0'}], owe: ['m0'], paid: []});
		const store = account.reopen();
		expect(store.inbox()).toEqual([{from: 'bob', accepted: {...text('m0'), gap: 0}}]);
		expect(store.owed('bob')).toEqual([]);
	});

	it('refuses an envelope, spending nothing, once too many wait to be shown', () => {
		const account = new Account();
		let store = account.store;
		store.observe('bob', bob);
		account.db.transaction(() => {
			for (let counter = 0; counter < maxInboxEntries; counter++) store.receive('bob', counter, text(`m${counter}`));
		})();
		expect(() => store.receive('bob', maxInboxEntries, text('one-too-many'))).toThrow(/wait to be shown/);
		expect(store.get('bob')!.receive.next).toBe(maxInboxEntries);
		store = account.reopen();
		expect(store.inbox()).toHaveLength(maxInboxEntries);
		expect(() => store.receive('bob', maxInboxEntries, text('one-too-many'))).toThrow(/wait to be shown/);
		store.settle([{name: 'bob', shown: [{type: 'text', id: 'm0'}], owe: [], paid: []}]);
		expect(store.receive('bob', maxInboxEntries, text('one-too-many')).verdict).toBe('new');
		expect(account.reopen().inbox().at(-1)!.accepted.id).toBe('one-too-many');
	});

	it('owed receipts belong to the pinned keys: retired with them, back when they are trusted again', () => {
		const account = new Account();
		let store = account.store;
		store.observe('bob', bob);
		store.observe('bob', bobNew);
		store.settle([{name: 'bob', shown: [], owe: ['m1'], paid: []}]);
		expect(store.trust('bob')).toBe(true);
		expect(store.owed('bob')).toEqual([]);
		store.observe('bob', bobThird);
		store.trust('bob');
		expect(store.owed('bob')).toEqual([]);
		store = account.reopen();
		store.observe('bob', bob);
		store.trust('bob');
		expect(store.owed('bob')).toEqual(['m1']);
		expect(account.reopen().owed('bob')).toEqual(['m1']);
	});

	it('reads a row without inbox and owed receipts (empty ones are left out), and a retired pin that has some', () => {
		const account = new Account();
		const {store} = account;
		store.observe('bob', bob);
		store.observe('bob', bobNew);
		store.trust('bob');
		const row = account.row('bob');
		expect(row).not.toHaveProperty('inbox');
		expect(row).not.toHaveProperty('owed');
		expect(row.retired[0]).not.toHaveProperty('owed');
		row.retired[0].owed = ['m1'];
		account.setRow('bob', row);
		const reopened = account.reopen();
		expect(reopened.inbox()).toEqual([]);
		reopened.observe('bob', bob);
		reopened.trust('bob');
		expect(reopened.owed('bob')).toEqual(['m1']);
	});
});

describe('AccountStore: one process per account', () => {
	it('refuses a second open of the account, even in the same process, and opens once the first is closed', () => {
		const dataDir = tempDir();
		const first = AccountStore.open(dataDir, relay, 'alice');
		open.push(first);
		first.contacts.observe('bob', bob);
		let refusal: unknown;
		try {
			open.push(AccountStore.open(dataDir, relay, 'alice'));
		} catch (error) {
			refusal = error;
		}
		expect(refusal).toBeInstanceOf(AccountDatabaseError);
		expect(refusal).toMatchObject({code: 'account_in_use', message: expect.stringMatching(/another im-tui is using this account.*quit it first/)});
		// The refused open changed nothing, and the first store goes on.
		expect(first.contacts.nextSendCounter('bob')).toBe(0);
		// Another account of the same data directory is not locked.
		const other = AccountStore.open(dataDir, relay, 'carol');
		open.push(other);
		other.close();
		first.close();
		expect(first.closed).toBe(true);
		const second = AccountStore.open(dataDir, relay, 'alice');
		open.push(second);
		expect(second.keys.identity.publicRaw).toEqual(first.keys.identity.publicRaw);
		expect(second.contacts.get('bob')).toMatchObject({pinned: bob, sendCounter: 1});
	});

	// Another process on the account: concurrent-stores.test.ts.

	it('keeps the database and its WAL 0600 inside 0700 directories', () => {
		const dataDir = join(tempDir(), 'data');
		const store = AccountStore.open(dataDir, relay, 'alice');
		open.push(store);
		store.contacts.observe('bob', bob);
		store.history.received({kind: 'direct', from: 'bob', to: 'alice', id: 'm1', text: 'hello', sent: 1, time: 2});
		expect(mode(store.path)).toBe(0o600);
		expect(mode(`${store.path}-wal`)).toBe(0o600);
		for (const directory of [dataDir, join(dataDir, relay), dirname(store.path)]) expect(mode(directory), directory).toBe(0o700);
		expect(store.path).toBe(join(dataDir, relay, 'alice', 'account.db'));
	});
});

describe('ContactStore: a damaged row', () => {
	function damagedAccount(change: (row: any) => unknown, name = 'bob'): {dataDir: string; path: string; text: string} {
		const dataDir = tempDir();
		const store = AccountStore.open(dataDir, relay, 'alice');
		store.contacts.observe('bob', bob);
		store.contacts.observe('bob', bobNew);
		store.contacts.receive('bob', 3);
		store.close();
		const db = openAccountDatabase(store.path);
		const row = JSON.parse(db.prepare('SELECT contact FROM contacts WHERE name = ?').pluck().get('bob') as string);
		const changed = change(row);
		const text = typeof changed === 'string' ? changed : JSON.stringify(changed ?? row);
		db.prepare('DELETE FROM contacts').run();
		db.prepare('INSERT INTO contacts (name, contact) VALUES (?, ?)').run(name, text);
		db.close();
		return {dataDir, path: store.path, text};
	}

	it.each<[string, (row: any) => unknown]>([
		['not JSON', () => '{"pinned":'],
		['empty', () => ''],
		['not an object', () => '[]'],
		['a short pinned key', row => void (row.pinned.identity = row.pinned.identity.slice(0, 40))],
		['a short binding', row => void (row.pending.binding = 'AAAA')],
		['no verified mark', row => void delete row.verified],
		['a negative send counter', row => void (row.sendCounter = -1)],
		['a fractional send counter', row => void (row.sendCounter = 0.5)],
		['missing counters out of order', row => void (row.receive.missing = [2, 1])],
		['a missing counter at next', row => void (row.receive.missing = [0, 4])],
		['a duplicate missing counter', row => void (row.receive.missing = [1, 1])],
		['no retired list', row => void delete row.retired],
		['a bad retired pin', row => void (row.retired = [{identity: 'x'}])],
		['a bad accepted message', row => void (row.inbox = [{type: 'text', id: 'm1', kind: 'direct', text: 1, sent: 0, time: 0, gap: 0}])],
		['an accepted message of an unknown type', row => void (row.inbox = [{type: 'typing', id: 'm1', time: 0, gap: 0}])],
		['an accepted receipt without ids', row => void (row.inbox = [{type: 'receipt', id: 'r1', ids: [], time: 0, gap: 0}])],
		['an inbox that is not a list', row => void (row.inbox = {})],
		['an owed receipt that is not a message id', row => void (row.owed = ['not an id!'])],
		['retired owed receipts that are not a list', row => void (row.retired = [{...row.pinned, sendCounter: 0, receiveNext: 0, owed: 'm1'}])],
	])('refuses a row with %s at open, with a clear error, and leaves it alone', (_, change) => {
		const {dataDir, path, text} = damagedAccount(change);
		expect(() => AccountStore.open(dataDir, relay, 'alice')).toThrow(/the contact "bob" in this account's database is damaged \(.+\): restore the database from a backup/);
		// The failed open released the database, and left the row as it was.
		const db = openAccountDatabase(path);
		open.push(db);
		expect(db.prepare('SELECT contact FROM contacts WHERE name = ?').pluck().get('bob')).toBe(text);
	});

	it('refuses a row whose name is not a username', () => {
		const {dataDir} = damagedAccount(row => row, 'Bob!');
		expect(() => AccountStore.open(dataDir, relay, 'alice')).toThrow(/"Bob!" .* damaged \(not a username\)/);
	});
});
