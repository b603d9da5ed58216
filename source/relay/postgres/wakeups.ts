import pg from 'pg';
import {silentLogger, type Logger} from '../logger.js';
import {checkChannel, relayChannel, serviceChannel} from './cluster-names.js';
import type {Queryable} from './queryable.js';
import {parseWakeup, wakeupPayloads, type Wakeup} from './wakeup-payloads.js';

export type WakeupHandler = (wakeup: Wakeup, channel: string) => void | Promise<void>;
/** `lost`: the listening connection dropped, and what was sent until `restored` is gone: re-read the store then. */
export type ConnectionHandler = (state: 'lost' | 'restored') => void;

export type WakeupsOptions = {
	log?: Logger;
	/** The first wait before connecting again; each failed attempt doubles it, up to maxRetryMs. */
	retryMs?: number;
	maxRetryMs?: number;
	/** How often the connection is asked `select 1`; no answer within as long counts as a drop (a silent network). 0: never. */
	heartbeatMs?: number;
	/** How long one attempt to connect may take. */
	connectTimeoutMs?: number;
};

/**
 * One relay's wake-ups: a dedicated connection that LISTENs on the relay's channel and on the
 * service's, and hands each parsed notification to the handlers. Notifications only say "look
 * now"; the store is the truth. When the connection drops it connects again (capped exponential
 * backoff, with jitter so relays do not return in step) and says `lost`, then `restored` once it
 * listens again, so the relay can re-read what it may have missed. Nothing here throws into the
 * process: connection errors, bad payloads and failing handlers are logged.
 */
export class Wakeups {
	/** Connects and listens; rejects if the first connection fails (a relay should not start without). */
	static async listen(connection: string | pg.ClientConfig, relayId: string, options: WakeupsOptions = {}): Promise<Wakeups> {
		const wakeups = new Wakeups(connection, relayChannel(relayId), options);
		const client = await wakeups.connect().catch((error: Error) => {
			throw new Error(`cannot listen for wake-ups on PostgreSQL: ${error.message}`, {cause: error});
		});
		if (wakeups.client !== client) throw new Error('the listening connection dropped as it was made');
		wakeups.state = 'listening';
		wakeups.startHeartbeat();
		return wakeups;
	}

	/**
	 * Sends `wakeup` on `channel` through `db`: give it the client of the transaction that commits
	 * what the wake-up names, and it is delivered only if that commits (and after it). A list of
	 * names too long for one notification goes as several. Resolves with how many were sent.
	 */
	static async notify(db: Queryable, channel: string, wakeup: Wakeup): Promise<number> {
		checkChannel(channel);
		const payloads = wakeupPayloads(wakeup);
		if (payloads.length === 0) return 0;
		await db.query('select pg_notify($1, payload) from unnest($2::text[]) as payload', [channel, payloads]);
		return payloads.length;
	}

	readonly channels: readonly string[];
	private readonly config: pg.ClientConfig;
	private readonly log: Logger;
	private readonly retryMs: number;
	private readonly maxRetryMs: number;
	private readonly heartbeatMs: number;
	private readonly handlers = new Set<WakeupHandler>();
	private readonly connectionHandlers = new Set<ConnectionHandler>();
	private state: 'connecting' | 'listening' | 'closed' = 'connecting';
	private client: pg.Client | undefined;
	private pid: number | undefined;
	private heartbeat: NodeJS.Timeout | undefined;
	private wake: (() => void) | undefined;

	private constructor(connection: string | pg.ClientConfig, ownChannel: string, options: WakeupsOptions) {
		this.channels = [ownChannel, serviceChannel];
		this.config = {
			...(typeof connection === 'string' ? {connectionString: connection} : connection),
			connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
			keepAlive: true,
		};
		this.log = options.log ?? silentLogger;
		this.retryMs = options.retryMs ?? 100;
		this.maxRetryMs = options.maxRetryMs ?? 5000;
		this.heartbeatMs = options.heartbeatMs ?? 10_000;
	}

	/** Adds a handler of wake-ups; returns what removes it. */
	on(handler: WakeupHandler): () => void {
		this.handlers.add(handler);
		return () => this.handlers.delete(handler);
	}

	/** Adds a handler of `lost` and `restored`; returns what removes it. */
	onConnection(handler: ConnectionHandler): () => void {
		this.connectionHandlers.add(handler);
		return () => this.connectionHandlers.delete(handler);
	}

