import type {FatalErrorCode, RecoverableErrorCode} from '../net/error-codes.js';
import {errorMessage, type ClientMessage, type Envelope, type LoginMessage, type RelayMessage} from '../net/messages.js';
import {foldUsername, isValidUsername} from '../net/usernames.js';
import {FloodGuard} from './flood-guard.js';
import {checkLogin} from './login-check.js';
import {storageFailedText, type RelayCore} from './relay-core.js';

/** What the bridge gives a session: a way to talk to its connection. */
export type SessionSink = {
	send(message: RelayMessage): void;
	/** Sends a RelayMessage already serialized (relay-json.ts). */
	sendJson(json: string): void;
	/** Ends the connection after a fatal protocol error (the sink sends the error frame). */
	fail(code: FatalErrorCode, message: string): void;
	/** Ends the connection after everything queued has been sent. */
	close(): void;
	/** Calls back once the connection has room for more (at once, or when its output drains). */
	whenWritable(callback: () => void): void;
};

export type SessionContext = {remote: string; transcriptHash: Buffer};

export type LeaveReason = 'quit' | 'disconnected' | 'timeout' | 'error' | 'shutdown' | 'replaced';

/** One connection's conversation with the relay, from login_request to leave. */
export class Session {
	/** While set, new envelopes for this user wait in the queue: the backlog goes out first, in order. */
	catchingUp = false;
	/** Whether this client gets the directory and presence (false for headless clients). */
	roster = true;
	private username: string | undefined;
	private ended = false;
	private readonly flood: FloodGuard;
	/** Set from the first refusal until a message passes again: one log line per spell, not per message. */
	private throttled = false;

	constructor(
		private readonly core: RelayCore,
		readonly sink: SessionSink,
		private readonly context: SessionContext,
	) {
		this.flood = new FloodGuard(core.rate, core.options.clock);
		sink.send({type: 'login_request'});
	}

	get name(): string | undefined {
		return this.username;
	}

	get open(): boolean {
		return !this.ended;
	}

	handle(message: ClientMessage): void {
		if (this.ended || !this.withinRate(message)) return;
		if (this.username === undefined && (message.type === 'send' || message.type === 'ack')) {
			this.sink.fail('not_logged_in', 'log in first');
			return;
		}
		switch (message.type) {
			case 'login':
				this.login(message);
				return;
			case 'send':
				this.route(message);
				return;
			case 'ack':
				this.core.acknowledge(this.username!, message.deliveries);
				return;
			case 'ping':
				this.sink.send({type: 'pong', nonce: message.nonce});
				return;
			case 'pong':
				return;
			case 'bye':
				this.sink.close();
				this.end('quit');
		}
	}

	/** A newer login proved the same identity: this session gives way. */
	replace(): void {
		this.end('replaced');
		this.sink.fail('session_replaced', 'you logged in again from somewhere else');
	}

	/** Idempotent: the bridge calls it whenever the connection ends, for any reason. */
	end(reason: LeaveReason): void {
		if (this.ended) return;
		this.ended = true;
		if (this.username === undefined) return;
		this.core.leave(this, this.username);
		this.core.options.log('leave', {user: this.username, reason, remote: this.context.remote});
	}

	private login(login: LoginMessage): void {
		if (this.username !== undefined) {
			this.reject('already_logged_in', `already logged in as ${this.username}`);
			return;
		}
		const verdict = checkLogin(login, {
			relayIdentity: this.core.options.relayIdentity,
			transcriptHash: this.context.transcriptHash,
			registered: name => this.core.registered(name),
		});
		if (!verdict.ok) {
			this.reject(verdict.code, verdict.message);
			return;
		}
		const {username} = verdict;
		this.username = username;
		this.roster = login.roster !== false;
		const registration = verdict.register
			? {
					username,
					identity: login.identity,
					x25519: login.x25519,
					binding: login.binding,
					registeredAt: this.core.options.clock(),
				}
			: undefined;
		this.core.admit(this, username, registration);
		this.core.options.log('join', {user: username, remote: this.context.remote, online: this.core.onlineCount()});
	}

	private route(envelope: Envelope): void {
		const {maxBodyBytes, clock} = this.core.options;
		if (envelope.body.length > maxBodyBytes) {
			this.reject('message_too_large', `an envelope body is at most ${maxBodyBytes} bytes`, envelope.id);
			return;
		}
		let to = envelope.to;
		if (!isValidUsername(to)) {
			// most clients send the name folded already: no case folding on the hot path
			to = foldUsername(to);
			if (!isValidUsername(to)) {
				this.reject('unknown_recipient', 'that is not a valid username', envelope.id);
				return;
			}
		}
		const verdict = this.core.accept(envelope, to, this.username!, clock());
		if (verdict === 'unknown_recipient') this.reject('unknown_recipient', `nobody is registered as ${to}`, envelope.id);
		else if (verdict === 'queue_full') this.reject('queue_full', `too many messages already wait for ${to}`, envelope.id);
		else if (verdict === 'storage_failed') this.reject('storage_failed', storageFailedText, envelope.id);
	}

	/** Every message after the handshake counts, logins included (each costs two signature checks). */
	private withinRate(message: ClientMessage): boolean {
		const verdict = this.flood.check(message, this.core.registeredCount());
		if (verdict === 'ok') {
			this.throttled = false;
			return true;
		}
		if (verdict === 'flooding') {
			this.sink.fail('flooding', 'too many messages refused; the relay is closing this connection');
			return false;
		}
		const {rateBurst, ratePerSecond} = this.core.rate;
		const ref = message.type === 'send' ? message.id : null;
		this.sink.send(errorMessage('rate_limited', `slow down: at most ${rateBurst} messages at once, then ${ratePerSecond} a second`, ref));
		if (!this.throttled) this.core.options.log('refused', {code: 'rate_limited', user: this.username ?? null, remote: this.context.remote});
		this.throttled = true;
		return false;
	}

	private reject(code: RecoverableErrorCode, message: string, ref: string | null = null): void {
		this.sink.send(errorMessage(code, message, ref));
		this.core.options.log('refused', {code, user: this.username ?? null, remote: this.context.remote});
	}
}
