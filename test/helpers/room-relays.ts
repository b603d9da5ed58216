import {relayChannel} from '../../source/relay/postgres/cluster-names.js';
import {openPostgresStore} from '../../source/relay/postgres/pg-store.js';
import {Wakeups} from '../../source/relay/postgres/wakeups.js';
import type {RoomWakeups} from '../../source/relay/room-wakeups.js';
import type {RelayLimits} from '../../source/relay/relay-options.js';
import type {RunningRelay} from '../../source/relay/server.js';
import {relayForTest} from './chat.js';

/** A relay of several over one PostgreSQL database, with the room wake-ups it sent and heard. */
export type ClusterRelay = {relay: RunningRelay; port: number; id: string; sent: string[][]; heard: string[][]};

/**
 * Relays in this process over the database at `url`, each with its own store (pool) and a minimal
 * wake-up link: LISTEN on its own channel (Wakeups), NOTIFY each other relay's channel after a
 * room commit. Closed by the test helpers' afterEach (chat.ts) with the relays; `close` ends the
 * listeners.
 */
export async function roomRelays(
	url: string,
	count = 2,
	limits: Partial<RelayLimits> = {},
	/** The URL each relay listens through (say a TCP proxy's), by index; `url` otherwise. */
	listenUrl: (index: number) => string = () => url,
): Promise<{relays: ClusterRelay[]; close: () => Promise<void>}> {
	const ids = Array.from({length: count}, (_, index) => `rooms_${index}_${process.pid}`);
	const listeners: Wakeups[] = [];
	const relays: ClusterRelay[] = [];
	try {
		for (const [index, id] of ids.entries()) {
			const store = await openPostgresStore(url);
			const wakeups = await Wakeups.listen(listenUrl(index), id, {heartbeatMs: 0, retryMs: 20, maxRetryMs: 100});
			listeners.push(wakeups);
			const sent: string[][] = [];
			const heard: string[][] = [];
			const link: RoomWakeups = {
				wake(rooms) {
					sent.push(rooms);
					for (const other of ids) {
						if (other === id) continue;
						Wakeups.notify(store.pool, relayChannel(other), {type: 'rooms', names: rooms}).catch(() => {});
					}
				},
				onWake(handler) {
					wakeups.on(wakeup => {
						if (wakeup.type !== 'rooms') return;
						heard.push(wakeup.names);
						handler(wakeup.names);
					});
				},
				onMissed(handler) {
					wakeups.onConnection(state => {
						if (state === 'restored') handler();
					});
				},
			};
			const relay = await relayForTest({store, roomWakeups: link, limits});
			relays.push({relay, port: relay.port, id, sent, heard});
		}
	} catch (error) {
		await Promise.all(listeners.map(async listener => listener.close()));
		throw error;
	}
	return {relays, close: async () => void (await Promise.all(listeners.map(async listener => listener.close())))};
}
