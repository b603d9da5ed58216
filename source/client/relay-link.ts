import {EventEmitter} from 'node:events';
import {fingerprint, parseFingerprint} from '../crypto/keys.js';
import type {ClientMessage, RelayMessage} from '../net/messages.js';
import type {ClientEvents, ClientOptions, ClientStatus, ReconnectOptions, RelayInfo} from './client-events.js';
import {clientLimits, definedOnly, type ClientLimits} from './client-limits.js';
import {KnownRelays} from './known-relays.js';
import {defaultReconnect, reconnectCodes, reconnectDelay} from './reconnect.js';
import {RelayConnection, type RelayHandshake} from './relay-connection.js';
import {unverifiedRefusal} from './unverified-refusal.js';

export type ChatClientOptions = ClientOptions & Partial<ClientLimits>;

/**
 * The client's link to one relay over time, below the chat: it opens a connection (relay-connection.ts),
 * checks the relay's key against its pin (or asks the user), and, when a connection fails or drops
 * for a reason that may pass (see reconnectCodes), tries again with backoff; otherwise it stops
 * for good. ChatClient builds the chat on it: what the relay says goes to dispatch().
 */
export abstract class RelayLink extends EventEmitter<ClientEvents> {
	status: ClientStatus = 'idle';
	relay: RelayInfo | undefined;
	/** When the next attempt to reconnect is due (ms since the epoch), while status is 'reconnecting'. */
	reconnectAt: number | undefined;

	protected connection: RelayConnection | undefined;
	/** This connection is over (the client may still reconnect). */
	protected ended = false;
	protected readonly limits: ClientLimits;
	/** Set by the first welcome: the name the client logs in with again after a drop. */
	protected resumeAs: string | undefined;
	protected attempt = 0;
	protected retryTimer: NodeJS.Timeout | undefined;
	private readonly pins: KnownRelays;
	private pingNonce = 0;
	private readonly reconnect: ReconnectOptions | undefined;
	/**
	 * Before the first login: the failure being tried again, until an attempt reaches the relay.
	 * 'closed' carries it as lastError when the user quits meanwhile.
	 */
	private retrying: {code: string; message: string} | undefined;
	/** The answer to the relay-unknown question of the current connection, while it waits for it. */
	private deciding: ((trust: boolean) => void) | undefined;
	private userClosed = false;

	constructor(protected readonly options: ChatClientOptions) {
		super();
		this.limits = clientLimits(options);
		this.pins = new KnownRelays(options.knownRelaysPath);
		this.reconnect = options.reconnect === false ? undefined : {...defaultReconnect, ...definedOnly(options.reconnect ?? {})};
	}

	/** A message from the relay, on a trusted connection. */
	protected abstract dispatch(message: RelayMessage): void;
	/** A connection is about to open: what belonged to the previous one is forgotten. */
	protected abstract opening(): void;
	/** The connection ended (the client may still reconnect). */
	protected abstract connectionEnded(): void;
	/** Saves what waits to be sent: the user leaves, or the client stops. */
	protected abstract flushOutbox(): void;
	/** The client stopped for good (closed): what it holds open for an account is released. */
	protected abstract stopped(): void;

	/** Starts afresh: connects, and asks for a username again (login-request). */
	connect(): void {
		clearTimeout(this.retryTimer);
		this.retryTimer = undefined;
		this.userClosed = false;
		this.resumeAs = undefined;
		this.retrying = undefined;
		this.attempt = 0;
		this.open();
	}

	async close(): Promise<void> {
		this.userClosed = true;
		clearTimeout(this.retryTimer);
		this.retryTimer = undefined;
		this.flushOutbox();
		const connection = this.connection;
		if (!connection || connection.destroyed || this.ended) {
			if (this.ended) this.stop('closed', 'you left');
			else this.finish('closed', 'you left', {destroy: false});
			return;
		}
		if (this.status !== 'verifying') connection.sayBye();
		this.finish('closed', 'you left', {destroy: false});
		await connection.endSocket();
	}

	/** One connection: TCP, handshake, pin check; a resumed client then logs in by itself. */
	protected open(): void {
		const {host, port} = this.options;
		this.ended = false;
		this.reconnectAt = undefined;
		this.relay = undefined;
		this.deciding = undefined;
		this.opening();
		this.setStatus('connecting');
		// What a connection that another replaced reports is ignored.
		const connection: RelayConnection = new RelayConnection(host, port, this.limits, {
			socketError: code => {
				if (connection !== this.connection) return;
				const reached = this.relay !== undefined;
				this.finish(
					reached ? 'connection_lost' : 'connect_failed',
					reached ? `connection lost (${code})` : `could not reach ${host}:${port} (${code})`,
				);
			},
			socketClosed: () => {
				if (connection === this.connection) this.finish('closed', 'the relay closed the connection');
			},
			plaintextRefusal: refusal => {
				// Unauthenticated: whoever holds the port can send it, so it means "not now", whatever it claims.
				if (connection === this.connection) this.finish('unverified_refusal', unverifiedRefusal(this.options, refusal));
			},
			handshake: handshake => {
				if (connection === this.connection) this.checkPin(connection, handshake);
			},
			message: message => {
				if (connection === this.connection) this.dispatch(message);
			},
			fail: (code, message) => {
				if (connection === this.connection) this.finish(code, message);
			},
			nextPingNonce: () => this.pingNonce++,
		});
		this.connection = connection;
	}

