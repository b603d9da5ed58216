import type {DeliveredEnvelope, Envelope, OneTimePrekey, PrekeyCount, SignedPrekey} from '../net/messages.js';
import type {QueueSnapshot} from './queue-ledger.js';
import type {RoomStore} from './room-store.js';

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

/** Chosen: the owner looked the name up or wrote to it. Inbound: the name wrote to the owner, who has not chosen it. */
export type ContactKind = 'chosen' | 'inbound';

export type NewEnvelope = Envelope & {from: string; time: number};

/** An envelope with the delivery number the relay gave it when it accepted it. */
export type NumberedEnvelope = NewEnvelope & {delivery: number};

/** A bundle taken from the store: the signed prekey, the one-time prekey deleted with it (if asked and any), and the one-time prekeys left. */
export type ClaimedBundle = {signed: SignedPrekey; oneTime: OneTimePrekey | null; remaining: number};

/**
 * Every read is a point read or a bounded range of an index: nothing here grows with the number of
 * registered users but userCount's one count at open.
 */
export interface RelayStore extends RoomStore {
	user(username: string): StoredUser | undefined;
	/** The registered ones among `usernames` (at most a few hundred), in name order: one indexed read each. */
	usersNamed(usernames: readonly string[]): StoredUser[];
	/** Registered names: counted when the store opens, then kept. */
	userCount(): number;
	/** The first `limit` registered names, in name order. */
	firstUsernames(limit: number): string[];
	registerUser(user: StoredUser): void;
	confirmUser(username: string): void;
	/** Names registered before `time` and never confirmed, oldest first. */
	lapsedUsers(time: number): string[];
	/** Deletes the user, every envelope waiting for it, its contacts both ways, its prekeys and the room invitations to it and from it. */
	deleteUser(username: string): void;
	/** The first `limit` contacts of `owner`, in name order. */
	contactNames(owner: string, limit: number): string[];
	/** How many contacts of each kind `owner` has. */
	contactCounts(owner: string): {chosen: number; inbound: number};
	contactKind(owner: string, contact: string): ContactKind | undefined;
	/** Adds the edge, made at `time`; says whether it is new. The caller keeps the counts under their caps. */
	addContact(owner: string, contact: string, kind: ContactKind, time: number): boolean;
	/** Runs `work` in one transaction: many writes, one commit. A commit that fails throws and keeps none. */
	batch<T>(work: () => T): T;
	/** Makes an inbound edge chosen; says whether there was one. */
	chooseContact(owner: string, contact: string): boolean;
	/** Deletes `owner`'s oldest inbound edge (by when it was made, then name); returns its contact. */
	evictOldestInbound(owner: string): string | undefined;
	/** Up to `limit` accounts that have `contact` as a contact. */
	watchers(contact: string, limit: number): string[];
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
	/** The user's one-time prekeys held and its signed prekey's id. */
	prekeyCount(username: string): PrekeyCount;
	/**
	 * In one commit: `signed` replaces the signed prekey held, and each one-time prekey whose id is
	 * not held yet is added while the pool holds fewer than `maxOneTime`. Returns what is held then.
	 */
	savePrekeys(username: string, signed: SignedPrekey | undefined, oneTime: readonly OneTimePrekey[], maxOneTime: number): PrekeyCount;
	/**
	 * The user's signed prekey and, if `oneTime`, its one-time prekey of the lowest id, deleted in
	 * the same commit (never handed out twice); undefined if it has no signed prekey.
	 */
	claimBundle(username: string, oneTime: boolean): ClaimedBundle | undefined;
	/** Deletes envelopes accepted before `time`; returns how many. */
	purgeOlderThan(time: number): number;
	/** The delivery number of the envelope queued from `from` with `id` for `to`, if one is. */
	queuedDelivery(from: string, id: string, to: string): number | undefined;
	/**
	 * A transaction spanning awaits (sqlite-async.ts): begin, then commit or roll back. A batch
	 * inside it is a savepoint. The caller lets nothing else use the store meanwhile.
	 */
	begin(): void;
	commit(): void;
	rollback(): void;
	close(): void;
}
