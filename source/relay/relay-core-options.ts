import type {Cluster} from './cluster.js';
import type {AckStats} from './envelope-acks.js';
import type {Logger} from './logger.js';
import type {Timer} from './presence-batcher.js';
import type {RelayLimits} from './relay-options.js';
import type {RoomStats} from './room-context.js';
import type {RoomWakeups} from './room-wakeups.js';

/** What a RelayCore is made with. */
export type RelayCoreOptions = {
	motd: string | null;
	relayIdentity: Buffer;
	/** Every limit (relay-options.ts); the defaults for those absent. */
	limits?: Partial<RelayLimits>;
	/** Batched presence; on, every presenceFlushMs, with real timers when absent. */
	presence?: {enabled: boolean; flushMs: number; timer: Timer};
	/** Schedules commits of forwarded envelopes; real timers when absent. */
	timer?: Timer;
	clock: () => number;
	log: Logger;
	/** The other relays of the service (cluster.ts); absent: a relay alone. */
	cluster?: Cluster;
	/** The other relays sharing the store, for rooms (room-wakeups.ts); none for a relay alone. */
	roomWakeups?: RoomWakeups;
};

/** What the relay has done with the work clients asked of it: for operators, and for tests that count it. */
export type RelayStats = AckStats & RoomStats & {
	registrations: number;
	lapsedRegistrations: number;
	failedLogins: number;
	refusedLogins: number;
	/** Logged-in sessions of newcomers that gave their place to an account with priority. */
	evictions: number;
	/** The most messages that ever waited on one connection behind one still being handled (session-queue.ts). */
	maxWaitingMessages: number;
};

export function emptyRelayStats(): RelayStats {
	return {
		ackedNumbers: 0,
		ignoredAckNumbers: 0,
		ackDeletes: 0,
		registrations: 0,
		lapsedRegistrations: 0,
		failedLogins: 0,
		refusedLogins: 0,
		evictions: 0,
		maxWaitingMessages: 0,
		roomDeliveries: 0,
		roomMessages: 0,
		roomChanges: 0,
	};
}
