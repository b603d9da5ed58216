import {spawnSync} from 'node:child_process';
import {chmodSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {contactsPath, ContactStore} from '../../source/client/contact-store.js';
import {staleLockMs, withLock} from '../../source/client/file-lock.js';
import {maxInboxEntries, type AcceptedContent} from '../../source/client/inbox-ledger.js';
import {maxMissingCounters} from '../../source/client/receive-counter.js';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import {fingerprint} from '../../source/crypto/keys.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {tempDir} from '../helpers/temp-dir.js';

const relay = fingerprint(generateRawKeyPair('ed25519').publicRaw);
const bobKeys = generateIdentity();
const bob = publicIdentity(bobKeys, 'bob');
const bobNew = publicIdentity(generateIdentity(), 'bob');
const bobThird = publicIdentity(generateIdentity(), 'bob');

function newStore(): {store: ContactStore; path: string; directory: string} {
	const dataDir = tempDir();
	const path = contactsPath(dataDir, relay, 'alice');
	return {store: new ContactStore(path), path, directory: join(dataDir, relay, 'alice')};
}

function stamp(path: string): string {
	const stats = statSync(path, {bigint: true});
	return `${stats.ino}:${stats.mtimeNs}`;
}

describe('ContactStore: pins', () => {
	it('pins on first sight in a 0600 file inside 0700 directories', () => {
		const {store, path, directory} = newStore();
		expect(store.get('bob')).toBeUndefined();
		expect(store.observe('bob', bob)).toBe('pinned');
		expect(store.get('bob')).toEqual({pinned: bob, verified: false, sendCounter: 0, receive: {next: 0, missing: []}});
		expect(statSync(store.pinsPath).mode & 0o777).toBe(0o600);
		expect(statSync(directory).mode & 0o777).toBe(0o700);
		expect(statSync(join(directory, '..')).mode & 0o777).toBe(0o700);
		// A user only seen is a pin; contacts.json appears with the first counter.
		expect(readdirSync(directory)).toEqual(['pins.json']);
		expect(store.pinsPath).toBe(join(directory, 'pins.json'));
		store.nextSendCounter('bob');
		expect(statSync(path).mode & 0o777).toBe(0o600);
		expect(readdirSync(directory).sort()).toEqual(['contacts.json', 'pins.json']);
		expect(path).toBe(join(directory, 'contacts.json'));
	});

	it('stores keys as B64U', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		const record = {identity: bob.identity.toString('base64url'), x25519: bob.x25519.toString('base64url'), binding: bob.binding.toString('base64url')};
		expect(JSON.parse(readFileSync(store.pinsPath, 'utf8'))).toEqual({version: 1, pins: {bob: record}});
		store.nextSendCounter('bob');
		expect(JSON.parse(readFileSync(path, 'utf8')).contacts.bob.pinned).toEqual(record);
	});

	it("says 'same' for the pinned record without rewriting either file", () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		const before = stamp(store.pinsPath);
		expect(store.observe('bob', publicIdentity(bobKeys, 'bob'))).toBe('same');
		expect(stamp(store.pinsPath)).toBe(before);
		store.nextSendCounter('bob');
		const contactsBefore = stamp(path);
		expect(store.observe('bob', publicIdentity(bobKeys, 'bob'))).toBe('same');
		expect(stamp(path)).toBe(contactsBefore);
		expect(stamp(store.pinsPath)).toBe(before);
	});

	it('holds a different record as pending, keeps the pin and clears the verified mark', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		store.setVerified('bob', true);
		expect(store.observe('bob', bobNew)).toBe('changed');
		const contact = store.get('bob')!;
		expect(contact.pinned).toEqual(bob);
		expect(contact.pending).toEqual(bobNew);
		expect(contact.verified).toBe(false);
		const before = stamp(path);
		expect(store.observe('bob', bobNew)).toBe('changed');
		expect(stamp(path)).toBe(before);
		expect(store.observe('bob', bobThird)).toBe('changed');
		expect(store.get('bob')!.pending).toEqual(bobThird);
	});

	it('keeps the warning when the relay serves the old pin again', () => {
		const {store} = newStore();
		store.observe('bob', bob);
		store.observe('bob', bobNew);
		expect(store.observe('bob', bob)).toBe('same');
		expect(store.get('bob')!.pending).toEqual(bobNew);
	});

	it('refuses a record whose binding does not verify for the name, and stores nothing', () => {
		const {store} = newStore();
		expect(() => store.observe('carol', bob)).toThrow(/binding/);
		expect(() => store.observe('bob', {...bob, x25519: bobNew.x25519})).toThrow(/binding/);
		expect(() => store.observe('bob', {...bob, binding: Buffer.alloc(64)})).toThrow(/binding/);
		expect(store.names()).toEqual([]);
	});

	it('observes a batch record by record: a bad one is invalid, stores nothing, and spoils no other', () => {
		const {store} = newStore();
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
	});

	it('marks who is verified and whose key changed, in one read', () => {
		const {store} = newStore();
		store.observe('bob', bob);
		store.observe('carol', publicIdentity(generateIdentity(), 'carol'));
		store.observe('dave', publicIdentity(generateIdentity(), 'dave'));
		store.setVerified('carol', true);
		store.observe('dave', publicIdentity(generateIdentity(), 'dave'));
		expect(store.marks()).toEqual({verified: new Set(['carol']), keyChanged: new Set(['dave'])});
	});

	it('lists names sorted and hands out copies', () => {
		const {store} = newStore();
		for (const name of ['zed', 'amy', 'bob']) store.observe(name, publicIdentity(generateIdentity(), name));
		expect(store.names()).toEqual(['amy', 'bob', 'zed']);
		const copy = store.get('amy')!;
		copy.pinned.identity.fill(0);
		copy.receive.missing.push(1);
		expect(store.get('amy')!.pinned.identity.equals(copy.pinned.identity)).toBe(false);
		expect(store.get('amy')!.receive.missing).toEqual([]);
	});

	it('stores a contact named __proto__ as data', () => {
		const {store, path} = newStore();
		expect(store.observe('__proto__', publicIdentity(generateIdentity(), '__proto__'))).toBe('pinned');
		expect(new ContactStore(path).names()).toEqual(['__proto__']);
		expect(({} as Record<string, unknown>).pinned).toBeUndefined();
	});
});

