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
	/** The relay pings a connection that has been quiet this long... */
	heartbeatIntervalMs: number;
	/** ...and drops one that has sent nothing for this long. */
	idleTimeoutMs: number;
	/** A connection whose unread output grows past this is dropped: one slow reader cannot grow the relay. */
	maxBufferedBytes: number;
};

export const defaultRelayLimits: RelayLimits = {
	...protocolDefaults,
	maxQueuedPerUser: 1000,
	maxQueueAgeMs: 30 * 24 * 60 * 60 * 1000,
	loginTimeoutMs: 120_000,
	maxConnections: 1000,
	maxBufferedBytes: 4 * 1024 * 1024,
};
