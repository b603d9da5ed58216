import {createServer, type Server, type Socket} from 'node:net';
import {fingerprint} from '../crypto/keys.js';
import {errorMessage} from '../net/messages.js';
import {addressKey} from './address-key.js';
import {Admission} from './admission.js';
import {RelayConnection} from './connection.js';
import {loadOrCreateRelayIdentity} from './identity-store.js';
import {silentLogger, type Logger} from './logger.js';
import {realTimer, type Timer} from './presence-batcher.js';
import {RelayCore} from './relay-core.js';
import {defaultRelayLimits, type RelayLimits} from './relay-options.js';

const queuePurgeIntervalMs = 60 * 60 * 1000;

export type RelayOptions = {
	host?: string;
	port?: number;
	dataDir: string;
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
	/** Tells every client the relay is going down, closes every connection and stops listening. */
	close(reason?: string): Promise<void>;
};

export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
	const limits: RelayLimits = {...defaultRelayLimits, ...options.limits};
	const log = options.log ?? silentLogger;
	const identity = loadOrCreateRelayIdentity(options.dataDir);
	// Loaded here only, so the client never needs the native module.
	const {openSqliteStore} = await import('./sqlite-store.js');
	const store = openSqliteStore(options.dataDir);
	const core = new RelayCore(
		{
			motd: options.motd ?? null,
			maxBodyBytes: limits.maxBodyBytes,
			maxQueuedPerUser: limits.maxQueuedPerUser,
			maxQueueAgeMs: limits.maxQueueAgeMs,
			relayIdentity: identity.publicRaw,
			rate: limits,
			presence: {enabled: options.presence ?? true, flushMs: limits.presenceFlushMs, timer: options.timer ?? realTimer},
			forwardedCommitMs: limits.forwardedCommitMs,
			clock: options.clock ?? Date.now,
			log,
		},
		store,
	);
	const purge = setInterval(() => core.purgeExpired(), queuePurgeIntervalMs);
	purge.unref();
	const connections = new Set<RelayConnection>();
	const admission = new Admission(limits);
	const heartbeat = setInterval(() => {
		const now = Date.now();
		for (const connection of connections) connection.checkHeartbeat(now);
	}, Math.min(limits.heartbeatIntervalMs, limits.idleTimeoutMs));
	heartbeat.unref();

	const server: Server = createServer(socket => {
		const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
		const address = addressKey(socket.remoteAddress ?? '?');
		const verdict = admission.admit(address);
		if (verdict !== 'ok') {
			refuse(socket, verdict);
			log('refused_connection', {remote, code: verdict});
			return;
		}
		const connection = new RelayConnection(socket, core, identity, limits, log, remote, options.transportCrypto === false);
		connections.add(connection);
		socket.on('close', () => {
			connections.delete(connection);
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
		close(reason = 'the relay is shutting down') {
			closing ??= new Promise<void>(resolve => {
				clearInterval(purge);
				clearInterval(heartbeat);
				core.stop();
				server.close(() => {
					store.close();
					resolve();
				});
				for (const connection of connections) connection.shutdown(reason);
				log('stopped', {});
			});
			return closing;
		},
	};
}

const refusals = {
	server_full: 'the relay is full; try again later',
	too_many_connections: 'too many connections from your address; close some and try again',
} as const;

/** A plaintext error before any handshake, then close; what the peer sends meanwhile is discarded. */
function refuse(socket: Socket, code: keyof typeof refusals): void {
	socket.on('error', () => {});
	socket.resume();
	socket.end(JSON.stringify(errorMessage(code, refusals[code])) + '\n');
	setTimeout(() => socket.destroy(), 2000).unref();
}
