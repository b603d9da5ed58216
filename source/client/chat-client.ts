import {EventEmitter} from 'node:events';
import {connect, type Socket} from 'node:net';
import {toBase64Url} from '../crypto/base64url.js';
import {loginProof, publicIdentity, type IdentityKeys} from '../crypto/identity.js';
import {fingerprint, parseFingerprint} from '../crypto/keys.js';
import {ChatSession} from './chat-session.js';
import {EndToEnd} from './end-to-end.js';
import {everyoneConversation, type HistoryEntry} from './history.js';
import {recordEvent} from './history-recorder.js';
import {defaultOutboxLimits, Outbox, type OutboxLimits} from './outbox.js';
import {AccountDatabaseError} from './store/account-database.js';
import {AccountStore} from './store/account-store.js';
import {accountDirectory} from './store/account-paths.js';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {generateRawKeyPair, type RawKeyPair} from '../crypto/raw-keys.js';
import {BatchWriter} from '../net/batch-writer.js';
import type {AccountState, ChatConnection, ClientEvents, ClientOptions, ClientStatus, Contact, LocalLoginCode, ReconnectOptions, RelayInfo} from './client-events.js';
import {ProtocolError} from '../net/error-codes.js';
import {
	deriveSessionKeys,
	encodeClientHello,
	newClientHello,
	parseRelayHello,
	transcriptHash,
	verifyTranscript,
	type ClientHello,
} from '../net/handshake.js';
import {KnownRelays, relayAddress} from './known-relays.js';
import {sanitizeText} from '../sanitize.js';
import {LineDecoder} from '../net/line-decoder.js';
import {asObject, parseRelayMessage, type ClientMessage, type RelayMessage, type UserRecord} from '../net/messages.js';
import {protocolDefaults} from '../net/limits.js';
import {defaultReconnect, reconnectCodes, reconnectDelay} from './reconnect.js';
import {FrameOpener, FrameSealer} from '../net/secure-channel.js';
import {checkUsername, foldUsername} from '../net/usernames.js';
import {defaultWhoIntervalMs} from './who-online.js';
import {defaultStrangerRetryMs} from './contact-finder.js';

export type ChatClientOptions = ClientOptions & Partial<ClientLimits>;

type ClientLimits = Record<
	'maxFrameBytes' | 'maxBatchMessages' | 'handshakeTimeoutMs' | 'heartbeatIntervalMs' | 'idleTimeoutMs' | 'maxDirectoryRecords' | 'whoIntervalMs' | 'strangerRetryMs',
	number
> &
	OutboxLimits;

const maxHeldFrames = 16;

/**
 * A directory larger than this is not taken (it would only be a way to fill our memory): the
 * client tries again later (directory_too_large), as the relay may shrink it.
 */
export const defaultMaxDirectoryRecords = 200_000;

/** The most of an unauthenticated refusal's text that is shown. */
export const maxUnverifiedChars = 200;

const loginErrors: ReadonlySet<string> = new Set([
	'invalid_username',
	'reserved_username',
	'username_taken',
	'bad_login',
	'already_logged_in',
	'registration_closed',
	'login_throttled',
]);

/**
 * A user's connection to a relay, headless: handshake, pinning, encrypted batches, typed events.
 * It tries again by itself, with backoff and the pin checked again, when a connection fails or
 * drops for a reason that may pass (see reconnectCodes): before the first login (a relay down when
 * the client starts), it asks for a name again once back (login-request); after it, it logs the
 * same name in again and sends what waited in the outbox. The UI (useChat), tests, benchmarks and
 * bots all drive this same class.
 */
export class ChatClient extends EventEmitter<ClientEvents> implements ChatConnection {
	status: ClientStatus = 'idle';
	relay: RelayInfo | undefined;
	username: string | undefined;
	/** When the next attempt to reconnect is due (ms since the epoch), while status is 'reconnecting'. */
	reconnectAt: number | undefined;

