import type {FatalErrorCode} from '../net/error-codes.js';
import type {RelayMessage} from '../net/messages.js';
import type {AddressGroups} from './address-groups.js';

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
	/** Whether the connection's unread output is small enough to queue more now. */
	hasRoom(): boolean;
	/** The login went through: the connection is no longer pending (its frames may be larger now). */
	loggedIn?(): void;
	/** The session had as many messages waiting as it takes, and has worked through half: the connection may read again. */
	drained?(): void;
};

/** Where a session's connection comes from, and the handshake its login proof signs. */
export type SessionContext = {remote: string; address: AddressGroups; transcriptHash: Buffer};

export type LeaveReason = 'quit' | 'disconnected' | 'timeout' | 'error' | 'shutdown' | 'replaced' | 'evicted';
