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
};

export const defaultRelayLimits: RelayLimits = {
	maxFrameBytes: 262_144,
	maxBatchMessages: 1024,
	maxBodyBytes: 16_384,
	maxQueuedPerUser: 1000,
	maxQueueAgeMs: 30 * 24 * 60 * 60 * 1000,
	handshakeTimeoutMs: 10_000,
	loginTimeoutMs: 120_000,
	maxConnections: 1000,
	heartbeatIntervalMs: 30_000,
	idleTimeoutMs: 75_000,
};
