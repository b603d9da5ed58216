import {join} from 'node:path';
import Database from 'better-sqlite3';
import {describe, expect, it} from 'vitest';
import type {StoredUser} from '../../source/relay/relay-store.js';
import {databaseFileName, openSqliteStore} from '../../source/relay/sqlite-store.js';
import {tempDir} from '../helpers/temp-dir.js';

const user = (username: string, confirmed = true): StoredUser => ({
	username,
	identity: 'i'.repeat(43),
	x25519: 'x'.repeat(43),
	binding: 'b'.repeat(86),
	registeredAt: 5,
	confirmed,
});

describe('the relay database (sqlite-store.ts)', () => {
	it('opens a version 1 database (no confirmed column, no contacts, no count) and again, idempotently; the count follows registrations and deletions', () => {
		const dataDir = tempDir();
		const old = new Database(join(dataDir, databaseFileName));
		old.exec(`
			create table users (username text primary key, identity text not null, x25519 text not null, binding text not null, registered_at integer not null) strict;
			create table meta (key text primary key, value integer not null) strict;
			insert into users values ('old1', 'i', 'x', 'b', 1), ('old2', 'i', 'x', 'b', 2);
		`);
		old.close();
		let store = openSqliteStore(dataDir);
		expect(store.userCount()).toBe(2);
		expect(store.user('old1')).toMatchObject({username: 'old1', confirmed: true});
		store.registerUser(user('new', false));
		expect(store.userCount()).toBe(3);
		store.close();
		for (let again = 0; again < 2; again++) {
			store = openSqliteStore(dataDir);
			expect(store.userCount()).toBe(3);
			store.close();
		}
		store = openSqliteStore(dataDir);
		store.deleteUser('old2');
		store.deleteUser('nobody');
		expect(store.userCount()).toBe(2);
		store.close();
		expect(openSqliteStore(dataDir).userCount()).toBe(2);
	});

	it('contacts: added once, listed by name with the registered only, counted, tested, watched; a deleted user loses them both ways', () => {
		const store = openSqliteStore(tempDir());
		for (const name of ['alice', 'bob', 'carol', 'dave']) store.registerUser(user(name));
		expect(store.addContact('alice', 'carol')).toBe(true);
		expect(store.addContact('alice', 'bob')).toBe(true);
		expect(store.addContact('alice', 'bob')).toBe(false);
		expect(store.addContact('alice', 'ghost')).toBe(true);
		store.addContact('bob', 'carol');
		store.addContact('dave', 'carol');
		store.addContact('carol', 'alice');
		expect(store.contactNames('alice', 10)).toEqual(['bob', 'carol']);
		expect(store.contactNames('alice', 1)).toEqual(['bob']);
		expect(store.contactCount('alice')).toBe(3);
		expect(store.hasContact('alice', 'bob')).toBe(true);
		expect(store.hasContact('bob', 'alice')).toBe(false);
		expect(store.watchers('carol', 10).sort()).toEqual(['alice', 'bob', 'dave']);
		expect(store.watchers('carol', 2)).toHaveLength(2);
		expect(store.usersNamed(['dave', 'nobody', 'alice']).map(found => found.username)).toEqual(['alice', 'dave']);
		expect(store.firstUsernames(3)).toEqual(['alice', 'bob', 'carol']);
		store.deleteUser('carol');
		expect(store.watchers('carol', 10)).toEqual([]);
		expect(store.contactNames('alice', 10)).toEqual(['bob']);
		expect(store.hasContact('carol', 'alice')).toBe(false);
		store.close();
	});
});
