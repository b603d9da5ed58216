/** Stable protocol error codes (PROTOCOL.md section 5). Tests assert these, not the messages. */
export const fatalErrorCodes = [
	'bad_frame',
	'frame_too_large',
	'unsupported_version',
	'handshake_timeout',
	'handshake_failed',
	'bad_token',
	'bad_sequence',
	'bad_message',
	'not_logged_in',
	'login_timeout',
	'server_full',
	'too_many_connections',
	'idle_timeout',
	'session_replaced',
	'flooding',
] as const;

export const recoverableErrorCodes = [
	'invalid_username',
	'reserved_username',
	'username_taken',
	'bad_login',
	'already_logged_in',
	'unknown_recipient',
	'message_too_large',
	'queue_full',
	'storage_failed',
	'rate_limited',
	'registration_closed',
	'login_throttled',
	'quota_exceeded',
	'lookup_throttled',
	'bad_prekey',
	'no_prekeys',
	'bundle_throttled',
	'room_exists',
	'no_such_room',
	'not_room_member',
	'not_room_admin',
	'room_conflict',
	'bad_room_change',
	'room_keys',
	'room_stale',
	'room_needs_rekey',
	'room_limit',
	'room_full',
	'room_admin_limit',
	'invite_limit',
	'room_backlog_full',
] as const;

export type FatalErrorCode = (typeof fatalErrorCodes)[number];
export type RecoverableErrorCode = (typeof recoverableErrorCodes)[number];
export type ErrorCode = FatalErrorCode | RecoverableErrorCode;

const fatalSet: ReadonlySet<string> = new Set(fatalErrorCodes);
const allSet: ReadonlySet<string> = new Set([...fatalErrorCodes, ...recoverableErrorCodes]);

/** The codes that refuse a login (PROTOCOL.md section 5): answered to a `login`, never to anything after it. */
export const loginErrorCodes: ReadonlySet<string> = new Set([
	'invalid_username',
	'reserved_username',
	'username_taken',
	'bad_login',
	'already_logged_in',
	'registration_closed',
	'login_throttled',
]);

export function isFatal(code: ErrorCode): boolean {
	return fatalSet.has(code);
}

export function isErrorCode(value: unknown): value is ErrorCode {
	return typeof value === 'string' && allSet.has(value);
}

/** An error this side detected, carrying the code that goes into the error frame. */
export class ProtocolError extends Error {
	constructor(
		readonly code: ErrorCode,
		message: string,
	) {
		super(message);
		this.name = 'ProtocolError';
	}
}
