import type {DeliveredEnvelope, Envelope} from '../net/messages.js';

/** What the relay keeps across restarts. RelayCore sees only this interface; sqlite-store.ts implements it. */
export type StoredUser = {username: string; identity: string; x25519: string; binding: string; registeredAt: number};

export type NewEnvelope = Envelope & {from: string; time: number};

export type EnqueueResult = {delivery: number; duplicate: boolean};

export interface RelayStore {
	users(): StoredUser[];
	registerUser(user: StoredUser): void;
	/** Commits all of them in one transaction; a resend (same from, id and to) is not stored twice. */
	enqueue(envelopes: readonly NewEnvelope[]): EnqueueResult[];
	/** Up to `limit` envelopes waiting for `recipient` with a delivery number above `after`, oldest first. */
	queued(recipient: string, after: number, limit: number): DeliveredEnvelope[];
	queueCounts(): Map<string, number>;
	/** Deletes these deliveries if they are `recipient`'s; returns how many were deleted. */
	ack(recipient: string, deliveries: readonly number[]): number;
	/** Deletes envelopes accepted before `time`; returns how many. */
	purgeOlderThan(time: number): number;
	close(): void;
}
