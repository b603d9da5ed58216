import {loginErrorCodes, ProtocolError} from '../net/error-codes.js';
import type {RelayMessage} from '../net/messages.js';
import {checkUsername, foldUsername} from '../net/usernames.js';
import {loginMessage, openLoginSession, type AccountLogin} from './account-session.js';
import type {ChatSession} from './chat-session.js';
import type {ChatConnection, Contact} from './client-events.js';
import {LoginFailure} from './client-account.js';
import {everyoneConversation} from './history.js';
import type {Outbox} from './outbox.js';
import type {RoomSession} from './rooms/room-session.js';
import {directoryTooLarge, PendingWelcome} from './pending-welcome.js';
import {reconnectCodes} from './reconnect.js';
import {AccountLink} from './account-link.js';

export type {ChatClientOptions} from './relay-link.js';

/**
 * A user's connection to a relay, headless: handshake, pinning, encrypted batches, typed events.
 * It tries again by itself, with backoff and the pin checked again, when a connection fails or
 * drops for a reason that may pass (see reconnectCodes): before the first login (a relay down when
 * the client starts), it asks for a name again once back (login-request); after it, it logs the
 * same name in again and sends what waited in the outbox. The UI (useChat), tests, benchmarks and
 * bots all drive this same class. The connection, the relay's pin and the reconnects are its
 * RelayLink (relay-link.ts), the account's database and history its AccountLink (account-link.ts);
 * this class is the session logged in over them.
 */
export class ChatClient extends AccountLink implements ChatConnection {
	username: string | undefined;

	private pendingLogin: AccountLogin | undefined;
	private session: ChatSession | undefined;
	private directory: PendingWelcome | undefined;
	/** A name given by login() while no connection could take it: it goes out at the next login_request. */
	private waitingName: string | undefined;
	/** The passphrase given with waitingName: the account it opens (or makes) is opened with it. */
	private waitingPassphrase: string | undefined;
	private outbox: Outbox | undefined;

	/** Starts afresh: connects, and asks for a username again (login-request). */
	override connect(): void {
		this.waitingName = undefined;
		this.waitingPassphrase = undefined;
		this.session = undefined;
		this.outbox = undefined;
		super.connect();
	}

	protected override opening(): void {
		this.pendingLogin = undefined;
		this.directory = undefined;
	}

	protected override connectionEnded(): void {
		this.session?.detach();
	}

	protected override flushOutbox(): void {
		this.outbox?.flush();
	}

	get contacts(): Contact[] {
		return this.session?.contacts() ?? [];
	}

	/**
	 * Proves this user's identity for `username` (made on first use, per relay) and logs in. Before
	 * the first login, while the client is between connections (the relay dropped one that waited
	 * for a name), the name waits for the next connection, which is tried at once.
	 */
	login(username: string, passphrase?: string): void {
		const {relay} = this;
		const handshake = this.connection?.handshake;
		const connected = this.connection?.ready === true && !this.ended && relay !== undefined && handshake !== undefined;
		const between = this.resumeAs === undefined && (this.status === 'reconnecting' || this.status === 'connecting');
		if (!connected && !between) throw new Error('not connected');
		const check = checkUsername(username);
		if (!check.ok) {
			// Refused here, the same way the relay would: no identity is made for a name that cannot exist.
			queueMicrotask(() => this.emit('login-error', {code: check.code, message: check.message}));
			return;
		}
		const name = check.username;
		if (!connected) {
			this.waitingName = name;
			this.waitingPassphrase = passphrase;
			if (this.retryTimer !== undefined) {
				clearTimeout(this.retryTimer);
				this.retryTimer = undefined;
				this.open();
			}
			return;
		}
		let keys;
		try {
			({keys} = this.account.open(relay.fingerprint, name, passphrase ?? this.options.passphrase));
		} catch (error) {
			if (!(error instanceof LoginFailure)) throw error;
			queueMicrotask(() => this.emit('login-error', {code: error.code, message: error.message}));
			return;
		}
		this.pendingLogin = {username: name, keys};
		this.queue(loginMessage(keys, name, handshake));
	}

	send(to: string, text: string): string {
		const name = foldUsername(to);
		const id = this.loggedIn().send(name, text);
		this.account.sent({id, to: name, recipients: [name], text});
		return id;
	}

	lookup(names: readonly string[]): string[] {
		const session = this.loggedIn();
		const folded = names.map(name => {
			const check = checkUsername(name);
			// A reserved name is asked all the same: the relay answers that nobody has it.
			if (!check.ok && check.code !== 'reserved_username') throw new Error(check.message);
			return foldUsername(name);
		});
		return session.finder.lookup(folded);
	}

	who(): void {
		if (this.status === 'online') this.session?.finder.askWho(true);
	}

	sendToEveryone(text: string): {id: string; recipients: string[]} {
		if (this.status !== 'online') throw new Error('you are offline: a message to everyone goes only to the people online when it is sent');
		const sent = this.loggedIn().sendToEveryone(text);
		if (sent.recipients.length > 0) this.account.sent({id: sent.id, to: everyoneConversation, recipients: sent.recipients, text});
		return sent;
	}

	trust(username: string, safetyNumber?: string): void {
		this.loggedIn().trust(foldUsername(username), safetyNumber);
	}

	setVerified(username: string, verified: boolean): void {
		this.loggedIn().setVerified(foldUsername(username), verified);
	}

	safetyNumber(username: string): string {
		return this.loggedIn().safetyNumber(foldUsername(username));
	}

	/** The rooms of the logged-in user (rooms/room-session.ts): what is sent while reconnecting waits. */
	get rooms(): RoomSession {
		const rooms = this.loggedIn().rooms;
		if (rooms === undefined) throw new Error('not connected');
		return rooms;
	}

