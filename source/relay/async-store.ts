import type {DeliveredEnvelope, OneTimePrekey, PrekeyCount, SignedPrekey} from '../net/messages.js';
import type {QueueSnapshot} from './queue-ledger.js';
import type {ClaimedBundle, ContactKind, NewEnvelope, StoredUser} from './relay-store.js';
import type {
	DeletedItem,
	DeliveredCount,
	ItemCount,
	MemberRoom,
	RoomItemRead,
	StoredInvite,
	StoredMember,
	StoredRoom,
	StoredRoomItem,
} from './room-store.js';

/** An envelope as the store took it: its delivery number, and whether it was stored (false: a resend of one queued already, whose number this is). */
export type EnqueuedEnvelope = {delivery: number; stored: boolean};

/**
 * The rooms part of AsyncRelayStore: RoomStore's methods, each answered by a promise, with the
 * same meaning (room-store.ts), and three that let several relays share one room safely.
 */
export interface AsyncRoomStore {
	room(room: string): Promise<StoredRoom | undefined>;
	saveRoom(room: StoredRoom): Promise<void>;
	/** Inserts the room's row; false (and nothing written) if a room of that name exists. */
	createRoom(room: StoredRoom): Promise<boolean>;
	/**
	 * Replaces the room's row if its log index is still `expectedIndex` (compare-and-swap on the
	 * head); false (and nothing written) if another change got there first or the room is gone.
	 */
	moveRoomHead(room: StoredRoom, expectedIndex: number): Promise<boolean>;
	/**
	 * Takes `count` stream positions after the room's last one and returns the first; inside a
	 * batch the room's row stays locked until the commit, so positions become visible in order
	 * (no reader that has seen position n later finds a committed n - 1 it skipped).
	 */
	takeRoomSeqs(room: string, count: number): Promise<number>;
	deleteRoom(room: string): Promise<Array<{sender: string; bytes: number}>>;
	appendLog(room: string, index: number, entry: string): Promise<void>;
	roomLog(room: string, from: number, limit: number): Promise<string[]>;
	roomMembers(room: string): Promise<StoredMember[]>;
	saveMember(room: string, member: StoredMember): Promise<void>;
	setAdmin(room: string, member: string): Promise<void>;
	departMember(room: string, member: string, until: number): Promise<void>;
	deleteMember(room: string, member: string): Promise<void>;
	setPosition(room: string, member: string, position: number): Promise<void>;
	memberRoomCount(member: string): Promise<number>;
	memberRooms(member: string): Promise<MemberRoom[]>;
	sharesRoom(a: string, b: string): Promise<boolean>;
	hasReader(room: string, member: string): Promise<boolean>;
	insertRoomItem(item: StoredRoomItem): Promise<void>;
	roomMessageById(room: string, sender: string, id: string): Promise<{seq: number; time: number} | undefined>;
	insertRoomKeys(room: string, seq: number, keys: ReadonlyArray<{member: string; json: string}>): Promise<void>;
	deleteRoomKeys(room: string, member: string, seq: number): Promise<void>;
	roomItemCounts(room: string): Promise<ItemCount[]>;
	roomItems(room: string, member: string, after: number, limit: number): Promise<RoomItemRead[]>;
	markDelivered(room: string, member: string, after: number, upTo: number): Promise<DeliveredCount[]>;
	deleteReadItems(room: string, seq: number): Promise<DeletedItem[]>;
	roomItemTotals(): Promise<Array<{sender: string; bytes: number}>>;
	invite(room: string, invitee: string): Promise<StoredInvite | undefined>;
	saveInvite(invite: StoredInvite): Promise<void>;
	acceptInvite(room: string, invitee: string, accept: string): Promise<void>;
	deleteInvite(room: string, invitee: string): Promise<void>;
	inviteCounts(room: string, invitee: string, inviter: string): Promise<{room: number; invitee: number; inviter: number}>;
	invitesFor(invitee: string, limit: number): Promise<StoredInvite[]>;
	acceptedInvites(room: string, limit: number): Promise<StoredInvite[]>;
	purgeRooms(itemsBefore: number, invitesBefore: number): Promise<{items: number; invites: number}>;
}

