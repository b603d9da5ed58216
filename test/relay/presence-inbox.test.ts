import {describe, expect, it} from 'vitest';
import type {PresenceChange} from '../../source/relay/cluster.js';
import {maxWaitingPresence, PresenceInbox} from '../../source/relay/presence-inbox.js';

/** Work whose every step waits until the test lets it go, recording what it was asked. */
function slowWork() {
	const done: Array<[PresenceChange | 'resync', string[]]> = [];
	const failures: string[] = [];
	let release: (() => void) | undefined;
	let gate = new Promise<void>(resolve => {
		release = resolve;
	});
	const wait = async () => gate;
	return {
		done,
		failures,
		open() {
			release?.();
			gate = Promise.resolve();
		},
		work: {
			apply: async (change: PresenceChange, names: readonly string[]) => {
				await wait();
				done.push([change, [...names]]);
				if (names.includes('boom')) throw new Error('store down');
			},
			resync: async () => {
				await wait();
				done.push(['resync', []]);
			},
			failed: (operation: string) => void failures.push(operation),
		},
	};
}

describe('joins and leaves from other relays, waiting on a slow store (presence-inbox.ts)', () => {
	it('a flood of announcements about a few names waits as one change per name, the latest; each name keeps its order', async () => {
		const slow = slowWork();
		const inbox = new PresenceInbox(slow.work);
		inbox.add('online', ['first']);
		for (let round = 0; round < 10_000; round++) {
			inbox.add('online', ['a', 'b', 'c']);
			inbox.add('offline', ['b']);
		}
		inbox.add('offline', ['a']);
		// The first step is under way with `first`; a, b and c wait, once each.
		expect(inbox.size).toBe(3);
		slow.open();
		await inbox.whenIdle();
		expect(slow.done).toEqual([
			['online', ['first']],
			['online', ['c']],
			['offline', ['b', 'a']],
		]);
	});

	it('resyncs asked for while busy are one resync, and it replaces what waited before it began; a failing step is logged and the next runs', async () => {
		const slow = slowWork();
		const inbox = new PresenceInbox(slow.work);
		inbox.add('online', ['boom']);
		inbox.add('online', ['stale']);
		for (let count = 0; count < 100; count++) inbox.resync();
		inbox.add('offline', ['fresh']);
		slow.open();
		await inbox.whenIdle();
		// `stale` and `fresh` came before the resync began: what it reads is newer than both.
		expect(slow.done).toEqual([
			['online', ['boom']],
			['resync', []],
		]);
		expect(slow.failures).toEqual(['presence']);
	});

	it(`past ${maxWaitingPresence} names waiting, it drops them and reads the whole set again instead`, async () => {
		const slow = slowWork();
		const inbox = new PresenceInbox(slow.work);
		inbox.add('online', ['busy']);
		inbox.add('online', Array.from({length: maxWaitingPresence + 10}, (_, index) => `u${index}`));
		expect(inbox.size).toBeLessThanOrEqual(maxWaitingPresence);
		slow.open();
		await inbox.whenIdle();
		expect(slow.done.map(([change]) => change)).toEqual(['online', 'resync']);
	});
});
