import type {ErrorCode} from '../net/error-codes.js';
import type {HistoryEntry, Retention} from './history.js';
export type {HistoryEntry, HistoryDelivery} from './history.js';
export {everyoneConversation} from './history.js';
import type {LookupReason} from './lookups.js';
import type {RoomEvents} from './rooms/room-events.js';

export type {LookupReason} from './lookups.js';
export type {RoomEvents} from './rooms/room-events.js';

/** What a ChatClient tells its listeners. The UI (useChat) and headless bots consume only this. */
export type ClientStatus =
	| 'idle' // created, connect() not called yet
	| 'connecting' // TCP connect and handshake under way
	| 'verifying' // relay unknown: waiting for the user to trust its fingerprint
	| 'login' // handshake done, relay asked for a username
	| 'online' // logged in
	| 'reconnecting' // the connection failed or dropped; the next attempt is due (see the 'reconnecting' event)
	| 'closed'; // over for good (see the 'closed' event for why)

export type RelayInfo = {
	host: string;
	port: number;
	/** Lower-case hex SHA-256 of the relay's Ed25519 public key (64 characters). */
	fingerprint: string;
};

export type ConversationKind = 'direct' | 'everyone';

/** A message that opened end-to-end, was addressed to this user and is not a replay. */
export type IncomingMessage = {
	id: string;
	from: string;
	to: string;
	kind: ConversationKind;
	text: string; // raw text as received: sanitize before display
	/** When the relay accepted it. */
	time: number;
	/** The sender's clock when it was written (from inside the encryption). */
	sent: number;
};

export type RejectionCode = 'replay' | 'unauthenticated' | 'unreadable' | 'old_scheme' | 'misaddressed' | 'malformed' | 'unknown_sender' | 'invalid_identity';

/** What the client knows of a registered user (PROTOCOL.md section 12). */
export type Contact = {
	username: string;
	online: boolean;
	/** The user compared safety numbers and marked this contact verified. */
	verified: boolean;
	/** The relay serves keys different from the pinned ones: nothing is sent until /trust. */
	keyChanged: boolean;
};

