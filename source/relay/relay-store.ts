import type {DeliveredEnvelope, Envelope} from '../net/messages.js';

/** What the relay keeps across restarts. RelayCore sees only this interface; sqlite-store.ts implements it. */
export type StoredUser = {username: string; identity: string; x25519: string; binding: string; registeredAt: number};

export type NewEnvelope = Envelope & {from: string; time: number};

/** An envelope with the delivery number the relay gave it when it accepted it. */
export type NumberedEnvelope = NewEnvelope & {delivery: number};

export interface RelayStore {
	users(): StoredUser[];
	registerUser(user: StoredUser): void;
	/**
	 * Commits all of them in one transaction; a resend (same from, id and to) is not stored twice.
	 * Says for each whether it was stored (false: a copy was already queued).
	 */
	enqueue(envelopes: readonly NumberedEnvelope[]): boolean[];
	/**
	 * Reserves `count` delivery numbers above every number reserved before, across restarts, and
	 * returns the first: a number handed out but never committed is not reused after a crash.
	 */
	reserveDeliveries(count: number): number;
	/** Up to `limit` envelopes waiting for `recipient` with a delivery number above `after`, oldest first. */
	queued(recipient: string, after: number, limit: number): DeliveredEnvelope[];
	queueCounts(): Map<string, number>;
	/** Deletes these deliveries if they are `recipient`'s; returns how many were deleted. */
	ack(recipient: string, deliveries: readonly number[]): number;
	/** Deletes envelopes accepted before `time`; returns how many. */
	purgeOlderThan(time: number): number;
	close(): void;
}
