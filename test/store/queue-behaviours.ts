import {describe, expect, it} from 'vitest';
import {storedBytes} from '../../source/relay/queue-ledger.js';
import {envelope, now, withStore, type OpenStore} from './store-fixtures.js';

const increasing = (numbers: readonly number[]): boolean => numbers.every((number, index) => index === 0 || number > numbers[index - 1]!);

/** What every AsyncRelayStore does with the queue of envelopes (async-store.ts); `open` gives a fresh, empty store. */
export function queueBehaviours(open: OpenStore): void {
	describe('the queue', () => {
		it('numbers grow per recipient, within one enqueue and across them, in the order given', async () => {
			await withStore(open, async store => {
				const first = await store.enqueue([envelope('alice', 'bob', 'm1'), envelope('alice', 'carol', 'm1'), envelope('alice', 'bob', 'm2')]);
				const second = await store.enqueue([envelope('dave', 'bob', 'm3')]);
				const third = await store.enqueue([envelope('alice', 'carol', 'm4'), envelope('dave', 'bob', 'm5')]);
				for (const answer of [...first, ...second, ...third]) expect(answer.stored).toBe(true);
				const bob = [first[0]!, first[2]!, second[0]!, third[1]!].map(answer => answer.delivery);
				const carol = [first[1]!, third[0]!].map(answer => answer.delivery);
				expect(increasing(bob)).toBe(true);
				expect(increasing(carol)).toBe(true);
				for (const number of [...bob, ...carol]) expect(Number.isSafeInteger(number) && number > 0).toBe(true);
				expect((await store.queued('bob', 0, 10)).map(queued => [queued.id, queued.delivery])).toEqual(bob.map((number, index) => [['m1', 'm2', 'm3', 'm5'][index], number]));
				expect(await store.enqueue([])).toEqual([]);
			});
		});

		it('an envelope reads back as enqueued with its number: an ephemeral key or a ratchet header, its kind and time', async () => {
			await withStore(open, async store => {
				const ephemeral = envelope('alice', 'bob', 'e1', {kind: 'everyone', time: now + 5});
				const ratchet = envelope('carol', 'bob', 'r1', {ratchet: 'r'.repeat(110), body: 'B'.repeat(300)});
				const [a, b] = await store.enqueue([ephemeral, ratchet]);
				const queued = await store.queued('bob', 0, 10);
				expect(queued).toEqual([
					{...ephemeral, delivery: a!.delivery},
					{...ratchet, delivery: b!.delivery},
				]);
				expect(queued[1]).not.toHaveProperty('ephemeral');
				expect(queued[0]).not.toHaveProperty('ratchet');
			});
		});

		it('a resend (same sender, id and recipient) is stored once and answered with the first copy’s number, within one call or later', async () => {
			await withStore(open, async store => {
				const [first] = await store.enqueue([envelope('alice', 'bob', 'same')]);
				const again = await store.enqueue([
					envelope('alice', 'bob', 'same', {body: 'changed'}),
					envelope('alice', 'carol', 'same'),
					envelope('dave', 'bob', 'same'),
					envelope('dave', 'bob', 'same'),
				]);
				expect(first!.stored).toBe(true);
				expect(again[0]).toEqual({delivery: first!.delivery, stored: false});
				expect(again[1]!.stored).toBe(true);
				expect(again[2]!.stored).toBe(true);
				expect(again[3]).toEqual({delivery: again[2]!.delivery, stored: false});
				const bob = await store.queued('bob', 0, 10);
				expect(bob.map(queued => [queued.from, queued.id, queued.body])).toEqual([
					['alice', 'same', envelope('alice', 'bob', 'same').body],
					['dave', 'same', envelope('dave', 'bob', 'same').body],
				]);
			});
		});

		it('queued reads after a number, oldest first, at most a limit, and only the recipient’s', async () => {
			await withStore(open, async store => {
				const answers = await store.enqueue(['m1', 'm2', 'm3', 'm4', 'm5'].map(id => envelope('alice', 'bob', id)));
				await store.enqueue([envelope('alice', 'carol', 'x')]);
				const numbers = answers.map(answer => answer.delivery);
				expect((await store.queued('bob', numbers[1]!, 2)).map(queued => queued.id)).toEqual(['m3', 'm4']);
				expect((await store.queued('bob', 0, 100)).map(queued => queued.id)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
				expect(await store.queued('bob', numbers[4]!, 10)).toEqual([]);
				expect(await store.queued('nobody', 0, 10)).toEqual([]);
			});
		});

		it('totals: envelopes and stored bytes per recipient and sender, bytes as queue-ledger.ts counts them', async () => {
			await withStore(open, async store => {
				const envelopes = [
					envelope('alice', 'bob', 'a1', {body: 'x'.repeat(1000)}),
					envelope('alice', 'bob', 'a2-longer-id', {ratchet: 'r'.repeat(110)}),
					envelope('carol', 'bob', 'c1'),
					envelope('alice', 'dave', 'a3', {body: 'y'.repeat(17)}),
				];
				await store.enqueue(envelopes);
				const expected = [
					{recipient: 'bob', sender: 'alice', count: 2, bytes: storedBytes(envelopes[0]!) + storedBytes(envelopes[1]!)},
					{recipient: 'bob', sender: 'carol', count: 1, bytes: storedBytes(envelopes[2]!)},
					{recipient: 'dave', sender: 'alice', count: 1, bytes: storedBytes(envelopes[3]!)},
				];
				const byKey = (totals: Array<{recipient: string; sender: string}>) => [...totals].sort((a, b) => `${a.recipient} ${a.sender}`.localeCompare(`${b.recipient} ${b.sender}`));
				expect(byKey(await store.queueTotals())).toEqual(expected);
			});
		});

		it('ack deletes the recipient’s own envelopes only, returns each one’s sender and bytes, and ignores numbers it does not hold', async () => {
			await withStore(open, async store => {
				const sent = [envelope('alice', 'bob', 'm1', {body: 'z'.repeat(50)}), envelope('carol', 'bob', 'm2'), envelope('alice', 'bob', 'm3')];
				const numbers = (await store.enqueue(sent)).map(answer => answer.delivery);
				expect(await store.ack('mallory', numbers)).toEqual([]);
				const acked = await store.ack('bob', [numbers[0]!, numbers[1]!, 987_654_321]);
				expect([...acked].sort((a, b) => a.sender.localeCompare(b.sender))).toEqual([
					{sender: 'alice', bytes: storedBytes(sent[0]!)},
					{sender: 'carol', bytes: storedBytes(sent[1]!)},
				]);
				expect(await store.ack('bob', [numbers[0]!])).toEqual([]);
				expect(await store.ack('bob', [])).toEqual([]);
				expect((await store.queued('bob', 0, 10)).map(queued => queued.id)).toEqual(['m3']);
			});
		});

		it('purge deletes what was accepted before the time, says how many, and keeps the rest', async () => {
			await withStore(open, async store => {
				await store.enqueue([
					envelope('alice', 'bob', 'old', {time: now - 10}),
					envelope('alice', 'carol', 'older', {time: now - 20}),
					envelope('alice', 'bob', 'edge', {time: now}),
					envelope('alice', 'bob', 'new', {time: now + 10}),
				]);
				expect(await store.purgeOlderThan(now)).toBe(2);
				expect((await store.queued('bob', 0, 10)).map(queued => queued.id)).toEqual(['edge', 'new']);
				expect(await store.queued('carol', 0, 10)).toEqual([]);
				expect(await store.purgeOlderThan(now)).toBe(0);
			});
		});

		it('an enqueue in a batch that fails keeps nothing: the same envelope later is stored as new', async () => {
			await withStore(open, async store => {
				const failed = store.batch(async tx => {
					const answers = await tx.enqueue([envelope('alice', 'bob', 'm1'), envelope('alice', 'carol', 'm2')]);
					expect(answers.every(answer => answer.stored)).toBe(true);
					throw new Error('the relay failed mid-batch');
				});
				await expect(failed).rejects.toThrow('the relay failed mid-batch');
				expect(await store.queued('bob', 0, 10)).toEqual([]);
				expect(await store.queueTotals()).toEqual([]);
				const [again] = await store.enqueue([envelope('alice', 'bob', 'm1')]);
				expect(again!.stored).toBe(true);
				expect((await store.queued('bob', 0, 10)).map(queued => queued.delivery)).toEqual([again!.delivery]);
			});
		});
	});
}