export type WelcomeInfo = {
	username: string;
	users: Contact[];
	motd: string | null;
	online: string[];
	onlineCount: number;
	waiting: number;
	reconnected?: boolean;
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
	/**
	 * The relay refused the login, or this device could not open the account: 'passphrase_required'
	 * (its database is encrypted and no passphrase was given), 'wrong_passphrase', 'account_in_use'
	 * (another im-tui has it open), 'local_error' (its database is damaged or unsafe: the message says how).
	 */
	'login-error': [error: {code: ErrorCode | LocalLoginCode; message: string}];
	/**
	 * Logged in; `users` is your contacts (PROTOCOL.md section 4.3: everyone on a small community
	 * relay), online or not, and those you have a conversation with. `online`: the who-is-online view
	 * (at most a few names, not you); `onlineCount`: users online, you included; `waiting`:
	 * envelopes waiting for you as you log in. `reconnected` is true when the client logged in again
	 * by itself after the connection dropped.
	 */
	welcome: [welcome: WelcomeInfo];
	/** A contact logged in (possibly for the first time), or someone became a contact by writing to you. */
	'user-joined': [contact: Contact];
	/**
	 * The answer to lookup `id`: the users found (pinned or checked against their pins, like any
	 * record) and the names nobody is registered as. `reason` says who asked: 'user' (lookup()),
	 * 'carry-over' (the names pinned before that the first welcome did not list), 'sender' (an
	 * envelope came from someone with no pin).
	 */
	found: [found: {id: string; reason: LookupReason; users: Contact[]; missing: string[]}];
	/**
	 * Once per run, after the first welcome: the names pinned on this device that it did not list
	 * (contacts of an older version) were looked up; `found` of `names` are contacts now. `complete`
	 * is false when the relay refused a lookup (lookup_throttled) and the rest were not asked.
	 */
	'carried-over': [carried: {names: number; found: number; complete: boolean}];
	/** The relay refused lookup `id` (lookup_throttled, invalid_username: `message` says why and how long to wait). */
	'lookup-failed': [failure: {id: string; names: string[]; reason: LookupReason; code: string; message: string}];
	/** The who-is-online view, asked again; `asked`: the answer to who(), not to the client's own periodic ask. */
	online: [online: {names: string[]; total: number; asked: boolean}];
	'user-left': [username: string];
	/** A contact's verified or key-changed state changed (after /trust, /verify, or a changed key). */
	'contact-updated': [contact: Contact];
	message: [message: IncomingMessage];
	/**
	 * The relay has message `id` safe: on its disk, or acknowledged by the recipient's client (not
	 * yet confirmed end to end); once per copy of a message to everyone.
	 */
	accepted: [ack: {id: string; time: number}];
	/** The recipient's client confirmed, end to end, that it received message `id`. */
	delivered: [receipt: {id: string; by: string}];
	/** `missing` envelopes from `from` never arrived (withheld or lost by the relay). */
	gap: [gap: {from: string; missing: number}];
	/**
	 * An envelope or user record was dropped. 'replay' is also what a harmless redelivery looks like
	 * (the relay did not get the ack before a reconnect), so UIs need not alarm anyone about it.
	 */
	rejected: [rejection: {from: string; code: RejectionCode; reason: string}];
	/** Envelopes from a contact whose key changed wait behind the warning until trust(from); `count` is how many wait in all. */
	held: [held: {from: string; count: number}];
	/**
	 * A message waiting to be sent was dropped without going out: `to`'s key changed and you trusted
	 * the new one, which cannot open what was sealed for the old one.
	 */
	unsent: [unsent: {id: string; to: string; reason: string}];
	/**
	 * The secure session with `with` was rebuilt (PROTOCOL.md section 14.5). `by` 'me': this device
	 * could not read their messages (its session was lost, or restored from an older copy), and they
	 * send again what it did not confirm. `by` 'them': their device lost its session; what they did
	 * not confirm is sent again (`resent` texts).
	 */
	'session-reset': [reset: {with: string; by: 'me' | 'them'; resent: number}];
	/** A non-fatal error, e.g. recipient_offline for message `ref`. */
	'relay-error': [error: {code: ErrorCode; message: string; ref: string | null}];
	/** This device could not save something (a full disk); the client retries by itself. */
	'local-error': [error: {message: string}];
	announcement: [announcement: {text: string; time: number}];
	/**
	 * The connection failed or dropped, and the client tries again by itself at `at` (ms since the
	 * epoch; attempt `attempt` since connect() or the last login). `code` and `message` say why, as
	 * in 'closed'. After a login, what you send waits in the outbox until it is back. Before the
	 * first login (the relay could not be reached when the client started, or dropped it before the
	 * login), it asks for a name again once back: 'login-request', as on a first connection (unless
	 * login() was called meanwhile). `code` 'unverified_refusal': something on the relay's port
	 * refused the connection before the handshake; `message` quotes its claim, labelled unverified,
	 * sanitized and cut short. 'directory_too_large': the relay lists more users than the client
	 * takes (maxDirectoryRecords). 'registration_closed' or 'login_throttled': logging in again by
	 * itself was refused for now.
	 */
	reconnecting: [reconnect: {attempt: number; at: number; code: string; message: string}];
	/**
	 * The client is over for good: you closed it, or it will not try again (see reconnectCodes).
	 * `code` is a protocol error code (PROTOCOL.md section 5) or one of: 'shutdown' (the relay is
	 * going down), 'closed' (either side closed), 'connect_failed', 'connection_lost',
	 * 'refused_relay' (pin mismatch, --trust mismatch, or the user said no), 'local_error' (a file
	 * of this account could not be read), or a login error when logging in again was refused for
	 * good. With reconnect off, also any code 'reconnecting' names.
	 *
	 * `lastError` is set only when you closed the client (code 'closed') while it was trying again to
	 * reach a relay it had not logged in to yet, before an attempt reached the relay: the failure it
	 * was trying again after (e.g. connect_failed, "could not reach host:port (ECONNREFUSED)"). The
	 * client never got in: a UI can exit with an error and say why.
	 */
	closed: [reason: {code: string; message: string; lastError?: {code: string; message: string}}];
} & RoomEvents;

/** Login errors of this device, not of the relay: see the 'login-error' event. */
export const localLoginCodes: ReadonlySet<string> = new Set(['passphrase_required', 'wrong_passphrase', 'account_in_use', 'local_error'] satisfies LocalLoginCode[]);

export type LocalLoginCode = 'passphrase_required' | 'wrong_passphrase' | 'account_in_use' | 'local_error';

/** Emits one of the client's events, typed (what ChatSession and its parts are given). */
export type Emit = <E extends keyof ClientEvents>(event: E, ...args: ClientEvents[E]) => void;

export type ClientOptions = {
	host: string;
	port: number;
	/** Path of known_relays.json (PROTOCOL.md section 7). */
	knownRelaysPath: string;
	/** Where identities, contact pins and counters live (per relay fingerprint and username). */
	dataDir: string;
	/** Encrypts the account's database; a login() without a passphrase uses this one. */
	passphrase?: string;
	/** How long messages are kept on this device (default: forever). */
	retention?: Retention;
	/** Pre-trusted fingerprint (hex, spaces and case ignored) for an unknown relay. */
	trustFingerprint?: string;
	/**
	 * How to try again after a drop, or after a failure before the first login (on by default);
	 * false: either closes the client for good.
	 */
	reconnect?: false | Partial<ReconnectOptions>;
};