/**
 * What the relay keeps, asked asynchronously, so that it can live in PostgreSQL shared by several
 * relays (postgres/pg-store.ts) or in the embedded SQLite file (sqlite-async.ts over
 * sqlite-store.ts). Each method means what RelayStore's of the same name does (relay-store.ts);
 * the differences are written here. Every read stays a point read or a bounded range of an index.
 *
 * Several relays may call one store at once: every method is atomic on its own, and `batch` is one
 * transaction. What two relays may race on is said where it matters (registerUser, enqueue,
 * claimBundle, createRoom, moveRoomHead, takeRoomSeqs).
 */
export interface AsyncRelayStore extends AsyncRoomStore {
	/** Which kind of store this is: for logs, and for the limits that say whether they hold per relay or for the service. */
	readonly kind: 'sqlite' | 'postgres';
	user(username: string): Promise<StoredUser | undefined>;
	usersNamed(usernames: readonly string[]): Promise<StoredUser[]>;
	/** Registered names, kept by the store as users come and go (never a count of the table). */
	userCount(): Promise<number>;
	firstUsernames(limit: number): Promise<string[]>;
	/** Registers the name; false (and nothing written) if it is registered already, by this relay or another. */
	registerUser(user: StoredUser): Promise<boolean>;
	confirmUser(username: string): Promise<void>;
	lapsedUsers(time: number): Promise<string[]>;
	deleteUser(username: string): Promise<void>;
	contactNames(owner: string, limit: number): Promise<string[]>;
	contactCounts(owner: string): Promise<{chosen: number; inbound: number}>;
	contactKind(owner: string, contact: string): Promise<ContactKind | undefined>;
	addContact(owner: string, contact: string, kind: ContactKind, time: number): Promise<boolean>;
	chooseContact(owner: string, contact: string): Promise<boolean>;
	evictOldestInbound(owner: string): Promise<string | undefined>;
	watchers(contact: string, limit: number): Promise<string[]>;
	/**
	 * Runs `work` in one transaction with `tx`, a store bound to it: every call `work` makes goes
	 * through `tx`, and a `batch` of `tx` runs inside the same transaction. Commits when `work`
	 * resolves; rolls back and rejects when it rejects or the commit fails. Calls on the outer
	 * store meanwhile are other transactions (on SQLite they wait until this one ends).
	 */
	batch<T>(work: (tx: AsyncRelayStore) => Promise<T>): Promise<T>;
	/**
	 * Commits all of them in one transaction and gives each its delivery number: per recipient,
	 * numbers only grow, and grow in commit order (once a reader has seen number n for a recipient,
	 * no number below n for that recipient commits later, whichever relay enqueued it), so a
	 * backlog read after the last number seen misses nothing. A resend (same from, id and to) is
	 * not stored twice: it is answered with the queued copy's number and `stored: false`.
	 *
	 * `wake` (PostgreSQL only; SQLite ignores it): the enqueuing relay of a cluster. Recipients
	 * logged in on other relays are woken (a `queued` wake-up on their relay's channel) in the
	 * committing statement, so a wake-up is sent if and only if the envelopes commit.
	 */
	enqueue(envelopes: ReadonlyArray<NewEnvelope & {delivery?: number}>, wake?: {relayId: string}): Promise<EnqueuedEnvelope[]>;
	/**
	 * Only on a store one relay owns alone (SQLite): a delivery number handed out at once, without a
	 * transaction, so the relay may forward an envelope before it is committed; given to enqueue
	 * with the envelope, it is kept. A store several relays share (PostgreSQL) has none: its numbers
	 * come from enqueue, in commit order.
	 */
	takeDelivery?(): number;
	queued(recipient: string, after: number, limit: number): Promise<DeliveredEnvelope[]>;
	queueTotals(): Promise<QueueSnapshot>;
	ack(recipient: string, deliveries: readonly number[]): Promise<Array<{sender: string; bytes: number}>>;
	prekeyCount(username: string): Promise<PrekeyCount>;
	savePrekeys(username: string, signed: SignedPrekey | undefined, oneTime: readonly OneTimePrekey[], maxOneTime: number): Promise<PrekeyCount>;
	/** As RelayStore's: a one-time prekey is handed out once, whichever relays claim at the same moment. */
	claimBundle(username: string, oneTime: boolean): Promise<ClaimedBundle | undefined>;
	purgeOlderThan(time: number): Promise<number>;
	close(): Promise<void>;
}
