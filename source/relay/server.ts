import {createServer, type Server, type Socket} from 'node:net';
import {fingerprint} from '../crypto/keys.js';
import {errorMessage} from '../net/messages.js';
import {addressGroups} from './address-groups.js';
import {Admission, type AdmissionVerdict} from './admission.js';
import {RelayConnection} from './connection.js';
import {loadOrCreateRelayIdentity} from './identity-store.js';
import {rateLimitedLogger} from './log-limiter.js';
import {silentLogger, type Logger} from './logger.js';
import {realTimer, type Timer} from './presence-batcher.js';
import {RelayCore} from './relay-core.js';
import type {RelayStats} from './relay-core-options.js';
import {defaultRelayLimits, type RelayLimits} from './relay-options.js';
import type {AsyncRelayStore} from './async-store.js';
import {inBackground} from './storage-guard.js';
import type {ClusterFlags} from './store-flags.js';
import type {Cluster} from './cluster.js';

const queuePurgeIntervalMs = 60 * 60 * 1000;
/** A connection not logged in yet is evicted for a newer one only once it has had this long. */
const minPendingAgeMs = 1000;

export type RelayOptions = {
	host?: string;
	port?: number;
	/** The relay's key, and its SQLite database unless `store` is given. */
	dataDir: string;
	/** The store to keep users and queues in, instead of the SQLite file in dataDir; the relay closes it when it closes. */
	store?: AsyncRelayStore;
	/** Everything but the key in PostgreSQL, shared with the other relays of the service (store-flags.ts); ignored if `store` is given. */
	cluster?: ClusterFlags;
	motd?: string | null;
	log?: Logger;
	limits?: Partial<RelayLimits>;
	/**
	 * Whether clients hear of joins and leaves after their welcome (default true). Off only for
	 * benchmarks of many connections, where presence is quadratic in bytes however it is batched.
	 */
	presence?: boolean;
	clock?: () => number;
	/** Schedules presence flushes; tests pass one they drive by hand. */
	timer?: Timer;
	/**
	 * Benchmarks only (no command-line flag): false leaves batch frames unencrypted after the
	 * handshake, to measure what transport crypto costs. Default true.
	 */
	transportCrypto?: boolean;
};

export type RunningRelay = {
	host: string;
	port: number;
	/** Lower-case hex SHA-256 of the relay's Ed25519 public key. */
	fingerprint: string;
	publicKey: Buffer;
	/** Sends an operator announcement to everyone online. */
	announce(text: string): void;
	onlineUsernames(): string[];
	/** What the relay has done with clients' requests (acks, logins, registrations, evictions) and what it holds. */
	stats(): RelayStats & {connections: number; pendingConnections: number; registeredUsers: number; storedBytes: number};
	/** Tells every client the relay is going down, closes every connection and stops listening. */
	close(reason?: string): Promise<void>;
};

