import {setTimeout as sleep} from 'node:timers/promises';
import {describe, expect, it} from 'vitest';
import {envelope, now, oneTimePrekeys, signedPrekey, storedUser, withStore, type OpenStore} from './store-fixtures.js';

/** What every AsyncRelayStore's batch does (async-store.ts); `open` gives a fresh, empty store. */
export function batchBehaviours(open: OpenStore): void {
	describe('batches', () => {
		it('a batch commits what its work wrote when the work resolves, and resolves with its value', async () => {
			await withStore(open, async store => {
				const value = await store.batch(async tx => {
					expect(tx.kind).toBe(store.kind);
					await tx.registerUser(storedUser('alice'));
					await tx.addContact('alice', 'bob', 'chosen', now);
					const [queued] = await tx.enqueue([envelope('bob', 'alice', 'm1')]);
					await tx.savePrekeys('alice', signedPrekey(1), oneTimePrekeys(1), 10);
					return queued!.delivery;
				});
				expect(await store.user('alice')).toEqual(storedUser('alice'));
				expect(await store.userCount()).toBe(1);
				expect(await store.contactKind('alice', 'bob')).toBe('chosen');
				expect((await store.queued('alice', 0, 10)).map(queued => queued.delivery)).toEqual([value]);
				expect(await store.prekeyCount('alice')).toEqual({oneTime: 1, signed: 1});
			});
		});

		it('a batch whose work throws keeps none of it and rejects with that error', async () => {
			await withStore(open, async store => {
				await store.registerUser(storedUser('kept'));
				const thrown = new Error('the relay failed mid-batch');
				const failed = store.batch(async tx => {
					await tx.registerUser(storedUser('alice'));
					await tx.deleteUser('kept');
					await tx.addContact('alice', 'bob', 'chosen', now);
					await tx.savePrekeys('alice', signedPrekey(1), oneTimePrekeys(1), 10);
					expect(await tx.userCount()).toBe(1);
					throw thrown;
				});
				await expect(failed).rejects.toBe(thrown);
				expect(await store.user('alice')).toBeUndefined();
				expect(await store.user('kept')).toEqual(storedUser('kept'));
				expect(await store.userCount()).toBe(1);
				expect(await store.contactKind('alice', 'bob')).toBeUndefined();
				expect(await store.prekeyCount('alice')).toEqual({oneTime: 0, signed: null});
			});
		});

		it('a batch inside a batch runs in the same transaction: it sees the outer writes, and goes when the outer fails', async () => {
			await withStore(open, async store => {
				const failed = store.batch(async tx => {
					await tx.registerUser(storedUser('outer'));
					const inner = await tx.batch(async nested => {
						expect(await nested.user('outer')).toEqual(storedUser('outer'));
						await nested.registerUser(storedUser('inner'));
						return 'inner value';
					});
					expect(inner).toBe('inner value');
					expect(await tx.user('inner')).toEqual(storedUser('inner'));
					throw new Error('the outer work fails after the inner batch');
				});
				await expect(failed).rejects.toThrow('the outer work fails');
				expect(await store.user('outer')).toBeUndefined();
				expect(await store.user('inner')).toBeUndefined();
				expect(await store.userCount()).toBe(0);
			});
		});

		it('a call on the store while a batch is open is not part of it (kept when the batch fails); on SQLite it waits for the batch, on PostgreSQL it runs beside it', async () => {
			await withStore(open, async store => {
				let outside: Promise<boolean> | undefined;
				let outsideSettled = false;
				let settledInsideBatch: boolean | undefined;
				const failed = store.batch(async tx => {
					await tx.addContact('inside', 'x', 'chosen', now);
					outside = store.addContact('outside', 'x', 'chosen', now);
					void outside.then(() => (outsideSettled = true));
					if (store.kind === 'postgres') {
						expect(await outside).toBe(true);
						expect(await store.contactKind('inside', 'x')).toBeUndefined();
					} else {
						await sleep(30);
					}
					settledInsideBatch = outsideSettled;
					throw new Error('the batch fails');
				});
				await expect(failed).rejects.toThrow('the batch fails');
				expect(await outside).toBe(true);
				expect(settledInsideBatch).toBe(store.kind === 'postgres');
				expect(await store.contactKind('outside', 'x')).toBe('chosen');
				expect(await store.contactKind('inside', 'x')).toBeUndefined();
			});
		});
	});
}