	private socket: Socket | undefined;
	private decoder: LineDecoder;
	private readonly pins: KnownRelays;
	private ephemeral: RawKeyPair | undefined;
	private hello: ClientHello | undefined;
	private opener: FrameOpener | undefined;
	private sealer: FrameSealer | undefined;
	private writer: BatchWriter<ClientMessage> | undefined;
	private held: string[] = [];
	private handshake: {relayIdentity: Buffer; transcriptHash: Buffer} | undefined;
	private pendingLogin: {username: string; keys: IdentityKeys} | undefined;
	private session: ChatSession | undefined;
	private directory: {users: UserRecord[]; missing: number; welcome: Extract<RelayMessage, {type: 'welcome'}>} | undefined;
	private deadline: NodeJS.Timeout | undefined;
	private heartbeat: NodeJS.Timeout | undefined;
	private lastHeard = 0;
	private pingNonce = 0;
	/** This connection is over (the client may still reconnect). */
	private ended = false;
	private readonly limits: ClientLimits;
	private readonly reconnect: ReconnectOptions | undefined;
	/** Set by the first welcome: the name the client logs in with again after a drop. */
	private resumeAs: string | undefined;
	private attempt = 0;
	private retryTimer: NodeJS.Timeout | undefined;
	/**
	 * Before the first login: the failure being tried again, until an attempt reaches the relay.
	 * 'closed' carries it as lastError when the user quits meanwhile.
	 */
	private retrying: {code: string; message: string} | undefined;
	/** The answer to the relay-unknown question of the current connection, while it waits for it. */
	private deciding: ((trust: boolean) => void) | undefined;
	/** A name given by login() while no connection could take it: it goes out at the next login_request. */
	private waitingName: string | undefined;
	private userClosed = false;
	private outbox: Outbox | undefined;
	/** The logged-in (or logging-in) account's database, open from login() until the client closes. */
	private account: AccountStore | undefined;

	constructor(private readonly options: ChatClientOptions) {
		super();
		this.limits = {
			...protocolDefaults,
			maxDirectoryRecords: defaultMaxDirectoryRecords,
			whoIntervalMs: defaultWhoIntervalMs,
			strangerRetryMs: defaultStrangerRetryMs,
			...defaultOutboxLimits,
			...definedOnly(options),
		};
		this.decoder = new LineDecoder(this.limits.maxFrameBytes);
		this.pins = new KnownRelays(options.knownRelaysPath);
		this.reconnect = options.reconnect === false ? undefined : {...defaultReconnect, ...definedOnly(options.reconnect ?? {})};
	}

	/** Starts afresh: connects, and asks for a username again (login-request). */
	connect(): void {
		clearTimeout(this.retryTimer);
		this.retryTimer = undefined;
		this.userClosed = false;
		this.resumeAs = undefined;
		this.waitingName = undefined;
		this.retrying = undefined;
		this.attempt = 0;
		this.session = undefined;
		this.outbox = undefined;
		this.open();
	}