	/** The session of the last login: online, or reconnecting (what is sent then waits in the outbox). */
	private loggedIn(): ChatSession {
		if (this.status === 'closed' || !this.session || (this.status !== 'online' && this.resumeAs === undefined)) throw new Error('not connected');
		return this.session;
	}

	protected override dispatch(message: RelayMessage): void {
		switch (message.type) {
			case 'login_request': {
				// Back after a drop: the same name again, with the identity on disk; or the name given meanwhile.
				const name = this.resumeAs ?? this.waitingName;
				const passphrase = this.resumeAs === undefined ? this.waitingPassphrase : undefined;
				this.waitingName = undefined;
				this.waitingPassphrase = undefined;
				if (name !== undefined) this.login(name, passphrase);
				else this.emit('login-request');
				return;
			}
			case 'welcome': {
				const login = this.pendingLogin;
				if (!login || login.username !== message.username) {
					throw new ProtocolError('bad_message', 'welcome for a login this client did not send');
				}
				const tooLarge = directoryTooLarge(message, this.limits.maxDirectoryRecords);
				if (tooLarge !== undefined) {
					this.finish('directory_too_large', tooLarge);
					return;
				}
				if (this.session === undefined && !this.openSession(login)) return;
				this.username = login.username;
				this.directory = new PendingWelcome(message);
				this.completeWelcome();
				return;
			}
			case 'directory': {
				if (!this.directory) throw new ProtocolError('bad_message', 'directory records nobody announced');
				this.directory.add(message.users);
				this.completeWelcome();
				return;
			}
			case 'found':
				this.session?.finder.found(message);
				this.session?.rooms?.found(message.users, message.missing);
				return;
			case 'bundle':
				this.session?.starter.bundle(message);
				return;
			case 'prekey_count':
				this.session?.starter.prekeysCounted(message);
				return;
			case 'online':
				this.session?.finder.online(message.users, message.total);
				return;
			case 'user_joined':
				this.session?.joined(message.user);
				return;
			case 'user_left':
				this.session?.left(message.username);
				return;
			case 'message': {
				if (this.directory) throw new ProtocolError('bad_message', 'a message arrived before the directory was complete');
				const {type: _type, ...envelope} = message;
				this.session?.deliver(envelope);
				return;
			}
			case 'accepted':
				this.session?.accepted(message.id, message.to);
				this.emit('accepted', {id: message.id, time: message.time});
				return;
			case 'announcement':
				this.emit('announcement', {text: message.text, time: message.time});
				return;
			case 'shutdown':
				this.finish('shutdown', message.reason);
				return;
			case 'ping':
				this.queue({type: 'pong', nonce: message.nonce});
				return;
			case 'pong':
				return;
			case 'error':
				if (message.fatal) {
					this.finish(message.code, message.message);
				} else if (message.ref !== null && this.session && this.refusedRequest(this.session, message.ref, message.code, message.message)) {
					// invalid_username about a lookup or a bundle (its ref) is no login error
					return;
				} else if (loginErrorCodes.has(message.code)) {
					// Logging in again by itself was refused: for now (throttled, registration closed),
					// tried again later; or for good (the relay no longer takes this identity).
					const forNow = this.resumeAs !== undefined && reconnectCodes.has(message.code);
					if (!forNow) this.emit('login-error', {code: message.code, message: message.message});
					if (this.resumeAs !== undefined) this.finish(message.code, message.message);
				} else {
					if (message.ref !== null) this.session?.refused(message.ref, message.code);
					else if (message.code === 'rate_limited') this.session?.finder.droppedWithoutRef();
					this.emit('relay-error', {code: message.code, message: message.message, ref: message.ref});
				}
				return;
			default:
				this.session?.rooms?.receive(message);
		}
	}

	/** A refusal whose ref is one of the session's lookups ('lookup-failed' is emitted), bundle requests, rooms or room texts ('room-error'). */
	private refusedRequest(session: ChatSession, ref: string, code: string, message: string): boolean {
		return session.finder.refused(ref, code, message) || session.starter.refused(ref, code, message) || session.rooms?.refused(ref, code, message) === true;
	}

	/** The account's contacts and outbox, opened at its first welcome; false (and closed) if a file is unreadable. */
	private openSession(login: AccountLogin): boolean {
		const opened = openLoginSession(this.account.store, login, this.limits, {
			emit: (event, ...args) => (this.emit as (event: string, ...rest: unknown[]) => boolean)(event, ...args),
			redeliver: () => this.finish('connection_lost', 'logging in again to fetch the messages this device could not save in time'),
			failed: message => this.finish('local_error', message),
		});
		if (opened !== undefined) ({session: this.session, outbox: this.outbox} = opened);
		return opened !== undefined;
	}

	/** The welcome, once its directory is complete (PendingWelcome): the session goes online. */
	private completeWelcome(): void {
		const directory = this.directory;
		if (!directory || !directory.complete || !this.session) return;
		this.directory = undefined;
		const {motd, online, onlineCount, waiting, prekeys, rooms} = directory.welcome;
		const {contacts: users, who} = this.session.welcome(directory.users, online, onlineCount);
		const reconnected = this.resumeAs !== undefined;
		this.resumeAs = this.session.username;
		this.attempt = 0;
		this.session.attach(out => this.queue(out), prekeys, rooms);
		this.setStatus('online');
		this.emit('welcome', {
			username: this.session.username,
			users,
			motd,
			online: who.names,
			onlineCount: who.total,
			waiting,
			...(reconnected ? {reconnected} : {}),
		});
	}
}
