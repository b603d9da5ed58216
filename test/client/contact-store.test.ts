import {spawnSync} from 'node:child_process';
import {chmodSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {contactsPath, ContactStore, staleLockMs} from '../../source/client/contact-store.js';
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
		expect(statSync(path).mode & 0o777).toBe(0o600);
		expect(statSync(directory).mode & 0o777).toBe(0o700);
		expect(statSync(join(directory, '..')).mode & 0o777).toBe(0o700);
		expect(readdirSync(directory)).toEqual(['contacts.json']);
		expect(path).toBe(join(directory, 'contacts.json'));
	});

	it('stores keys as B64U', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		const stored = JSON.parse(readFileSync(path, 'utf8')).contacts.bob.pinned;
		expect(stored).toEqual({identity: bob.identity.toString('base64url'), x25519: bob.x25519.toString('base64url'), binding: bob.binding.toString('base64url')});
	});

	it("says 'same' for the pinned record without rewriting the file", () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		const before = stamp(path);
		expect(store.observe('bob', publicIdentity(bobKeys, 'bob'))).toBe('same');
		expect(stamp(path)).toBe(before);
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
	])('refuses %s with a clear error and leaves the file alone', (_, change) => {
		const {path, text} = damagedStore(change);
		expect(() => new ContactStore(path)).toThrow(/damaged/);
		expect(readFileSync(path, 'utf8')).toBe(text);
	});

	it('refuses a file other users can read or write', () => {
		const {store, path} = newStore();
		store.observe('bob', bob);
		chmodSync(path, 0o644);
		expect(() => new ContactStore(path)).toThrow(/chmod 600/);
		expect(() => store.receive('bob', 0)).toThrow(/chmod 600/);
		chmodSync(path, 0o600);
		expect(new ContactStore(path).get('bob')!.pinned).toEqual(bob);
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
		expect(readdirSync(directory)).toEqual(['contacts.json']);
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

	it('breaks the lock of a process that is gone', () => {
		const {store, path, directory} = newStore();
		store.observe('bob', bob);
		writeFileSync(`${path}.lock`, `${deadPid()}\n`);
		expect(new ContactStore(path, {lockTimeoutMs: 100}).nextSendCounter('bob')).toBe(0);
		expect(readdirSync(directory)).toEqual(['contacts.json']);
	});

	it('breaks a lock held far longer than any write takes', () => {
		const {store, path, directory} = newStore();
		store.observe('bob', bob);
		writeFileSync(`${path}.lock`, `${process.ppid}\n`);
		const past = (Date.now() - staleLockMs - 1000) / 1000;
		utimesSync(`${path}.lock`, past, past);
		expect(new ContactStore(path, {lockTimeoutMs: 100}).nextSendCounter('bob')).toBe(0);
		expect(readdirSync(directory)).toEqual(['contacts.json']);
	});

	it('releases the lock when a change fails', () => {
		const {store, directory} = newStore();
		store.observe('bob', bob);
		store.observe('bob', bobNew);
		expect(() => store.setVerified('bob', true)).toThrow(/trust/);
		expect(readdirSync(directory)).toEqual(['contacts.json']);
	});
});
