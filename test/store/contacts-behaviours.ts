import {describe, expect, it} from 'vitest';
import {now, storedUser, withStore, type OpenStore} from './store-fixtures.js';

/** What every AsyncRelayStore does with contacts (relay-store.ts); `open` gives a fresh, empty store. */
export function contactBehaviours(open: OpenStore): void {
	describe('contacts', () => {
		it('an edge is added once (its kind kept), counted by kind and read back; none is undefined', async () => {
			await withStore(open, async store => {
				expect(await store.addContact('alice', 'bob', 'chosen', now)).toBe(true);
				expect(await store.addContact('alice', 'bob', 'inbound', now + 1)).toBe(false);
				expect(await store.addContact('alice', 'carol', 'inbound', now)).toBe(true);
				expect(await store.addContact('alice', 'dave', 'inbound', now)).toBe(true);
				expect(await store.contactKind('alice', 'bob')).toBe('chosen');
				expect(await store.contactKind('alice', 'carol')).toBe('inbound');
				expect(await store.contactKind('bob', 'alice')).toBeUndefined();
				expect(await store.contactCounts('alice')).toEqual({chosen: 1, inbound: 2});
				expect(await store.contactCounts('nobody')).toEqual({chosen: 0, inbound: 0});
			});
		});

		it('choosing makes an inbound edge chosen, once; a chosen or missing edge says false', async () => {
			await withStore(open, async store => {
				await store.addContact('alice', 'bob', 'inbound', now);
				await store.addContact('alice', 'carol', 'chosen', now);
				expect(await store.chooseContact('alice', 'bob')).toBe(true);
				expect(await store.chooseContact('alice', 'bob')).toBe(false);
				expect(await store.chooseContact('alice', 'carol')).toBe(false);
				expect(await store.chooseContact('alice', 'nobody')).toBe(false);
				expect(await store.contactKind('alice', 'bob')).toBe('chosen');
				expect(await store.contactCounts('alice')).toEqual({chosen: 2, inbound: 0});
			});
		});

		it('eviction takes the oldest inbound edge (by time, then name), never a chosen one, and none when none is left', async () => {
			await withStore(open, async store => {
				await store.addContact('victim', 'friend', 'chosen', now - 100);
				await store.addContact('victim', 'late', 'inbound', now + 30);
				await store.addContact('victim', 'b-early', 'inbound', now + 10);
				await store.addContact('victim', 'a-early', 'inbound', now + 10);
				await store.addContact('victim', 'middle', 'inbound', now + 20);
				await store.addContact('other', 'oldest', 'inbound', now - 1000);
				const evicted = [];
				for (let round = 0; round < 5; round++) evicted.push(await store.evictOldestInbound('victim'));
				expect(evicted).toEqual(['a-early', 'b-early', 'middle', 'late', undefined]);
				expect(await store.contactCounts('victim')).toEqual({chosen: 1, inbound: 0});
				expect(await store.contactKind('other', 'oldest')).toBe('inbound');
			});
		});

		it('watchers: the accounts that have the name as a contact, of either kind, at most a limit', async () => {
			await withStore(open, async store => {
				await store.addContact('alice', 'carol', 'chosen', now);
				await store.addContact('bob', 'carol', 'inbound', now);
				await store.addContact('dave', 'carol', 'chosen', now);
				await store.addContact('carol', 'alice', 'chosen', now);
				expect((await store.watchers('carol', 10)).sort()).toEqual(['alice', 'bob', 'dave']);
				expect(await store.watchers('carol', 2)).toHaveLength(2);
				expect(await store.watchers('nobody', 10)).toEqual([]);
			});
		});

		it('contactNames: the registered contacts only, in name order, at most a limit', async () => {
			await withStore(open, async store => {
				for (const name of ['alice', 'bob', 'carol', 'a_z']) await store.registerUser(storedUser(name));
				for (const name of ['carol', 'ghost', 'bob', 'a_z']) await store.addContact('alice', name, 'chosen', now);
				await store.addContact('alice', 'zed', 'inbound', now);
				expect(await store.contactNames('alice', 10)).toEqual(['a_z', 'bob', 'carol']);
				expect(await store.contactNames('alice', 2)).toEqual(['a_z', 'bob']);
				expect(await store.contactNames('bob', 10)).toEqual([]);
			});
		});
	});
}
