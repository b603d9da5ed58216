import {describe, expect, it} from 'vitest';
import {openSqliteStore} from '../../source/relay/sqlite-store.js';
import {tempDir} from '../helpers/temp-dir.js';

describe('delivery numbers', () => {
	it('are reserved in blocks on disk, so a relay that crashed never hands out a number again', () => {
		const dataDir = tempDir();
		const first = openSqliteStore(dataDir);
		const block = first.reserveDeliveries(100);
		expect(block).toBe(1);
		// numbers 1..100 handed out in memory, none committed: then the process dies
		first.close();
		const second = openSqliteStore(dataDir);
		expect(second.reserveDeliveries(100)).toBe(101);
		second.close();
	});

	it('start above every number an older database gave out by autoincrement', () => {
		const dataDir = tempDir();
		const store = openSqliteStore(dataDir);
		store.enqueue([{delivery: 41, id: 'm1', to: 'bob', kind: 'direct', ephemeral: 'A'.repeat(43), body: 'x', from: 'alice', time: 1}]);
		expect(store.reserveDeliveries(10)).toBe(42);
		store.close();
	});

	it('refuse a second envelope under a number already queued rather than skipping it as a resend', () => {
		const store = openSqliteStore(tempDir());
		const envelope = {delivery: 7, id: 'm1', to: 'bob', kind: 'direct' as const, ephemeral: 'A'.repeat(43), body: 'x', from: 'alice', time: 1};
		expect(store.enqueue([envelope])).toEqual([true]);
		expect(store.enqueue([{...envelope, delivery: 8}])).toEqual([false]);
		expect(() => store.enqueue([{...envelope, id: 'm2'}])).toThrow();
		store.close();
	});
});
