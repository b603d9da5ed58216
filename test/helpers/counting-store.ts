import type {AsyncRelayStore} from '../../source/relay/async-store.js';

/** A real store whose full reads of a room's members (a room load: every member's keys) are counted, per room. */
export function countingMembers(store: AsyncRelayStore): {store: AsyncRelayStore; reads: Map<string, number>} {
	const reads = new Map<string, number>();
	const counted = new Proxy(store, {
		get(target, key, receiver) {
			const value = Reflect.get(target, key, receiver) as unknown;
			if (key === 'roomMembers' && typeof value === 'function') {
				return (room: string, ...rest: unknown[]) => {
					reads.set(room, (reads.get(room) ?? 0) + 1);
					return (value as (...args: unknown[]) => unknown).call(target, room, ...rest);
				};
			}
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
	});
	return {store: counted, reads};
}
