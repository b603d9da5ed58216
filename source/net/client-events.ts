import type {ErrorCode} from './error-codes.js';

/** What a ChatClient tells its listeners. The UI (useChat) and headless bots consume only this. */
export type ClientStatus =
	| 'idle' // created, connect() not called yet
	| 'connecting' // TCP connect and handshake under way
	| 'verifying' // relay unknown: waiting for the user to trust its fingerprint
	| 'login' // handshake done, relay asked for a username
	| 'online' // logged in
	| 'closed'; // connection over (see the 'closed' event for why)

export type RelayInfo = {
	host: string;
	port: number;
	/** Lower-case hex SHA-256 of the relay's Ed25519 public key (64 characters). */
	fingerprint: string;
};

export type IncomingMessage = {
	id: string;
	from: string;
	to: string;
	text: string; // raw text as received: sanitize before display
	time: number;
};

export type ClientEvents = {
	status: [status: ClientStatus];
	/**
	 * The relay's key is not pinned yet: call decide(true) to pin it and go on, decide(false) to refuse.
	 * If the relay closed the connection while the user was deciding, a yes reconnects by itself.
	 */
	'relay-unknown': [relay: RelayInfo, decide: (trust: boolean) => void];
	/** The relay presents a different key from the pinned one: the client has closed the connection. */
	'relay-changed': [relay: RelayInfo, pinnedFingerprint: string];
	/** The relay is trusted (pinned before, or just now). */
	'relay-trusted': [relay: RelayInfo];
	'login-request': [];
	'login-error': [error: {code: ErrorCode; message: string}];
	welcome: [welcome: {username: string; users: string[]; motd: string | null}];
	'user-joined': [username: string];
	'user-left': [username: string];
	message: [message: IncomingMessage];
	/** The relay handed message `id` to the recipient. */
	sent: [ack: {id: string; time: number}];
	/** A non-fatal error, e.g. recipient_offline for message `ref`. */
	'relay-error': [error: {code: ErrorCode; message: string; ref: string | null}];
	announcement: [announcement: {text: string; time: number}];
	/**
	 * The connection is over. `code` is a protocol error code (PROTOCOL.md section 5) or one of:
	 * 'shutdown' (the relay is going down), 'closed' (either side closed), 'connect_failed',
	 * 'connection_lost', 'refused_relay' (pin mismatch, --trust mismatch, or the user said no).
	 */
	closed: [reason: {code: string; message: string}];
};

export type ClientOptions = {
	host: string;
	port: number;
	/** Path of known_relays.json (PROTOCOL.md section 7). */
	knownRelaysPath: string;
	/** Pre-trusted fingerprint (hex, spaces and case ignored) for an unknown relay. */
	trustFingerprint?: string;
};

/** The face of ChatClient (source/net/chat-client.ts) that the UI and bots use. */
export interface ChatConnection {
	readonly status: ClientStatus;
	/** Set once the relay's hello has been verified. */
	readonly relay: RelayInfo | undefined;
	/** The logged-in name, once welcomed. */
	readonly username: string | undefined;
	on<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this;
	off<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this;
	/** Opens the connection and runs the handshake. Progress arrives as events. */
	connect(): void;
	/** Answers login-request (or retries after login-error). Throws when not connected. */
	login(username: string): void;
	/** Sends text to a user; returns the message id that 'sent' or 'relay-error' will name. Throws unless online. */
	send(to: string, text: string): string;
	/** Tells the relay goodbye and closes; resolves once the socket is closed. */
	close(): Promise<void>;
}
