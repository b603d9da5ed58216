import {protocolDefaults} from '../net/limits.js';

/** Every bound the relay enforces, as named options with defaults (PROTOCOL.md section 6). */
export type RelayLimits = {
	maxFrameBytes: number;
	maxBatchMessages: number;
	maxBodyBytes: number;
	maxQueuedPerUser: number;
	maxQueueAgeMs: number;
	handshakeTimeoutMs: number;
	loginTimeoutMs: number;
	maxConnections: number;
	/** Open connections from one address (an IPv6 /64 counts as one address), handshake or not. */
	maxConnectionsPerAddress: number;
	/** The relay pings a connection that has been quiet this long... */
	heartbeatIntervalMs: number;
	/** ...and drops one that has sent nothing for this long. */
	idleTimeoutMs: number;
	/** A connection whose unread output grows past this is dropped: one slow reader cannot grow the relay. */
	maxBufferedBytes: number;
	/** Messages a connection may send at once (the token bucket's size). Infinity lifts the limit. */
	rateBurst: number;
	/** Messages a second a connection may keep up once its burst is spent. Infinity lifts the limit. */
	ratePerSecond: number;
	/** Refused messages (refilled at ratePerSecond) before a connection is ended as `flooding`. */
	rateMaxRefused: number;
	/** Joins and leaves are collected for this long and sent as one frame per client. */
	presenceFlushMs: number;
	/**
	 * An envelope forwarded to an online recipient waits in memory for its ack; if none comes within
	 * one to two periods of this, it is committed to disk. Either way its sender hears `accepted` only then.
	 */
	forwardedCommitMs: number;
};

export const defaultRelayLimits: RelayLimits = {
	...protocolDefaults,
	maxQueuedPerUser: 1000,
	maxQueueAgeMs: 30 * 24 * 60 * 60 * 1000,
	loginTimeoutMs: 120_000,
	maxConnections: 1000,
	// A household or an office behind one NAT address fits; one address can hold at most 2% of
	// the relay, so a handshake flood from one machine leaves room for everyone else.
	maxConnectionsPerAddress: 20,
	maxBufferedBytes: 4 * 1024 * 1024,
	// A pasted block of up to 200 lines, or 200 messages sent as fast as a script can, all pass at
	// once (a fixed low limit that breaks pastes is a top complaint about ssh-chat). 100 a second
	// is far beyond typing, and leaves room for what a client sends by itself: one receipt per
	// sender it heard from and one ack per turn, so even a room where 100 people each write every
	// second stays within it. A copy of one # everyone message to each user costs one token.
	rateBurst: 200,
	ratePerSecond: 100,
	// A paste of 1,200 lines is refused after line 200 but keeps the connection; only a client
	// that ignores a thousand refusals in a row without slowing down is dropped.
	rateMaxRefused: 1000,
	// At most four presence frames a second per client, and a reconnect within a window is invisible.
	presenceFlushMs: 250,
	// Long enough for a client on a slow link to ack (most envelopes then never touch the disk),
	// short enough that a sender waits at most a fifth of a second to hear `accepted`.
	forwardedCommitMs: 100,
};