describe('ContactStore: trust and verification', () => {
	it('trust re-pins, clears pending and verified, and restarts counters for a new key', () => {
		const {store} = newStore();
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
	});

	it('resumes the counters of a key that was pinned before, so its old envelopes stay replays', () => {
		const {store} = newStore();
		store.observe('bob', bob);
		for (let index = 0; index < 3; index++) store.nextSendCounter('bob');
		store.receive('bob', 0);
		store.receive('bob', 1);
		store.receive('bob', 4);
		store.observe('bob', bobNew);
		store.trust('bob');
		store.nextSendCounter('bob');
		store.receive('bob', 0);
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
		const {store, path} = newStore();
		store.observe('bob', bob);
		store.setVerified('bob', true);
		expect(new ContactStore(path).get('bob')!.verified).toBe(true);
		store.setVerified('bob', false);
		expect(store.get('bob')!.verified).toBe(false);
		store.observe('bob', bobNew);
		expect(() => store.setVerified('bob', true)).toThrow(/trust/);
		store.setVerified('bob', false);
		expect(() => store.setVerified('carol', true)).toThrow(/not a contact/);
		expect(() => store.setVerified('Bob', true)).toThrow(TypeError);
	});
});

describe('ContactStore: counters', () => {
	it('hands out send counters, each on disk before it is returned', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		expect([store.nextSendCounter('bob'), store.nextSendCounter('bob'), store.nextSendCounter('bob')]).toEqual([0, 1, 2]);
		expect(JSON.parse(readFileSync(path, 'utf8')).contacts.bob.sendCounter).toBe(3);
		expect(new ContactStore(path).nextSendCounter('bob')).toBe(3);
		expect(() => store.nextSendCounter('carol')).toThrow(/not a contact/);
	});

	it('applies received counters and keeps them across a restart: replays stay rejected', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		expect(store.receive('bob', 0)).toEqual({verdict: 'new', gap: 0, state: {next: 1, missing: []}});
		expect(store.receive('bob', 3)).toMatchObject({verdict: 'new', gap: 2});
		const before = stamp(path);
		expect(store.receive('bob', 0)).toEqual({verdict: 'replay'});
		expect(stamp(path)).toBe(before);

		const restarted = new ContactStore(path);
		expect(restarted.get('bob')!.receive).toEqual({next: 4, missing: [1, 2]});
		expect(restarted.receive('bob', 0).verdict).toBe('replay');
		expect(restarted.receive('bob', 3).verdict).toBe('replay');
		expect(restarted.receive('bob', 2).verdict).toBe('late');
		expect(new ContactStore(path).receive('bob', 2).verdict).toBe('replay');
		expect(new ContactStore(path).receive('bob', 1).verdict).toBe('late');
		expect(() => store.receive('carol', 0)).toThrow(/not a contact/);
	});

	it('stores a capped huge jump and reloads it', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		expect(store.receive('bob', Number.MAX_SAFE_INTEGER)).toMatchObject({verdict: 'new', gap: Number.MAX_SAFE_INTEGER});
		const reloaded = new ContactStore(path).get('bob')!;
		expect(reloaded.receive.next).toBe(2 ** 53);
		expect(reloaded.receive.missing).toHaveLength(maxMissingCounters);
		expect(new ContactStore(path).receive('bob', Number.MAX_SAFE_INTEGER).verdict).toBe('replay');
	});
});

