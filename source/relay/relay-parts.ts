import type {UserRecord} from '../net/messages.js';
import {AccessGuard} from './access-guard.js';
import type {AsyncRelayStore} from './async-store.js';
import {ClusterBridge} from './cluster-bridge.js';
import {clusterRoomWakeups} from './cluster-room-wakeups.js';
import type {CommitQueue} from './commit-queue.js';
import {DeliveryQueue} from './delivery-queue.js';
import {EnvelopeRouting} from './envelope-routing.js';
import {AccountFloodGuards} from './flood-guard.js';
import {Logins} from './logins.js';
import {LookupGuard} from './lookup-guard.js';
import type {Maybe} from './maybe.js';
import {PrekeyBook} from './prekey-book.js';
import {PresenceBatcher, realTimer} from './presence-batcher.js';
import {RoomBook} from './room-book.js';
import type {RelayCoreOptions, RelayStats} from './relay-core-options.js';
import {defaultRelayLimits, type RelayLimits} from './relay-options.js';
import type {StoredUser} from './relay-store.js';
import {RelayUpkeep} from './relay-upkeep.js';
import type {Session} from './session.js';
import {inBackground} from './storage-guard.js';
import {UserDirectory} from './user-directory.js';
import {Listeners} from './who-view.js';

/** What the core keeps itself and hands to its parts. */
export type CoreState = {
	online: Map<string, Session>;
	commits: CommitQueue;
	stats: RelayStats;
};

/** The core's answers its parts ask for. */
export type CoreUsers = {
	registered: (username: string) => Maybe<StoredUser | undefined>;
	knows: (from: string, to: string) => Maybe<boolean>;
	record: (user: StoredUser) => UserRecord;
};

export type RelayParts = {
	limits: RelayLimits;
	access: AccessGuard;
	lookups: LookupGuard;
	floodGuards: AccountFloodGuards;
	prekeys: PrekeyBook;
	listeners: Listeners<Session>;
	directory: UserDirectory;
	queue: DeliveryQueue;
	rooms: RoomBook;
	presence: PresenceBatcher<Session>;
	routing: EnvelopeRouting;
	cluster: ClusterBridge | undefined;
	logins: Logins;
	upkeep: RelayUpkeep;
};

/** The parts of a relay core, each given the others it calls. */
export function relayParts(options: RelayCoreOptions, store: AsyncRelayStore, {online, commits, stats}: CoreState, users: CoreUsers): RelayParts {
	const {clock, log} = options;
	const {registered, knows, record} = users;
	const limits = {...defaultRelayLimits, ...options.limits};
	const access = new AccessGuard(limits, clock);
	const lookups = new LookupGuard(limits, clock);
	const floodGuards = new AccountFloodGuards(limits, clock);
	const roomWakeups = options.roomWakeups ?? (options.cluster === undefined ? undefined : clusterRoomWakeups(options.cluster, log));
	const prekeys = new PrekeyBook({store, limits, clock, log, lookups}, {
		registered,
		knows,
		sinkOf: username => online.get(username)?.sink,
		sharesRoom: (a, b) => rooms.shareRoom(a, b),
	});
	const listeners = new Listeners<Session>(limits, clock);
	const directory = new UserDirectory(store, limits, clock, log);
	const queue = new DeliveryQueue({
		store,
		commits,
		limits,
		timer: options.timer ?? realTimer,
		log,
		stats,
		sessionOf: username => online.get(username),
		catchUp: (username, session) => (session.roster ? presence.catchUp(username, session) : undefined),
		accepted: (from, to) => routing.wrote(from, to),
		caughtUp: session => rooms.start(session, session.name!),
		...(options.cluster === undefined ? {} : {relayId: options.cluster.relayId, elsewhere: (username: string) => cluster?.isRemote(username) === true}),
	});
	const rooms: RoomBook = new RoomBook(
		{
			store,
			commits,
			limits,
			clock,
			log,
			stats,
			ledger: queue.ledger,
			lookups,
			...(roomWakeups === undefined ? {} : {wakeups: roomWakeups}),
		},
		{
			registered,
			knows,
			sessionOf: username => online.get(username),
			elsewhere: username => cluster?.isRemote(username) === true,
			priority: username => {
				const user = online.get(username)?.user;
				return user !== undefined && access.hasPriority(user);
			},
			used: username => {
				const user = online.get(username)?.user;
				if (user !== undefined && !user.confirmed) inBackground(log, 'confirm', Promise.resolve(routing.confirm(user)));
			},
		},
	);
	const presence: PresenceBatcher<Session> = new PresenceBatcher<Session>({
		...(options.presence ?? {enabled: true, flushMs: limits.presenceFlushMs, timer: realTimer}),
		clock,
		observers: () => listeners.all.entries(),
		send: (session, message) => session.presence(message),
		audience: (about, observer) => directory.audience(about, observer === undefined ? listeners.all : new Set([observer])),
	});
	const routing: EnvelopeRouting = new EnvelopeRouting({log, access, queue, directory, presence, listeners, online, registered, record});
	const cluster =
		options.cluster === undefined
			? undefined
			: new ClusterBridge({
					cluster: options.cluster,
					log,
					sessionOf: username => online.get(username),
					userOf: async username => registered(username),
					joined: user => presence.joined(record(user), false),
					left: username => presence.left(username),
					woken: username => queue.woken(username),
				});
	const logins = new Logins({
		motd: options.motd,
		log,
		maxConnections: limits.maxConnections,
		stats,
		access,
		prekeys,
		rooms,
		directory,
		queue,
		presence,
		listeners,
		online,
		record,
		confirm: user => routing.confirm(user),
		...(cluster === undefined ? {} : {cluster}),
	});
	const upkeep = new RelayUpkeep({store, commits, limits, clock, log, stats, queue, rooms, directory, logins, online});
	return {limits, access, lookups, floodGuards, prekeys, listeners, directory, queue, rooms, presence, routing, cluster, logins, upkeep};
}