export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
	const limits: RelayLimits = {...defaultRelayLimits, ...options.limits};
	const clock = options.clock ?? Date.now;
	const log = options.log === undefined ? silentLogger : rateLimitedLogger(options.log, clock);
	const identity = loadOrCreateRelayIdentity(options.dataDir);
	const store = options.store ?? (options.cluster === undefined ? await openSqlite(options.dataDir) : await openPostgres(options.cluster, log));
	let core: RelayCore;
	let cluster: Cluster | undefined;
	try {
		if (options.cluster !== undefined) cluster = await linkCluster(options.cluster, store, log);
		core = await RelayCore.open(
			{
				motd: options.motd ?? null,
				relayIdentity: identity.publicRaw,
				limits,
				presence: {enabled: options.presence ?? true, flushMs: limits.presenceFlushMs, timer: options.timer ?? realTimer},
				clock,
				log,
				...(cluster === undefined ? {} : {cluster}),
			},
			store,
		);
	} catch (error) {
		await cluster?.stop().catch(() => undefined);
		await store.close();
		throw error;
	}
	const purge = setInterval(() => {
		inBackground(
			log,
			'purge',
			(async () => {
				await core.purgeExpired();
				await core.lapseRegistrations();
			})(),
		);
	}, queuePurgeIntervalMs);
	purge.unref();
	const connections = new Set<RelayConnection>();
	/** Connections not logged in yet, oldest first. */
	const pending = new Set<RelayConnection>();
	const admission = new Admission(limits, clock);
	const heartbeat = setInterval(
		() => {
			const now = Date.now();
			for (const connection of connections) connection.checkHeartbeat(now);
			admission.sweep();
			core.sweep();
		},
		Math.min(limits.heartbeatIntervalMs, limits.idleTimeoutMs, limits.partialFrameTimeoutMs),
	);
	heartbeat.unref();

	/**
	 * Whether a pending slot is free, or was made free by evicting a pending connection at least
	 * minPendingAgeMs old: the oldest of the address that holds the most of them, so a flood from
	 * few addresses pushes out its own connections, not someone typing a name.
	 */
	const pendingRoom = (): boolean => {
		if (pending.size < limits.maxPendingConnections) return true;
		const now = Date.now();
		const byHost = new Map<string, {oldest: RelayConnection; count: number}>();
		for (const connection of pending) {
			if (now - connection.openedAt < minPendingAgeMs) continue;
			const host = byHost.get(connection.address.host);
			if (host === undefined) byHost.set(connection.address.host, {oldest: connection, count: 1});
			else host.count += 1;
		}
		let victim: {oldest: RelayConnection; count: number} | undefined;
		for (const host of byHost.values()) if (victim === undefined || host.count > victim.count) victim = host;
		if (victim === undefined) return false;
		pending.delete(victim.oldest);
		victim.oldest.evict();
		return true;
	};

	const server: Server = createServer(socket => {
		const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
		const address = addressGroups(socket.remoteAddress ?? '?');
		let verdict: AdmissionVerdict | 'server_full' = admission.admit(address);
		if (verdict === 'ok' && !pendingRoom()) {
			admission.release(address);
			verdict = 'server_full';
		}
		if (verdict !== 'ok') {
			refuse(socket, verdict);
			log('refused_connection', {remote, code: verdict});
			return;
		}
		const connection = new RelayConnection(socket, core, identity, limits, log, remote, address, () => pending.delete(connection), options.transportCrypto === false);
		connections.add(connection);
		pending.add(connection);
		socket.on('close', () => {
			connections.delete(connection);
			pending.delete(connection);
			admission.release(address);
		});
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 5000, options.host ?? '0.0.0.0', () => {
			server.off('error', reject);
			resolve();
		});
	});
	const address = server.address();
	if (address === null || typeof address === 'string') throw new Error('the relay is not listening on TCP');
	log('listening', {host: address.address, port: address.port});

	let closing: Promise<void> | undefined;
	return {
		host: address.address,
		port: address.port,
		fingerprint: fingerprint(identity.publicRaw),
		publicKey: identity.publicRaw,
		announce: text => core.announce(text),
		onlineUsernames: () => core.onlineUsernames(),
		stats: () => ({
			...core.stats,
			connections: connections.size,
			pendingConnections: pending.size,
			registeredUsers: core.registeredCount(),
			storedBytes: core.storedBytes(),
		}),
		close(reason = 'the relay is shutting down') {
			closing ??= new Promise<void>(resolve => {
				clearInterval(purge);
				clearInterval(heartbeat);
				const stopped = core.stop();
				server.close(() => {
					// What was accepted and forwarded is committed before the store closes.
					void stopped
						.catch(error => log('internal_error', {operation: 'stop', error: (error as Error).name}))
						.then(() => cluster?.stop())
						.catch(error => log('internal_error', {operation: 'cluster_stop', error: (error as Error).message}))
						.then(() => store.close())
						.catch(error => log('storage_error', {operation: 'close', error: (error as {code?: string}).code ?? (error as Error).name}))
						.then(resolve);
				});
				for (const connection of connections) connection.shutdown(reason);
				log('stopped', {});
			});
			return closing;
		},
	};
}

const refusals = {
	server_full: ['server_full', 'the relay is busy; try again later'],
	too_many_connections: ['too_many_connections', 'too many connections from your address; close some and try again'],
	connecting_too_fast: ['too_many_connections', 'too many new connections from your address; try again in a few seconds'],
} as const;

/** A plaintext error before any handshake, then close; what the peer sends meanwhile is discarded. */
function refuse(socket: Socket, verdict: Exclude<AdmissionVerdict, 'ok'> | 'server_full'): void {
	const [code, message] = refusals[verdict];
	socket.on('error', () => {});
	socket.resume();
	socket.end(JSON.stringify(errorMessage(code, message)) + '\n');
	setTimeout(() => socket.destroy(), 2000).unref();
}

/** The SQLite store in `dataDir`, behind the asynchronous interface; loaded here only, so the client never needs the native module. */
async function openSqlite(dataDir: string): Promise<AsyncRelayStore> {
	const [{openSqliteStore}, {asyncSqliteStore}] = await Promise.all([import('./sqlite-store.js'), import('./sqlite-async.js')]);
	return asyncSqliteStore(openSqliteStore(dataDir));
}

/** The PostgreSQL store the service's relays share; loaded here only, so a relay alone never loads `pg`. */
async function openPostgres(cluster: ClusterFlags, log: Logger): Promise<AsyncRelayStore> {
	const {openPostgresStore} = await import('./postgres/pg-store.js');
	return openPostgresStore(cluster.url, {log});
}

/** This relay's tie to the others of its service, over the store's pool: lease, sessions, wake-ups. */
async function linkCluster(flags: ClusterFlags, store: AsyncRelayStore, log: Logger): Promise<Cluster> {
	const {ClusterLink} = await import('./postgres/cluster-link.js');
	const {pool} = store as AsyncRelayStore & {pool?: import('pg').Pool};
	if (pool === undefined) throw new Error('a relay of a cluster needs its PostgreSQL store');
	const link = await ClusterLink.open({url: flags.url, pool, relayId: flags.relayId, leaseMs: flags.leaseMs, log});
	log('cluster_joined', {relay: flags.relayId, lease_ms: flags.leaseMs});
	return link;
}
