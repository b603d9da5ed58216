import {describe, expect, it} from 'vitest';
import {inviteRow} from './room-fixtures.js';
import {envelope, now, oneTimePrekeys, signedPrekey, storedUser, withStore, type OpenStore} from './store-fixtures.js';

/** What every AsyncRelayStore does with registered users (relay-store.ts, async-store.ts); `open` gives a fresh, empty store. */
export function userBehaviours(open: OpenStore): void {
	describe('users', () => {
		it('a name registers once: a second registration of it says false and keeps the first (the count too)', async () => {
			await withStore(open, async store => {
				expect(await store.userCount()).toBe(0);
				expect(await store.registerUser(storedUser('alice'))).toBe(true);
				expect(await store.registerUser(storedUser('alice', {identity: 'mallory'.padEnd(43, 'M')}))).toBe(false);
				expect(await store.user('alice')).toEqual(storedUser('alice'));
				expect(await store.userCount()).toBe(1);
			});
		});

		it('a user reads back whole, numbers as numbers and confirmed as a boolean; an unknown name is undefined', async () => {
			await withStore(open, async store => {
				const carol = storedUser('carol', {registeredAt: now + 12_345, confirmed: false});
				await store.registerUser(carol);
				const read = await store.user('carol');
				expect(read).toEqual(carol);
				expect(typeof read?.registeredAt).toBe('number');
				expect(await store.user('nobody')).toBeUndefined();
			});
		});

		it('the count follows registrations and deletions; deleting an unknown name changes nothing', async () => {
			await withStore(open, async store => {
				for (const name of ['a', 'b', 'c']) await store.registerUser(storedUser(name));
				expect(await store.userCount()).toBe(3);
				await store.deleteUser('b');
				await store.deleteUser('nobody');
				expect(await store.userCount()).toBe(2);
				expect(await store.registerUser(storedUser('b'))).toBe(true);
				expect(await store.userCount()).toBe(3);
			});
		});

		it('names come in byte order (as SQLite compares: - before digits before _ before letters), at most a limit', async () => {
			await withStore(open, async store => {
				const names = ['ab', 'a_b', 'a0', 'a-c', 'b', 'zz9'];
				for (const name of names) await store.registerUser(storedUser(name));
				expect(await store.firstUsernames(10)).toEqual(['a-c', 'a0', 'a_b', 'ab', 'b', 'zz9']);
				expect(await store.firstUsernames(2)).toEqual(['a-c', 'a0']);
				const named = await store.usersNamed(['zz9', 'nobody', 'ab', 'a-c']);
				expect(named.map(user => user.username)).toEqual(['a-c', 'ab', 'zz9']);
				expect(named[1]).toEqual(storedUser('ab'));
				expect(await store.usersNamed([])).toEqual([]);
			});
		});

		it('lapsed: registered before the time and never confirmed, oldest first; confirming one keeps it', async () => {
			await withStore(open, async store => {
				await store.registerUser(storedUser('late', {registeredAt: now + 30, confirmed: false}));
				await store.registerUser(storedUser('early', {registeredAt: now + 10, confirmed: false}));
				await store.registerUser(storedUser('middle', {registeredAt: now + 20, confirmed: false}));
				await store.registerUser(storedUser('kept', {registeredAt: now, confirmed: true}));
				expect(await store.lapsedUsers(now + 30)).toEqual(['early', 'middle']);
				expect(await store.lapsedUsers(now + 31)).toEqual(['early', 'middle', 'late']);
				await store.confirmUser('middle');
				await store.confirmUser('nobody');
				expect(await store.lapsedUsers(now + 31)).toEqual(['early', 'late']);
				expect((await store.user('middle'))?.confirmed).toBe(true);
			});
		});

		it('deleting a user takes its queue, its contacts both ways, its prekeys and the invitations to and from it; others keep theirs', async () => {
			await withStore(open, async store => {
				for (const name of ['gone', 'alice', 'bob']) await store.registerUser(storedUser(name));
				await store.enqueue([envelope('alice', 'gone', 'm1'), envelope('gone', 'bob', 'm2'), envelope('alice', 'bob', 'm3')]);
				await store.addContact('gone', 'alice', 'chosen', now);
				await store.addContact('alice', 'gone', 'inbound', now);
				await store.addContact('alice', 'bob', 'chosen', now);
				await store.savePrekeys('gone', signedPrekey(1), oneTimePrekeys(1, 2), 10);
				await store.savePrekeys('bob', signedPrekey(1), oneTimePrekeys(1), 10);
				await store.saveInvite(inviteRow('room1', 'gone', {inviter: 'alice'}));
				await store.saveInvite(inviteRow('room1', 'bob', {inviter: 'gone'}));
				await store.saveInvite(inviteRow('room1', 'alice', {inviter: 'bob'}));

				await store.deleteUser('gone');

				expect(await store.user('gone')).toBeUndefined();
				expect(await store.queued('gone', 0, 10)).toEqual([]);
				// What it sent stays: the recipient may still read it.
				expect((await store.queued('bob', 0, 10)).map(queued => queued.id)).toEqual(['m2', 'm3']);
				expect(await store.contactCounts('gone')).toEqual({chosen: 0, inbound: 0});
				expect(await store.contactKind('alice', 'gone')).toBeUndefined();
				expect(await store.watchers('gone', 10)).toEqual([]);
				expect(await store.contactKind('alice', 'bob')).toBe('chosen');
				expect(await store.prekeyCount('gone')).toEqual({oneTime: 0, signed: null});
				expect(await store.claimBundle('gone', true)).toBeUndefined();
				expect(await store.prekeyCount('bob')).toEqual({oneTime: 1, signed: 1});
				expect(await store.invite('room1', 'gone')).toBeUndefined();
				expect(await store.invite('room1', 'bob')).toBeUndefined();
				expect(await store.invite('room1', 'alice')).toEqual(inviteRow('room1', 'alice', {inviter: 'bob'}));
				expect(await store.userCount()).toBe(2);
			});
		});
	});
}