const text = (id: string, body = `text ${id}`): AcceptedContent => ({type: 'text', id, kind: 'direct', text: body, sent: 1, time: 2});

describe('ContactStore: what accepted envelopes show, and receipts owed', () => {
	it('keeps what an envelope shows in the update that spends its counter, and across a restart', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		store.receive('bob', 0, text('m0'));
		store.receive('bob', 3, {type: 'receipt', id: 'r3', ids: ['x', 'y'], time: 4});
		store.receive('bob', 1, text('m1'));
		// A replay keeps nothing: it was shown when it was accepted.
		expect(store.receive('bob', 0, text('m0 again')).verdict).toBe('replay');
		expect(new ContactStore(path).inbox()).toEqual([
			{from: 'bob', accepted: {...text('m0'), gap: 0}},
			{from: 'bob', accepted: {type: 'receipt', id: 'r3', ids: ['x', 'y'], time: 4, gap: 2}},
			{from: 'bob', accepted: {...text('m1'), gap: 0}},
		]);
		// The public contact is unchanged by it.
		expect(store.get('bob')).toEqual({pinned: bob, verified: false, sendCounter: 0, receive: {next: 4, missing: [2]}});
	});

	it('settles in one update: forgets what was shown, owes and pays receipts', () => {
		const {store, path} = newStore();
		const carol = publicIdentity(generateIdentity(), 'carol');
		store.observeAll([{name: 'bob', record: bob}, {name: 'carol', record: carol}]);
		store.receive('bob', 0, text('same'));
		store.receive('bob', 1, text('same', 'a second text that reuses the id'));
		store.receive('carol', 0, text('c0'));
		const before = stamp(path);
		store.settle([
			{name: 'bob', shown: [{type: 'text', id: 'same'}], owe: ['same'], paid: []},
			{name: 'carol', shown: [{type: 'text', id: 'c0'}], owe: ['c0', 'older'], paid: []},
			{name: 'nobody', shown: [{type: 'text', id: 'x'}], owe: ['x'], paid: []},
		]);
		expect(stamp(path)).not.toBe(before);
		const reloaded = new ContactStore(path);
		expect(reloaded.inbox()).toEqual([{from: 'bob', accepted: {...text('same', 'a second text that reuses the id'), gap: 0}}]);
		expect(reloaded.owed('bob')).toEqual(['same']);
		expect(reloaded.owed('carol')).toEqual(['c0', 'older']);
		expect(reloaded.owing()).toEqual(['bob', 'carol']);
		store.settle([{name: 'carol', shown: [], owe: [], paid: ['c0', 'older']}]);
		expect(store.owing()).toEqual(['bob']);
		const unchanged = stamp(path);
		store.settle([{name: 'bob', shown: [], owe: [], paid: []}]);
		expect(stamp(path)).toBe(unchanged);
	});

	it('defers a settlement to the next write, whatever it is for, and keeps it while writes fail', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		store.receive('bob', 0, text('m0'));
		store.defer({name: 'bob', shown: [{type: 'text', id: 'm0'}], owe: ['m0'], paid: []});
		// Counted at once here, not yet on disk.
		expect(store.inbox()).toEqual([]);
		expect(store.owed('bob')).toEqual(['m0']);
		expect(new ContactStore(path).inbox()).toHaveLength(1);
		// A write that fails carries nothing and loses nothing.
		writeFileSync(`${path}.lock`, `${process.ppid}\n`);
		expect(() => new ContactStore(path, {lockTimeoutMs: 50}).nextSendCounter('bob')).toThrow(/locked/);
		const impatient = new ContactStore(path, {lockTimeoutMs: 50});
		impatient.defer({name: 'bob', shown: [{type: 'text', id: 'm0'}], owe: ['m0'], paid: []});
		expect(() => impatient.receive('bob', 1, text('m1'))).toThrow(/locked/);
		rmSync(`${path}.lock`);
		expect(impatient.owed('bob')).toEqual(['m0']);
		// The next write, here for a send counter, carries it.
		expect(store.nextSendCounter('bob')).toBe(0);
		const reloaded = new ContactStore(path);
		expect(reloaded.inbox()).toEqual([]);
		expect(reloaded.owed('bob')).toEqual(['m0']);
		// Already carried by the other instance's write: applying it again changes nothing.
		const before = stamp(path);
		impatient.settle([]);
		expect(stamp(path)).toBe(before);
		expect(impatient.receive('bob', 1, text('m1')).verdict).toBe('new');
		expect(new ContactStore(path).inbox()).toEqual([{from: 'bob', accepted: {...text('m1'), gap: 0}}]);
	});

	it('refuses an envelope, spending nothing, once too many wait to be shown', () => {
		const {store} = newStore();
		store.observe('bob', bob);
		for (let counter = 0; counter < maxInboxEntries; counter++) store.receive('bob', counter, text(`m${counter}`));
		expect(() => store.receive('bob', maxInboxEntries, text('one too many'))).toThrow(/wait to be shown/);
		expect(store.get('bob')!.receive.next).toBe(maxInboxEntries);
		store.settle([{name: 'bob', shown: [{type: 'text', id: 'm0'}], owe: [], paid: []}]);
		expect(store.receive('bob', maxInboxEntries, text('one too many')).verdict).toBe('new');
	});

	it('owed receipts belong to the pinned keys: retired with them, back when they are trusted again', () => {
		const {store} = newStore();
		store.observe('bob', bob);
		store.observe('bob', bobNew);
		store.settle([{name: 'bob', shown: [], owe: ['m1'], paid: []}]);
		expect(store.trust('bob')).toBe(true);
		expect(store.owed('bob')).toEqual([]);
		store.observe('bob', bobThird);
		store.trust('bob');
		expect(store.owed('bob')).toEqual([]);
		store.observe('bob', bob);
		store.trust('bob');
		expect(store.owed('bob')).toEqual(['m1']);
	});

	it('reads a file written before the inbox and owed receipts existed', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		store.observe('bob', bobNew);
		store.trust('bob');
		const file = JSON.parse(readFileSync(path, 'utf8'));
		expect(file.contacts.bob).not.toHaveProperty('inbox');
		expect(file.contacts.bob).not.toHaveProperty('owed');
		expect(file.contacts.bob.retired[0]).not.toHaveProperty('owed');
		expect(new ContactStore(path).inbox()).toEqual([]);
		// and the same retired pin with owed receipts is read as such
		file.contacts.bob.retired[0].owed = ['m1'];
		writeFileSync(path, JSON.stringify(file));
		store.observe('bob', bob);
		store.trust('bob');
		expect(store.owed('bob')).toEqual(['m1']);
	});
});

