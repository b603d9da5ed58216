import {describe, expect, it} from 'vitest';
import {oneTimePrekeys, signedPrekey, withStore, type OpenStore} from './store-fixtures.js';

/** What every AsyncRelayStore does with prekeys (relay-store.ts, PROTOCOL.md 4.4); `open` gives a fresh, empty store. */
export function prekeyBehaviours(open: OpenStore): void {
	describe('prekeys', () => {
		it('a user with none holds none; a save returns what is held then', async () => {
			await withStore(open, async store => {
				expect(await store.prekeyCount('alice')).toEqual({oneTime: 0, signed: null});
				expect(await store.savePrekeys('alice', signedPrekey(7), oneTimePrekeys(1, 2, 3), 10)).toEqual({oneTime: 3, signed: 7});
				expect(await store.prekeyCount('alice')).toEqual({oneTime: 3, signed: 7});
				expect(await store.prekeyCount('bob')).toEqual({oneTime: 0, signed: null});
			});
		});

		it('the pool stops at its cap; ids held are skipped without counting, the first of two of one id is kept', async () => {
			await withStore(open, async store => {
				await store.savePrekeys('alice', signedPrekey(1), oneTimePrekeys(10, 11), 5);
				const twice = [{id: 12, key: 'first'.padEnd(43, 'F')}, {id: 12, key: 'second'.padEnd(43, 'S')}];
				expect(await store.savePrekeys('alice', undefined, [...oneTimePrekeys(10, 11), ...twice, ...oneTimePrekeys(13, 14, 15, 16)], 5)).toEqual({
					oneTime: 5,
					signed: 1,
				});
				const claimed = [];
				for (let round = 0; round < 5; round++) claimed.push((await store.claimBundle('alice', true))!.oneTime);
				expect(claimed).toEqual([...oneTimePrekeys(10, 11), twice[0], ...oneTimePrekeys(13, 14)]);
				expect(await store.savePrekeys('alice', undefined, oneTimePrekeys(20, 21, 22), 2)).toEqual({oneTime: 2, signed: 1});
				expect(await store.savePrekeys('alice', undefined, oneTimePrekeys(23), 2)).toEqual({oneTime: 2, signed: 1});
			});
		});

		it('a signed prekey saved replaces the one held; a save without one keeps it', async () => {
			await withStore(open, async store => {
				await store.savePrekeys('alice', signedPrekey(1), [], 10);
				await store.savePrekeys('alice', signedPrekey(2), [], 10);
				await store.savePrekeys('alice', undefined, oneTimePrekeys(1), 10);
				expect(await store.claimBundle('alice', false)).toEqual({signed: signedPrekey(2), oneTime: null, remaining: 1});
			});
		});

		it('a claim takes the one-time prekey of the lowest id, once; without asking, or when none is left, it takes none', async () => {
			await withStore(open, async store => {
				await store.savePrekeys('alice', signedPrekey(4), oneTimePrekeys(30, 10, 20), 10);
				expect(await store.claimBundle('alice', true)).toEqual({signed: signedPrekey(4), oneTime: oneTimePrekeys(10)[0], remaining: 2});
				expect(await store.claimBundle('alice', false)).toEqual({signed: signedPrekey(4), oneTime: null, remaining: 2});
				expect(await store.claimBundle('alice', true)).toEqual({signed: signedPrekey(4), oneTime: oneTimePrekeys(20)[0], remaining: 1});
				expect(await store.claimBundle('alice', true)).toEqual({signed: signedPrekey(4), oneTime: oneTimePrekeys(30)[0], remaining: 0});
				expect(await store.claimBundle('alice', true)).toEqual({signed: signedPrekey(4), oneTime: null, remaining: 0});
			});
		});

		it('a user without a signed prekey has no bundle, and a claim takes none of its one-time prekeys', async () => {
			await withStore(open, async store => {
				expect(await store.claimBundle('nobody', true)).toBeUndefined();
				await store.savePrekeys('alice', undefined, oneTimePrekeys(1, 2), 10);
				expect(await store.claimBundle('alice', true)).toBeUndefined();
				expect(await store.prekeyCount('alice')).toEqual({oneTime: 2, signed: null});
			});
		});
	});
}
