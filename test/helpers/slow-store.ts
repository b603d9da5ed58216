import type {AsyncRelayStore} from '../../source/relay/async-store.js';
import {asyncSqliteStore} from '../../source/relay/sqlite-async.js';
import {openSqliteStore} from '../../source/relay/sqlite-store.js';

const unwrapped = new Set(['kind', 'takeDelivery', 'batch', 'close']);

/**
 * The store, answering every call `delayMs` later (each waits that long before it runs), as a
 * store across a network would: the relay's own SQLite store, slowed, not a stand-in. A batch's
 * calls are slowed too; takeDelivery stays immediate (it never touches the disk).
 */
export function slowStore(store: AsyncRelayStore, delayMs: number): AsyncRelayStore {
	const slowed: Record<string, unknown> = {kind: store.kind};
	for (const [name, value] of Object.entries(store)) {
		if (unwrapped.has(name) || typeof value !== 'function') continue;
		slowed[name] = async (...args: unknown[]) => {
			await new Promise(resolve => setTimeout(resolve, delayMs));
			return (value as (...args: unknown[]) => unknown).apply(store, args);
		};
	}
	if (store.takeDelivery !== undefined) slowed['takeDelivery'] = store.takeDelivery.bind(store);
	slowed['batch'] = async <T>(work: (tx: AsyncRelayStore) => Promise<T>): Promise<T> => {
		await new Promise(resolve => setTimeout(resolve, delayMs));
		return store.batch(tx => work(slowStore(tx, delayMs)));
	};
	slowed['close'] = () => store.close();
	return slowed as unknown as AsyncRelayStore;
}

/**
 * The same store without takeDelivery, as a store several relays share has none (PostgreSQL):
 * the relay then numbers every envelope through enqueue and forwards it once committed.
 */
export function withoutTakeDelivery(store: AsyncRelayStore): AsyncRelayStore {
	const {takeDelivery: _unused, ...rest} = store;
	return rest as AsyncRelayStore;
}

/** The relay's SQLite store in `dataDir`, behind the asynchronous interface, as server.ts opens it. */
export function sqliteStoreIn(dataDir: string): AsyncRelayStore {
	return asyncSqliteStore(openSqliteStore(dataDir));
}