/** Backoff between attempts to reconnect: initialDelayMs, doubling up to maxDelayMs, with jitter. */
export type ReconnectOptions = {
	initialDelayMs: number;
	maxDelayMs: number;
	/** Returns a number in [0, 1): each delay is between half and all of its step. */
	random: () => number;
};

/** The face of ChatClient (source/client/chat-client.ts) that the UI and bots use. */
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
	/**
	 * Answers login-request (or retries after login-error). Before the first login, while the client
	 * is between connections (reconnecting, or connecting again), the name waits for the next
	 * connection, which is tried at once. Throws otherwise when not connected.
	 */
	login(username: string, passphrase?: string): void;
	/** Your contacts as last heard (see the welcome event), and those you have a conversation with. */
	readonly contacts: Contact[];
	/**
	 * Looks users up by name (each case-folded; throws on one that is not a username, and when too
	 * many lookups wait). Returns the lookup ids that 'found' or 'lookup-failed' will name. Before
	 * the first login, or after the client closed, throws; while reconnecting, it goes out once back.
	 */
	lookup(names: readonly string[]): string[];
	/** Asks the relay again who is online: an 'online' event with `asked` answers. Nothing while offline. */
	who(): void;
	/**
	 * Encrypts text end to end for a user and sends it; returns the message id that 'accepted',
	 * 'delivered' or 'relay-error' will name. While reconnecting it waits in the outbox and goes
	 * out once the client is back. Throws before the first login, after the client closed, when
	 * the outbox is full, or when the contact's key changed.
	 */
	send(to: string, text: string): string;
	/**
	 * Sends one copy to everyone online, each encrypted for its recipient, all with one id; returns
	 * the id and who it went to. Contacts whose key changed are left out (nothing is sent to an
	 * unaccepted key); with nobody online the list is empty and nothing is sent. Throws unless online:
	 * while reconnecting, nobody is known to be online.
	 */
	sendToEveryone(text: string): {id: string; recipients: string[]};
	/** Accepts a contact's changed key: pins it and opens the messages held behind the warning. */
	/**
	 * With `safetyNumber`, trusts only if the waiting key still has that number (the one the user
	 * compared), and throws otherwise.
	 */
	trust(username: string, safetyNumber?: string): void;
	/** Marks a contact verified (after comparing safety numbers) or not. */
	setVerified(username: string, verified: boolean): void;
	/**
	 * The safety number with a contact: 40 hex digits, the same on both sides. While the contact's
	 * key change waits for trust(), it is computed over the new key: the one to compare before trusting.
	 */
	safetyNumber(username: string): string;
	/**
	 * Up to `limit` kept messages of `conversation` (a username, or everyoneConversation) before
	 * history seq `before` (the newest when absent), oldest first. Empty before the first login and
	 * with history off. Mine carry their delivery state as last known.
	 */
	history(conversation: string, options: {before?: number; limit: number}): HistoryEntry[];
	/** The conversations with kept messages, the most recent first, each with the history seq of its newest. */
	historyConversations(): Array<{conversation: string; newest: number}>;
	/** Up to `limit` kept messages of `conversation` from history seq `seq` on, oldest first: where a search result jumps to. */
	historyFrom(conversation: string, seq: number, limit: number): HistoryEntry[];
	/** The newest kept messages, in every conversation, holding every word of `words` (as prefixes, case and accents ignored). */
	search(words: string, limit?: number): HistoryEntry[];
	/**
	 * Deletes the kept history of `conversation` on this device for real (rows, search index, the
	 * database's journal); the other side's copy is theirs. Returns how many messages went.
	 */
	forget(conversation: string): number;
	/** Adds, changes, or (undefined) removes the passphrase that encrypts this account on this device. */
	setPassphrase(passphrase: string | undefined): void;
	/**
	 * Before login: whether `username` has an account on this device for the relay connected to
	 * ('absent': a first start), and whether a passphrase encrypts it. Undefined before the relay is known.
	 */
	accountState(username: string): AccountState | undefined;
	/** Tells the relay goodbye and closes; resolves once the socket is closed. */
	close(): Promise<void>;
}

/** See ChatConnection.accountState: 'legacy' is an account of a release before 0.3, imported at login. */
export type AccountState = 'absent' | 'plain' | 'encrypted' | 'legacy';
