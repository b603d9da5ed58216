/** An error of the PostgreSQL store that carries a code, as PostgreSQL's own (SQLSTATE) and Node's socket errors do. */
export class StoreError extends Error {
	constructor(
		message: string,
		readonly code: string,
		options?: {cause?: unknown},
	) {
		super(message, options);
		this.name = 'StoreError';
	}
}

/**
 * The errors pg and pg-pool raise without a code, each given the SQLSTATE that says what happened
 * (class 08: connection exception), so that every failure of the store reaches the relay with one.
 */
const codeless: ReadonlyArray<[RegExp, string]> = [
	[/timeout exceeded when trying to connect|connection timeout/i, '08001'],
	[/not queryable|after calling end on the pool|Connection terminated$/i, '08003'],
	[/terminated unexpectedly|connection error|read timeout/i, '08006'],
];

/** The error, with a code if pg left it without one (a connection lost mid-query, a closed pool). */
export function withCode(error: unknown): unknown {
	if (!(error instanceof Error) || typeof (error as {code?: unknown}).code === 'string') return error;
	for (const [pattern, code] of codeless) {
		if (pattern.test(error.message)) return Object.assign(error, {code});
	}
	return error;
}

export function errorCode(error: unknown): string | undefined {
	const code = error instanceof Error ? (error as {code?: unknown}).code : undefined;
	return typeof code === 'string' ? code : undefined;
}

const unavailableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '53300']);

/**
 * Whether the error says PostgreSQL could not be reached or went away (the call may succeed once it
 * is back), not that the call itself was refused: SQLSTATE 08 (connection exception), 57P01 to
 * 57P03 (shut down, crashed, not yet accepting connections), too many connections, a socket error.
 */
export function isStoreUnavailable(error: unknown): boolean {
	const code = errorCode(error);
	if (code === undefined) return false;
	return code.startsWith('08') || /^57P0[1-3]$/.test(code) || unavailableCodes.has(code);
}
