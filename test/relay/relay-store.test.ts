import {join} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
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

	it('contacts: added once, listed by name with the registered only, counted by kind, tested, watched; a deleted user loses them both ways', () => {
		const store = openSqliteStore(tempDir());
		for (const name of ['alice', 'bob', 'carol', 'dave']) store.registerUser(user(name));
		expect(store.addContact('alice', 'carol', 'chosen', 1)).toBe(true);
		expect(store.addContact('alice', 'bob', 'chosen', 1)).toBe(true);
		expect(store.addContact('alice', 'bob', 'inbound', 2)).toBe(false);
		expect(store.addContact('alice', 'ghost', 'chosen', 1)).toBe(true);
		store.addContact('bob', 'carol', 'chosen', 1);
		store.addContact('dave', 'carol', 'inbound', 1);
		store.addContact('carol', 'alice', 'chosen', 1);
		expect(store.contactNames('alice', 10)).toEqual(['bob', 'carol']);
		expect(store.contactNames('alice', 1)).toEqual(['bob']);
		expect(store.contactCounts('alice')).toEqual({chosen: 3, inbound: 0});
		expect(store.contactKind('alice', 'bob')).toBe('chosen');
		expect(store.contactKind('bob', 'alice')).toBeUndefined();
		expect(store.contactKind('dave', 'carol')).toBe('inbound');
		expect(store.watchers('carol', 10).sort()).toEqual(['alice', 'bob', 'dave']);
		expect(store.watchers('carol', 2)).toHaveLength(2);
		expect(store.usersNamed(['dave', 'nobody', 'alice']).map(found => found.username)).toEqual(['alice', 'dave']);
		expect(store.firstUsernames(3)).toEqual(['alice', 'bob', 'carol']);
		store.deleteUser('carol');
		expect(store.watchers('carol', 10)).toEqual([]);
		expect(store.contactNames('alice', 10)).toEqual(['bob']);
		expect(store.contactKind('carol', 'alice')).toBeUndefined();
		store.close();
	});

	it('inbound contacts: chosen later, or evicted oldest first (by time, then name), never a chosen one', () => {
		const store = openSqliteStore(tempDir());
		store.addContact('victim', 'friend', 'chosen', 1);
		store.addContact('victim', 'late', 'inbound', 30);
		store.addContact('victim', 'b-early', 'inbound', 10);
		store.addContact('victim', 'a-early', 'inbound', 10);
		store.addContact('victim', 'middle', 'inbound', 20);
		expect(store.contactCounts('victim')).toEqual({chosen: 1, inbound: 4});
		expect(store.chooseContact('victim', 'middle')).toBe(true);
		expect(store.chooseContact('victim', 'middle')).toBe(false);
		expect(store.chooseContact('victim', 'nobody')).toBe(false);
		expect(store.contactCounts('victim')).toEqual({chosen: 2, inbound: 3});
		expect([1, 2, 3, 4].map(() => store.evictOldestInbound('victim'))).toEqual(['a-early', 'b-early', 'late', undefined]);
		expect(store.contactCounts('victim')).toEqual({chosen: 2, inbound: 0});
		expect(store.contactKind('victim', 'friend')).toBe('chosen');
		store.close();
	});

	it('opens a database whose contacts have no kind nor time, twice: they count as chosen', () => {
		const dataDir = tempDir();
		const old = new Database(join(dataDir, databaseFileName));
		old.exec(`
			create table contacts (owner text not null, contact text not null, primary key (owner, contact)) strict, without rowid;
			create index contacts_by_contact on contacts (contact, owner);
			insert into contacts values ('alice', 'bob'), ('alice', 'carol');
		`);
		old.close();
		for (let again = 0; again < 2; again++) {
			const store = openSqliteStore(dataDir);
			expect(store.contactCounts('alice')).toEqual({chosen: 2, inbound: 0});
			expect(store.contactKind('alice', 'bob')).toBe('chosen');
			if (again === 0) store.addContact('alice', 'dave', 'inbound', 5);
			expect(store.evictOldestInbound('alice')).toBe(again === 0 ? 'dave' : undefined);
			store.close();
		}
	});
});