describe('ContactStore: pins.json and contacts.json', () => {
	const crowd = Array.from({length: 300}, (_, index) => {
		const name = `user${index}`;
		return {name, record: publicIdentity(generateIdentity(), name)};
	});
	const carol = publicIdentity(generateIdentity(), 'carol');

	it('a message rewrites only contacts.json, which holds only the people talked with', () => {
		const {store, path} = newStore();
		expect(store.observeAll([{name: 'bob', record: bob}, ...crowd])).toEqual(Array(crowd.length + 1).fill('pinned'));
		const pins = stamp(store.pinsPath);
		expect(store.nextSendCounter('bob')).toBe(0);
		expect(store.receive('bob', 0).verdict).toBe('new');
		store.settle([{name: 'bob', shown: [], owe: ['m1'], paid: []}]);
		expect(stamp(store.pinsPath)).toBe(pins);
		expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')).contacts)).toEqual(['bob']);
		expect(statSync(path).size).toBeLessThan(1000);
		// Everyone is still known, as first seen, and a fresh instance reads the same.
		const again = new ContactStore(path);
		expect(again.names()).toEqual(['bob', ...crowd.map(({name}) => name)].sort());
		expect(again.get('user7')).toEqual({pinned: crowd[7]!.record, verified: false, sendCounter: 0, receive: {next: 0, missing: []}});
		expect(again.get('bob')).toMatchObject({sendCounter: 1, receive: {next: 1}});
		expect(again.owed('bob')).toEqual(['m1']);
		expect(again.owing()).toEqual(['bob']);
	});

	it('a key change of someone only seen moves them to contacts.json; pins.json is not rewritten', () => {
		const {store, path} = newStore();
		store.observeAll(crowd);
		const pins = stamp(store.pinsPath);
		const changed = publicIdentity(generateIdentity(), 'user3');
		expect(store.observe('user3', changed)).toBe('changed');
		expect(stamp(store.pinsPath)).toBe(pins);
		expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')).contacts)).toEqual(['user3']);
		expect(new ContactStore(path).get('user3')).toMatchObject({pinned: crowd[3]!.record, pending: changed});
	});

	it('moves the bare pins of a file written before pins.json into it at the next change, losing none', () => {
		const {store, path, directory} = newStore();
		store.observe('bob', bob);
		store.nextSendCounter('bob');
		store.observe('carol', carol);
		// contacts.json as earlier versions wrote it: everyone in it, pins.json absent.
		const old = JSON.parse(readFileSync(path, 'utf8'));
		old.contacts.carol = {...old.contacts.bob, pinned: JSON.parse(readFileSync(store.pinsPath, 'utf8')).pins.carol, sendCounter: 0, receive: {next: 0, missing: []}};
		writeFileSync(path, JSON.stringify(old));
		rmSync(store.pinsPath);
		const reader = new ContactStore(path);
		expect(reader.names()).toEqual(['bob', 'carol']);
		expect(reader.get('carol')).toEqual({pinned: carol, verified: false, sendCounter: 0, receive: {next: 0, missing: []}});
		expect(reader.nextSendCounter('bob')).toBe(1);
		expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')).contacts)).toEqual(['bob']);
		expect(Object.keys(JSON.parse(readFileSync(store.pinsPath, 'utf8')).pins)).toEqual(['carol']);
		expect(readdirSync(directory).sort()).toEqual(['contacts.json', 'pins.json']);
		expect(new ContactStore(path).get('carol')!.pinned).toEqual(carol);
	});

	it.each<[string, string]>([
		['not JSON', '{"version":1,"pins":{'],
		['another version', '{"version":2,"pins":{}}'],
		['no pins', '{"version":1}'],
		['a bad name', '{"version":1,"pins":{"Bob!":{}}}'],
		['a short key', '{"version":1,"pins":{"bob":{"identity":"AAAA","x25519":"AAAA","binding":"AAAA"}}}'],
	])('refuses a pins.json with %s, with a clear error, and leaves it alone', (_, text) => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		writeFileSync(store.pinsPath, text);
		expect(() => new ContactStore(path)).toThrow(/pins\.json is damaged/);
		expect(() => store.observe('carol', carol)).toThrow(/pins\.json is damaged/);
		expect(readFileSync(store.pinsPath, 'utf8')).toBe(text);
	});
});

