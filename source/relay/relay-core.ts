import type {FatalErrorCode, RecoverableErrorCode} from '../net/error-codes.js';
import type {ClientMessage, RelayMessage} from '../net/messages.js';
import {checkUsername, foldUsername, isValidUsername} from '../net/usernames.js';
import type {Logger} from './logger.js';

/**
 * The relay's chat rules: who is online, logins, routing, presence, announcements. It knows nothing
 * about sockets or crypto; the bridge (connection.ts) gives each session a sink.
 */
export type SessionSink = {
	send(message: RelayMessage): void;
	/** Ends the connection after a fatal protocol error (the sink sends the error frame). */
	fail(code: FatalErrorCode, message: string): void;
	/** Ends the connection after everything queued has been sent. */
	close(): void;
};

export type LeaveReason = 'quit' | 'disconnected' | 'timeout' | 'error' | 'shutdown';

export type RelayCoreOptions = {
	motd: string | null;
	maxTextBytes: number;
	clock: () => number;
	log: Logger;
};

export class RelayCore {
	private readonly online = new Map<string, Session>();

	constructor(readonly options: RelayCoreOptions) {}

	openSession(sink: SessionSink, remote: string): Session {
		return new Session(this, sink, remote);
	}

	onlineUsernames(): string[] {
		return [...this.online.keys()].sort();
	}

	announce(text: string): void {
		const message: RelayMessage = {type: 'announcement', text, time: this.options.clock()};
		for (const session of this.online.values()) session.sink.send(message);
		this.options.log('announcement', {recipients: this.online.size, bytes: Buffer.byteLength(text)});
	}


	/** @internal */
	register(session: Session, username: string): boolean {
		if (this.online.has(username)) return false;
		this.online.set(username, session);
		this.broadcast({type: 'user_joined', username}, session);
		return true;
	}

	/** @internal */
	unregister(session: Session, username: string): void {
		if (this.online.get(username) !== session) return;
		this.online.delete(username);
		this.broadcast({type: 'user_left', username}, session);
	}

	/** @internal */
	find(username: string): Session | undefined {
		return this.online.get(username);
	}

	/** Everyone online but `except`: the original design's broadcast. */
	broadcast(message: RelayMessage, except?: Session): void {
		for (const session of this.online.values()) {
			if (session !== except) session.sink.send(message);
		}
	}
}

export class Session {
	private username: string | undefined;
	private ended = false;

	constructor(
		private readonly core: RelayCore,
		readonly sink: SessionSink,
		private readonly remote: string,
	) {
		sink.send({type: 'login_request'});
	}

	get name(): string | undefined {
		return this.username;
	}

	handle(message: ClientMessage): void {
		if (this.ended) return;
		switch (message.type) {
			case 'login':
				this.login(message.username);
				return;
			case 'send':
				this.route(message.id, message.to, message.text);
				return;
			case 'ping':
				this.sink.send({type: 'pong', nonce: message.nonce});
				return;
			case 'pong':
				return;
			case 'bye':
				this.sink.close();
				this.end('quit');
				return;
		}
	}

	/** Idempotent: the bridge calls it whenever the connection ends, for any reason. */
	end(reason: LeaveReason): void {
		if (this.ended) return;
		this.ended = true;
		if (this.username === undefined) return;
		this.core.unregister(this, this.username);
		this.core.options.log('leave', {user: this.username, reason, remote: this.remote});
	}

	private login(requested: string): void {
		if (this.username !== undefined) {
			this.reject('already_logged_in', `already logged in as ${this.username}`);
			return;
		}
		const check = checkUsername(requested);
		if (!check.ok) {
			this.reject(check.code, check.message);
			return;
		}
		const others = this.core.onlineUsernames();
		if (!this.core.register(this, check.username)) {
			this.reject('username_taken', `${check.username} is already online; pick another name`);
			return;
		}
		this.username = check.username;
		this.sink.send({type: 'welcome', username: check.username, users: others, motd: this.core.options.motd});
		this.core.options.log('join', {user: check.username, remote: this.remote, online: others.length + 1});
	}

	private route(id: string, to: string, text: string): void {
		const from = this.username;
		if (from === undefined) {
			this.sink.fail('not_logged_in', 'log in before sending messages');
			return;
		}
		const {maxTextBytes, clock} = this.core.options;
		if (Buffer.byteLength(text) > maxTextBytes) {
			this.reject('message_too_large', `a message is at most ${maxTextBytes} bytes`, id);
			return;
		}
		const recipientName = foldUsername(to);
		if (!isValidUsername(recipientName)) {
			this.reject('unknown_recipient', 'that is not a valid username', id);
			return;
		}
		const recipient = this.core.find(recipientName);
		if (!recipient) {
			this.reject('recipient_offline', `${recipientName} is not online`, id);
			return;
		}
		const time = clock();
		recipient.sink.send({type: 'message', id, from, to: recipientName, text, time});
		this.sink.send({type: 'sent', id, time});
	}

	private reject(code: RecoverableErrorCode, message: string, ref: string | null = null): void {
		this.sink.send({type: 'error', code, message, fatal: false, ref});
		this.core.options.log('refused', {code, user: this.username ?? null, remote: this.remote});
	}
}