	get listening(): boolean {
		return this.state === 'listening';
	}

	/** The server process of the listening connection (for operators, and tests that end it). */
	get backendPid(): number | undefined {
		return this.state === 'listening' ? this.pid : undefined;
	}

	async close(): Promise<void> {
		this.state = 'closed';
		clearInterval(this.heartbeat);
		this.wake?.();
		const client = this.client;
		this.client = undefined;
		await client?.end().catch(() => {});
	}

	/** One attempt: a new client, LISTEN on both channels. The client is this.client from the start, so a drop while connecting is seen. */
	private async connect(): Promise<pg.Client> {
		const client = new pg.Client(this.config);
		this.client = client;
		client.on('error', error => this.dropped(client, error.message));
		client.on('end', () => this.dropped(client, 'the connection ended'));
		client.on('notification', message => this.deliver(message.channel, message.payload ?? ''));
		try {
			await client.connect();
			await client.query(this.channels.map(channel => `listen ${client.escapeIdentifier(channel)}`).join('; '));
			const {rows} = await client.query<{pid: number}>('select pg_backend_pid() as pid');
			this.pid = rows[0]?.pid;
			return client;
		} catch (error) {
			if (this.client === client) this.client = undefined;
			client.end().catch(() => {});
			throw error;
		}
	}

	private dropped(client: pg.Client, reason: string): void {
		if (client !== this.client) return;
		this.client = undefined;
		this.pid = undefined;
		client.end().catch(() => {});
		if (this.state !== 'listening') return;
		this.state = 'connecting';
		this.log('wakeups_lost', {reason});
		this.tell('lost');
		void this.reconnect();
	}

	private async reconnect(): Promise<void> {
		for (let attempt = 0; this.state === 'connecting'; attempt++) {
			await this.sleep(Math.min(this.maxRetryMs, this.retryMs * 2 ** Math.min(attempt, 30)) * (0.5 + Math.random() / 2));
			if (this.state !== 'connecting') return;
			try {
				const client = await this.connect();
				// The state may have changed while connecting (close).
				if ((this.state as string) === 'closed') {
					await client.end().catch(() => {});
					return;
				}
				if (this.client !== client) continue;
				this.state = 'listening';
				this.log('wakeups_restored', {attempts: attempt + 1});
				this.tell('restored');
				return;
			} catch (error) {
				this.log('wakeups_connect_failed', {attempt: attempt + 1, error: (error as Error).message});
			}
		}
	}

	private sleep(ms: number): Promise<void> {
		return new Promise(resolve => {
			const timer = setTimeout(done, ms);
			function done(): void {
				clearTimeout(timer);
				resolve();
			}
			this.wake = done;
		});
	}

	private startHeartbeat(): void {
		if (this.heartbeatMs <= 0) return;
		let pending = false;
		this.heartbeat = setInterval(() => {
			const client = this.client;
			if (pending || client === undefined || this.state !== 'listening') return;
			pending = true;
			const timeout = setTimeout(() => this.dropped(client, `no answer to a heartbeat within ${this.heartbeatMs} ms`), this.heartbeatMs);
			client.query('select 1').then(
				() => {},
				(error: Error) => this.dropped(client, error.message),
			).finally(() => {
				clearTimeout(timeout);
				pending = false;
			});
		}, this.heartbeatMs);
		this.heartbeat.unref();
	}

	private deliver(channel: string, payload: string): void {
		const parsed = parseWakeup(payload);
		if (!parsed.ok) {
			this.log('wakeup_malformed', {channel, reason: parsed.reason, bytes: Buffer.byteLength(payload)});
			return;
		}
		for (const handler of this.handlers) {
			try {
				const result = handler(parsed.wakeup, channel);
				if (result instanceof Promise) result.catch((error: unknown) => this.handlerFailed(error));
			} catch (error) {
				this.handlerFailed(error);
			}
		}
	}

	private handlerFailed(error: unknown): void {
		this.log('wakeup_handler_failed', {error: error instanceof Error ? error.message : String(error)});
	}

	private tell(state: 'lost' | 'restored'): void {
		for (const handler of this.connectionHandlers) {
			try {
				handler(state);
			} catch (error) {
				this.handlerFailed(error);
			}
		}
	}
}