describe('ContactStore: damaged files and permissions', () => {
	function damagedStore(change: (file: any) => unknown): {path: string; text: string} {
		const {store, path} = newStore();
		store.observe('bob', bob);
		store.observe('bob', bobNew);
		store.receive('bob', 3);
		const file = JSON.parse(readFileSync(path, 'utf8'));
		const changed = change(file);
		const text = typeof changed === 'string' ? changed : JSON.stringify(changed ?? file);
		writeFileSync(path, text);
		return {path, text};
	}

	it.each<[string, (file: any) => unknown]>([
		['not JSON', () => '{"version":1,"contacts":{'],
		['empty', () => ''],
		['another version', file => ({...file, version: 2})],
		['no contacts', () => ({version: 1})],
		['a bad contact name', file => ({version: 1, contacts: {'Bob!': file.contacts.bob}})],
		['a short pinned key', file => void (file.contacts.bob.pinned.identity = file.contacts.bob.pinned.identity.slice(0, 40))],
		['a short binding', file => void (file.contacts.bob.pending.binding = 'AAAA')],
		['no verified mark', file => void delete file.contacts.bob.verified],
		['a negative send counter', file => void (file.contacts.bob.sendCounter = -1)],
		['a fractional send counter', file => void (file.contacts.bob.sendCounter = 0.5)],
		['missing counters out of order', file => void (file.contacts.bob.receive.missing = [2, 1])],
		['a missing counter at next', file => void (file.contacts.bob.receive.missing = [0, 4])],
		['a duplicate missing counter', file => void (file.contacts.bob.receive.missing = [1, 1])],
		['no retired list', file => void delete file.contacts.bob.retired],
		['a bad retired pin', file => void (file.contacts.bob.retired = [{identity: 'x'}])],
		['a bad accepted message', file => void (file.contacts.bob.inbox = [{type: 'text', id: 'm1', kind: 'direct', text: 1, sent: 0, time: 0, gap: 0}])],
		['an accepted message of an unknown type', file => void (file.contacts.bob.inbox = [{type: 'typing', id: 'm1', time: 0, gap: 0}])],
		['an accepted receipt without ids', file => void (file.contacts.bob.inbox = [{type: 'receipt', id: 'r1', ids: [], time: 0, gap: 0}])],
		['an inbox that is not a list', file => void (file.contacts.bob.inbox = {})],
		['an owed receipt that is not a message id', file => void (file.contacts.bob.owed = ['not an id!'])],
		['retired owed receipts that are not a list', file => void (file.contacts.bob.retired = [{...file.contacts.bob.pinned, sendCounter: 0, receiveNext: 0, owed: 'm1'}])],
	])('refuses %s with a clear error and leaves the file alone', (_, change) => {
		const {path, text} = damagedStore(change);
		expect(() => new ContactStore(path)).toThrow(/damaged/);
		expect(readFileSync(path, 'utf8')).toBe(text);
	});

	it('refuses a file other users can read or write', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		store.nextSendCounter('bob');
		chmodSync(path, 0o644);
		expect(() => new ContactStore(path)).toThrow(/chmod 600/);
		expect(() => store.receive('bob', 0)).toThrow(/chmod 600/);
		chmodSync(path, 0o600);
		expect(new ContactStore(path).get('bob')!.pinned).toEqual(bob);
		chmodSync(store.pinsPath, 0o640);
		expect(() => new ContactStore(path)).toThrow(/chmod 600/);
		chmodSync(store.pinsPath, 0o600);
		expect(new ContactStore(path).get('bob')!.sendCounter).toBe(1);
	});

	it('refuses a contact name that is not a username', () => {
		const {store} = newStore();
		expect(() => store.observe('../x', bob)).toThrow(TypeError);
		expect(() => store.trust('Bob')).toThrow(TypeError);
	});
});