	/** One connection: TCP, handshake, pin check; a resumed client then logs in by itself. */
	private open(): void {
		const {host, port} = this.options;
		this.ended = false;
		this.reconnectAt = undefined;
		this.relay = undefined;
		this.handshake = undefined;
		this.pendingLogin = undefined;
		this.deciding = undefined;
		this.directory = undefined;
		this.opener = undefined;
		this.sealer = undefined;
		this.writer = undefined;
		this.held = [];
		this.decoder = new LineDecoder(this.limits.maxFrameBytes);
		this.setStatus('connecting');
		const socket = connect({host, port});
		this.socket = socket;
		socket.setNoDelay(true);
		socket.on('connect', () => {
			this.ephemeral = generateRawKeyPair('x25519');
			this.hello = newClientHello(this.ephemeral);
			socket.write(encodeClientHello(this.hello) + '\n');
		});
		socket.on('data', chunk => this.receive(socket, chunk));
		socket.on('error', error => {
			if (socket !== this.socket) return;
			const code = (error as NodeJS.ErrnoException).code ?? 'error';
			const reached = this.relay !== undefined;
			this.finish(
				reached ? 'connection_lost' : 'connect_failed',
				reached ? `connection lost (${code})` : `could not reach ${host}:${port} (${code})`,
			);
		});
		socket.on('close', () => {
			if (socket === this.socket) this.finish('closed', 'the relay closed the connection');
		});
		this.deadline = setTimeout(
			() => this.finish('handshake_timeout', 'the relay did not answer the handshake in time'),
			this.limits.handshakeTimeoutMs,
		);
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
		const {relay, handshake} = this;
		const connected = this.writer !== undefined && !this.ended && relay !== undefined && handshake !== undefined;
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
			if (this.retryTimer !== undefined) {
				clearTimeout(this.retryTimer);
				this.retryTimer = undefined;
				this.open();
			}
			return;
		}
		const keys = this.openAccount(relay.fingerprint, name, passphrase ?? this.options.passphrase);
		if (keys === undefined) return;
		const record = publicIdentity(keys, name);
		this.pendingLogin = {username: name, keys};
		this.queue({
			type: 'login',
			username: name,
			identity: toBase64Url(record.identity),
			x25519: toBase64Url(record.x25519),
			binding: toBase64Url(record.binding),
			proof: toBase64Url(loginProof(keys, handshake.relayIdentity, handshake.transcriptHash, name)),
		});
	}

	send(to: string, text: string): string {
		const name = foldUsername(to);
		const id = this.loggedIn().send(name, text);
		this.keepSent({id, to: name, recipients: [name], text});
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
		return session.lookup(folded);
	}

	who(): void {
		if (this.status === 'online') this.session?.who();
	}

	sendToEveryone(text: string): {id: string; recipients: string[]} {
		if (this.status !== 'online') throw new Error('you are offline: a message to everyone goes only to the people online when it is sent');
		const sent = this.loggedIn().sendToEveryone(text);
		if (sent.recipients.length > 0) this.keepSent({id: sent.id, to: everyoneConversation, recipients: sent.recipients, text});
		return sent;
	}

	history(conversation: string, options: {before?: number; limit: number}): HistoryEntry[] {
		return this.withHistory(history => history.page(conversation, options), []);
	}

	historyFrom(conversation: string, seq: number, limit: number): HistoryEntry[] {
		return this.withHistory(history => history.from(conversation, seq, limit), []);
	}

	search(words: string, limit?: number): HistoryEntry[] {
		return this.withHistory(history => history.search(words, limit), []);
	}

	forget(conversation: string): number {
		return this.withHistory(history => history.forget(conversation), 0);
	}

	setPassphrase(passphrase: string | undefined): void {
		const account = this.account;
		if (account === undefined || account.closed) throw new Error('log in first: the passphrase belongs to an account');
		if (passphrase === '') throw new Error('a passphrase cannot be empty (remove it instead)');
		account.setPassphrase(passphrase);
	}

	accountState(username: string): AccountState | undefined {
		const fingerprint = this.relay?.fingerprint;
		const check = checkUsername(username);
		if (fingerprint === undefined || !check.ok) return undefined;
		const state = AccountStore.state(this.options.dataDir, fingerprint, check.username);
		if (state !== 'absent') return state;
		return existsSync(join(accountDirectory(this.options.dataDir, fingerprint, check.username), 'identity.json')) ? 'legacy' : 'absent';
	}

	override emit<E extends keyof ClientEvents>(event: E, ...args: ClientEvents[E]): boolean {
		const account = this.account;
		if (account !== undefined && !account.closed) {
			try {
				recordEvent(account.history, event, args);
			} catch (error) {
				if (event !== 'local-error') this.emit('local-error', {message: `could not keep the history on this device: ${(error as Error).message}`});
			}
		}
		return (super.emit as (event: E, ...args: ClientEvents[E]) => boolean)(event, ...args);
	}

	/** The account for `username`, opened (and its older files imported) if it is not open yet; its keys, or undefined after a login-error. */
	private openAccount(relayFingerprint: string, username: string, passphrase: string | undefined) {
		const open = this.account;
		if (open !== undefined && !open.closed && open.username === username) return open.keys;
		open?.close();
		this.account = undefined;
		try {
			this.account = AccountStore.open(this.options.dataDir, relayFingerprint, username, {
				...(passphrase === undefined ? {} : {passphrase}),
				...(this.options.retention === undefined ? {} : {retention: this.options.retention}),
			});
			return this.account.keys;
		} catch (error) {
			const code: LocalLoginCode = error instanceof AccountDatabaseError && error.code !== 'damaged' && error.code !== 'unsafe_file' ? error.code : 'local_error';
			queueMicrotask(() => this.emit('login-error', {code, message: (error as Error).message}));
			return undefined;
		}
	}

	private keepSent(message: {id: string; to: string; recipients: string[]; text: string}): void {
		const account = this.account;
		if (account === undefined || account.closed) return;
		try {
			account.history.sent({...message, author: account.username, time: Date.now()});
		} catch (error) {
			this.emit('local-error', {message: `could not keep the history on this device: ${(error as Error).message}`});
		}
	}

	private withHistory<T>(read: (history: AccountStore['history']) => T, none: T): T {
		const account = this.account;
		return account === undefined || account.closed ? none : read(account.history);
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

	/** The session of the last login: online, or reconnecting (what is sent then waits in the outbox). */
	private loggedIn(): ChatSession {
		if (this.status === 'closed' || !this.session || (this.status !== 'online' && this.resumeAs === undefined)) throw new Error('not connected');
		return this.session;
	}

	async close(): Promise<void> {
		this.userClosed = true;
		clearTimeout(this.retryTimer);
		this.retryTimer = undefined;
		this.outbox?.flush();
		const socket = this.socket;
		if (!socket || socket.destroyed || this.ended) {
			if (this.ended) this.stop('closed', 'you left');
			else this.finish('closed', 'you left', {destroy: false});
			return;
		}
		const closed = new Promise<void>(resolve => socket.once('close', () => resolve()));
		if (this.writer && this.status !== 'verifying') {
			this.writer.queue({type: 'bye'});
			this.writer.flush();
		}
		this.finish('closed', 'you left', {destroy: false});
		socket.end();
		setTimeout(() => socket.destroy(), 1000).unref();
		await closed;
	}

	private queue(message: ClientMessage): void {
		if (!this.writer || this.ended) throw new Error('not connected');
		this.writer.queue(message);
	}

	private receive(socket: Socket, chunk: Buffer): void {
		if (socket !== this.socket || this.ended) return;
		try {
			for (const frame of this.decoder.push(chunk)) {
				if (this.ended) return;
				if (!this.relay) this.relayHello(frame);
				else if (this.status === 'verifying') this.hold(frame);
				else this.encryptedFrame(frame);
			}
		} catch (error) {
			if (error instanceof ProtocolError) {
				this.finish(error.code, error.message);
				return;
			}
			throw error;
		}
	}

	private relayHello(frame: string): void {
		const plaintextError = tryPlaintextError(frame);
		if (plaintextError) {
			// Unauthenticated: whoever holds the port can send it, so it means "not now", whatever it claims.
			this.finish('unverified_refusal', unverifiedRefusal(this.options, plaintextError));
			return;
		}
		const hello = parseRelayHello(frame);
		const hash = transcriptHash(this.hello!, hello.identity, hello.ephemeral);
		if (!verifyTranscript(hello.identity, hash, hello.signature)) {
			throw new ProtocolError('handshake_failed', 'the relay signature does not verify');
		}
		const keys = deriveSessionKeys(this.ephemeral!.privateKey, hello.ephemeral, hash);
		this.handshake = {relayIdentity: hello.identity, transcriptHash: hash};
		clearTimeout(this.deadline);
		const {host, port} = this.options;
		const relay: RelayInfo = {host, port, fingerprint: fingerprint(hello.identity)};
		this.relay = relay;
		// reached: whatever happens now is this connection's own outcome
		this.retrying = undefined;
		this.opener = new FrameOpener(keys.relayToClient, this.limits.maxBatchMessages);
		this.sealer = new FrameSealer(keys.clientToRelay);
		const socket = this.socket!;
		this.writer = new BatchWriter(this.sealer, frame => socket.writable && socket.write(frame), this.limits);

		const pin = this.pins.check(host, port, hello.identity);
		// Checked on every connection, reconnects included: a relay whose key changed is refused.
		if (pin.state === 'match') {
			this.trusted(relay);
		} else if (pin.state === 'changed') {
			this.emit('relay-changed', relay, fingerprint(pin.pinned));
			this.refuse(`the relay at ${host}:${port} presents a different key from the one pinned`);
		} else if (this.options.trustFingerprint !== undefined) {
			if (parseFingerprint(this.options.trustFingerprint) === relay.fingerprint) {
				this.pins.pin(host, port, hello.identity);
				this.trusted(relay);
			} else {
				this.refuse(`the relay's fingerprint does not match --trust`);
			}
		} else {
			this.setStatus('verifying');
			let decided = false;
			const decide = (trust: boolean) => {
				if (decided) return;
				decided = true;
				if (this.socket !== socket || this.ended) {
					this.decidedLate(hello.identity, trust);
					return;
				}
				this.deciding = undefined;
				if (!trust) {
					this.refuse('you did not trust the relay');
					return;
				}
				this.pins.pin(host, port, hello.identity);
				this.trusted(relay);
				const held = this.held;
				this.held = [];
				for (const frame of held) if (!this.ended) this.encryptedFrame(frame);
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

	/**
	 * Frames that arrive while the user decides wait, a few at most: an honest relay sends one
	 * (login_request), so a relay that floods before it is trusted is cut off rather than buffered.
	 */
	private hold(frame: string): void {
		if (this.held.length >= maxHeldFrames) {
			this.refuse('the relay sent too much before it was trusted');
			return;
		}
		this.held.push(frame);
	}

	private trusted(relay: RelayInfo): void {
		this.startHeartbeat();
		this.setStatus('login');
		this.emit('relay-trusted', relay);
	}

	private refuse(message: string): void {
		this.finish('refused_relay', message);
	}

	private startHeartbeat(): void {
		const {heartbeatIntervalMs, idleTimeoutMs} = this.limits;
		this.lastHeard = Date.now();
		this.heartbeat = setInterval(() => {
			const quiet = Date.now() - this.lastHeard;
			if (quiet >= idleTimeoutMs) this.finish('idle_timeout', `the relay sent nothing for ${Math.round(quiet / 1000)} s`);
			else if (quiet >= heartbeatIntervalMs) this.queue({type: 'ping', nonce: this.pingNonce++});
		}, Math.min(heartbeatIntervalMs, idleTimeoutMs) / 2);
		this.heartbeat.unref();
	}

	private encryptedFrame(frame: string): void {
		this.lastHeard = Date.now();
		try {
			for (const raw of this.opener!.open(frame)) {
				if (this.ended) return;
				this.dispatch(parseRelayMessage(raw));
			}
		} catch (error) {
			if (error instanceof ProtocolError) {
				this.finish(error.code, error.message);
				return;
			}
			throw error;
		}
	}

	private dispatch(message: RelayMessage): void {
		switch (message.type) {
			case 'login_request': {
				// Back after a drop: the same name again, with the identity on disk; or the name given meanwhile.
				const name = this.resumeAs ?? this.waitingName;
				this.waitingName = undefined;
				if (name !== undefined) this.login(name);
				else this.emit('login-request');
				return;
			}
			case 'welcome': {
				const login = this.pendingLogin;
				if (!login || login.username !== message.username) {
					throw new ProtocolError('bad_message', 'welcome for a login this client did not send');
				}
				const listed = message.users.length + (message.more ?? 0);
				if (listed > this.limits.maxDirectoryRecords) {
					const most = this.limits.maxDirectoryRecords.toLocaleString('en-US');
					this.finish('directory_too_large', `the relay lists ${listed.toLocaleString('en-US')} users, more than the ${most} this client takes`);
					return;
				}
				if (this.session === undefined && !this.openSession(login)) return;
				this.username = login.username;
				this.directory = {users: [...message.users], missing: message.more ?? 0, welcome: message};
				this.completeWelcome();
				return;
			}
			case 'directory': {
				const directory = this.directory;
				if (!directory || message.users.length > directory.missing) {
					throw new ProtocolError('bad_message', 'directory records nobody announced');
				}
				directory.users.push(...message.users);
				directory.missing -= message.users.length;
				this.completeWelcome();
				return;
			}
			case 'found':
				this.session?.found(message);
				return;
			case 'online':
				this.session?.whoAnswered(message.users, message.total);
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
				} else if (message.ref !== null && this.session?.lookupRefused(message.ref, message.code, message.message)) {
					// invalid_username about a lookup (its ref) is no login error
					return;
				} else if (loginErrors.has(message.code)) {
					// Logging in again by itself was refused: for now (throttled, registration closed),
					// tried again later; or for good (the relay no longer takes this identity).
					const forNow = this.resumeAs !== undefined && reconnectCodes.has(message.code);
					if (!forNow) this.emit('login-error', {code: message.code, message: message.message});
					if (this.resumeAs !== undefined) this.finish(message.code, message.message);
				} else {
					if (message.ref !== null) this.session?.refused(message.ref, message.code);
					else if (message.code === 'rate_limited') this.session?.droppedWithoutRef();
					this.emit('relay-error', {code: message.code, message: message.message, ref: message.ref});
				}
		}
	}

	/** The account's contacts and outbox, opened at its first welcome; false (and closed) if a file is unreadable. */
	private openSession(login: {username: string; keys: IdentityKeys}): boolean {
		const account = this.account;
		try {
			if (account === undefined || account.closed || account.username !== login.username) throw new Error("this account's database is not open");
			const {contacts, outbox: store} = account;
			this.outbox = new Outbox(this.limits, changes => store.save(changes), store.load());
			this.session = new ChatSession(
				new EndToEnd(login.username, login.keys, contacts),
				this.outbox,
				(event, ...args) => (this.emit as (event: string, ...rest: unknown[]) => boolean)(event, ...args),
				() => this.finish('connection_lost', 'logging in again to fetch the messages this device could not save in time'),
				this.limits.whoIntervalMs,
				this.limits.strangerRetryMs,
				account.carryOver,
			);
			return true;
		} catch (error) {
			this.finish('local_error', (error as Error).message);
			return false;
		}
	}

	/** A welcome is complete once every directory record it announced has arrived. */
	private completeWelcome(): void {
		const directory = this.directory;
		if (!directory || directory.missing > 0 || !this.session) return;
		this.directory = undefined;
		const {motd, online, onlineCount, waiting} = directory.welcome;
		const {contacts: users, who} = this.session.welcome(directory.users, online, onlineCount);
		const reconnected = this.resumeAs !== undefined;
		this.resumeAs = this.session.username;
		this.attempt = 0;
		this.session.attach(out => this.queue(out));
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

	/** Ends this connection; then tries again, or stops for good (see reconnectCodes). */
	private finish(code: string, message: string, {destroy = true} = {}): void {
		if (this.ended) return;
		this.ended = true;
		clearTimeout(this.deadline);
		clearInterval(this.heartbeat);
		this.writer?.discard();
		// nothing is sealed or opened on this connection again (queue and receive check `ended`)
		this.sealer?.dispose();
		this.opener?.dispose();
		if (destroy) this.socket?.destroy();
		this.session?.detach();
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
		this.outbox?.flush();
		this.account?.close();
		this.setStatus('closed');
		this.emit('closed', {code, message, ...(lastError === undefined ? {} : {lastError})});
	}

	private setStatus(status: ClientStatus): void {
		if (this.status === status) return;
		this.status = status;
		this.emit('status', status);
	}
}

/** A plaintext error frame, whatever code it names (an unknown one too): the relay's claim, unchecked. */
function tryPlaintextError(frame: string): {code: string; message: string} | undefined {
	try {
		const fields = asObject(JSON.parse(frame));
		if (fields.type !== 'error') return undefined;
		const text = (value: unknown) => (typeof value === 'string' ? value : '');
		return {code: text(fields.code), message: text(fields.message)};
	} catch {
		return undefined;
	}
}

/** What an unauthenticated refusal claimed, labelled as such, inert and cut short. */
function unverifiedRefusal({host, port}: {host: string; port: number}, {code, message}: {code: string; message: string}): string {
	const claim = sanitizeText([code, message].filter(part => part !== '').join(': ')).trim();
	const characters = [...claim];
	const shown = characters.length > maxUnverifiedChars ? `${characters.slice(0, maxUnverifiedChars - 1).join('')}…` : claim;
	return `the relay at ${sanitizeText(relayAddress(host, port))} refused the connection (unverified: "${shown}")`;
}

function definedOnly<T extends object>(options: T): Partial<T> {
	return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
