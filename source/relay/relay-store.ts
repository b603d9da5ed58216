import type {DeliveredEnvelope, Envelope} from '../net/messages.js';
import type {QueueSnapshot} from './queue-ledger.js';

/** What the relay keeps across restarts. RelayCore sees only this interface; sqlite-store.ts implements it. */
export type StoredUser = {
	username: string;
	identity: string;
	x25519: string;
	binding: string;
	registeredAt: number;
	/** Used again after it was registered (a second login or a message): it never lapses. */
	confirmed: boolean;
};

export type NewEnvelope = Envelope & {from: string; time: number};

/** An envelope with the delivery number the relay gave it when it accepted it. */
export type NumberedEnvelope = NewEnvelope & {delivery: number};

export interface RelayStore {
	users(): StoredUser[];
	registerUser(user: StoredUser): void;
	confirmUser(username: string): void;
	/** Names registered before `time` and never confirmed, oldest first. */
	lapsedUsers(time: number): string[];
	/** Deletes the user and every envelope waiting for it. */
	deleteUser(username: string): void;
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
	/** What waits, per recipient (envelopes, body bytes) and per sender (body bytes). */
	queueTotals(): QueueSnapshot;
	/** Deletes these deliveries if they are `recipient`'s; returns the sender and body bytes of each one deleted. */
	ack(recipient: string, deliveries: readonly number[]): Array<{sender: string; bytes: number}>;
	/** Deletes envelopes accepted before `time`; returns how many. */
	purgeOlderThan(time: number): number;
	close(): void;
}