describe('ContactStore: two instances on one file', () => {
	it('see each other\'s changes, so a replay accepted by one is rejected by the other', () => {
		const {path, directory} = newStore();
		const first = new ContactStore(path);
		const second = new ContactStore(path);
		first.observe('bob', bob);
		expect(second.get('bob')!.pinned).toEqual(bob);
		expect(second.observe('bob', bob)).toBe('same');
		expect(first.receive('bob', 0).verdict).toBe('new');
		expect(second.receive('bob', 0).verdict).toBe('replay');
		expect(second.nextSendCounter('bob')).toBe(0);
		expect(first.nextSendCounter('bob')).toBe(1);
		second.observe('carol', publicIdentity(generateIdentity(), 'carol'));
		first.observe('dave', publicIdentity(generateIdentity(), 'dave'));
		expect(second.names()).toEqual(['bob', 'carol', 'dave']);
		expect(first.names()).toEqual(['bob', 'carol', 'dave']);
		expect(readdirSync(directory).sort()).toEqual(['contacts.json', 'pins.json']);
	});
});

describe('ContactStore: the lock file', () => {
	function deadPid(): number {
		const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'});
		return Number(child.stdout);
	}

	it('waits for a live lock and then gives up with a clear error, changing nothing', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		writeFileSync(`${path}.lock`, `${process.ppid}\n`);
		const impatient = new ContactStore(path, {lockTimeoutMs: 100});
		const started = Date.now();
		expect(() => impatient.nextSendCounter('bob')).toThrow(/locked by another im-tui process/);
		expect(Date.now() - started).toBeGreaterThanOrEqual(100);
		expect(impatient.get('bob')!.sendCounter).toBe(0);
		rmSync(`${path}.lock`);
		expect(impatient.nextSendCounter('bob')).toBe(0);
	});

	it('takes the lock with its pid already in it, so a process killed meanwhile never leaves an empty one', () => {
		const {store, path, directory} = newStore();
		store.observe('bob', bob);
		const seen = withLock(path, 100, () => [readFileSync(`${path}.lock`, 'utf8'), readdirSync(directory).sort()]);
		expect(seen).toEqual([`${process.pid}\n`, ['contacts.json.lock', 'pins.json']]);
		expect(readdirSync(directory)).toEqual(['pins.json']);
	});

	it('breaks the lock of a process that is gone', () => {
		const {store, path, directory} = newStore();
		store.observe('bob', bob);
		writeFileSync(`${path}.lock`, `${deadPid()}\n`);
		expect(new ContactStore(path, {lockTimeoutMs: 100}).nextSendCounter('bob')).toBe(0);
		expect(readdirSync(directory).sort()).toEqual(['contacts.json', 'pins.json']);
	});

	it('breaks a lock held far longer than any write takes', () => {
		const {store, path, directory} = newStore();
		store.observe('bob', bob);
		writeFileSync(`${path}.lock`, `${process.ppid}\n`);
		const past = (Date.now() - staleLockMs - 1000) / 1000;
		utimesSync(`${path}.lock`, past, past);
		expect(new ContactStore(path, {lockTimeoutMs: 100}).nextSendCounter('bob')).toBe(0);
		expect(readdirSync(directory).sort()).toEqual(['contacts.json', 'pins.json']);
	});

	it('releases the lock when a change fails', () => {
		const {store, directory} = newStore();
		store.observe('bob', bob);
		store.observe('bob', bobNew);
		expect(() => store.setVerified('bob', true)).toThrow(/trust/);
		expect(readdirSync(directory).sort()).toEqual(['contacts.json', 'pins.json']);
	});
});