	protected queue(message: ClientMessage): void {
		if (!this.connection || this.ended) throw new Error('not connected');
		this.connection.queue(message);
	}

	/** The relay proved its key: it goes on if the key is pinned (or --trust names it), or once the user trusts it. */
	private checkPin(connection: RelayConnection, {relayIdentity}: RelayHandshake): void {
		const {host, port} = this.options;
		const relay: RelayInfo = {host, port, fingerprint: fingerprint(relayIdentity)};
		this.relay = relay;
		// reached: whatever happens now is this connection's own outcome
		this.retrying = undefined;

		const pin = this.pins.check(host, port, relayIdentity);
		// Checked on every connection, reconnects included: a relay whose key changed is refused.
		if (pin.state === 'match') {
			this.trusted(relay);
		} else if (pin.state === 'changed') {
			this.emit('relay-changed', relay, fingerprint(pin.pinned));
			this.refuse(`the relay at ${host}:${port} presents a different key from the one pinned`);
		} else if (this.options.trustFingerprint !== undefined) {
			if (parseFingerprint(this.options.trustFingerprint) === relay.fingerprint) {
				this.pins.pin(host, port, relayIdentity);
				this.trusted(relay);
			} else {
				this.refuse(`the relay's fingerprint does not match --trust`);
			}
		} else {
			this.setStatus('verifying');
			connection.holdFrames();
			let decided = false;
			const decide = (trust: boolean) => {
				if (decided) return;
				decided = true;
				if (this.connection !== connection || this.ended) {
					this.decidedLate(relayIdentity, trust);
					return;
				}
				this.deciding = undefined;
				if (!trust) {
					this.refuse('you did not trust the relay');
					return;
				}
				this.pins.pin(host, port, relayIdentity);
				this.trusted(relay);
				connection.release();
			};
			this.deciding = decide;
			this.emit('relay-unknown', relay, decide);
		}
	}

	/**
	 * The user answered about the relay after the connection that asked was gone. No ends the client
	 * for good, even while it waits to try again. Yes pins the key: a connection that asks about the
	 * same key now goes on, a client waiting to try again finds the pin at its next attempt, and one
	 * that had stopped before its first login (reconnect off) starts over, unless the user quit.
	 */
	private decidedLate(identity: Buffer, trust: boolean): void {
		if (!trust) {
			if (this.ended) this.stop('refused_relay', 'you did not trust the relay');
			else this.refuse('you did not trust the relay');
			return;
		}
		if (this.status === 'verifying' && this.relay?.fingerprint === fingerprint(identity)) {
			this.deciding?.(true);
			return;
		}
		const {host, port} = this.options;
		// Pinned meanwhile (the same key, or another one that the next attempt will refuse): left as it is.
		if (this.pins.check(host, port, identity).state === 'unknown') this.pins.pin(host, port, identity);
		if (this.status === 'closed' && this.resumeAs === undefined && !this.userClosed) this.connect();
	}

	private trusted(relay: RelayInfo): void {
		this.connection!.startHeartbeat();
		this.setStatus('login');
		this.emit('relay-trusted', relay);
	}

	private refuse(message: string): void {
		this.finish('refused_relay', message);
	}

	/** Ends this connection; then tries again, or stops for good (see reconnectCodes). */
	protected finish(code: string, message: string, {destroy = true} = {}): void {
		if (this.ended) return;
		this.ended = true;
		this.connection?.end(destroy);
		this.connectionEnded();
		// Before the first login too: a relay that is down when the client starts is tried again.
		const retry = this.reconnect !== undefined && !this.userClosed && reconnectCodes.has(code);
		if (retry) this.scheduleReconnect(this.reconnect!, code, message);
		else this.stop(code, message);
	}

	private scheduleReconnect(policy: ReconnectOptions, code: string, message: string): void {
		this.attempt += 1;
		if (this.resumeAs === undefined) this.retrying = {code, message};
		const delay = reconnectDelay(this.attempt, policy);
		this.reconnectAt = Date.now() + delay;
		this.setStatus('reconnecting');
		this.emit('reconnecting', {attempt: this.attempt, at: this.reconnectAt, code, message});
		this.retryTimer = setTimeout(() => {
			this.retryTimer = undefined;
			this.open();
		}, delay);
	}

	/** Over for good: no more attempts. */
	private stop(code: string, message: string): void {
		clearTimeout(this.retryTimer);
		this.retryTimer = undefined;
		this.reconnectAt = undefined;
		if (this.status === 'closed') return;
		// The user quit while a client that never got in was still trying to.
		const lastError = this.userClosed ? this.retrying : undefined;
		this.retrying = undefined;
		this.flushOutbox();
		this.stopped();
		this.setStatus('closed');
		this.emit('closed', {code, message, ...(lastError === undefined ? {} : {lastError})});
	}

	protected setStatus(status: ClientStatus): void {
		if (this.status === status) return;
		this.status = status;
		this.emit('status', status);
	}
}
