/** Protocol-wide defaults both sides use (PROTOCOL.md section 6). */
export const protocolDefaults = {
	maxFrameBytes: 262_144,
	maxBatchMessages: 1024,
	/** Room for 8,192 bytes of text even when every character needs a JSON escape (6 bytes each). */
	maxBodyBytes: 98_304,
	handshakeTimeoutMs: 10_000,
	heartbeatIntervalMs: 30_000,
	idleTimeoutMs: 75_000,
} as const;
