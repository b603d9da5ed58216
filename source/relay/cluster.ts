/**
 * What a relay core sees of the other relays of its service (several relays on one PostgreSQL,
 * issue 16). The core stays socket- and database-free: postgres/cluster-link.ts implements this
 * over LISTEN/NOTIFY, the relay's lease and the session registry. A core without one is a relay
 * alone. Wake-ups only say "look now": the store is the truth, and a woken relay reads it.
 */

/** What a wake-up names: users with new envelopes queued for them, or rooms with new items in their stream. */
export type WakeKind = 'queued' | 'rooms';

/** What happened to an invitation: `user` was invited to the room, accepted an invitation to it, or declined one. */
export type RoomNoticeKind = 'invited' | 'accepted' | 'declined';

/**
 * A room notice for users on other relays (room-invites.ts): the invitee hears of an invitation,
 * the room's admins of an acceptance, the inviter of a decline. Names only: the relay that hears
 * it reads the invitation from the store (a decline is the invitation gone).
 */
export type RoomNotice = {kind: RoomNoticeKind; room: string; user: string};

/** How many members have read a room message (room_delivered), for its sender on another relay. */
export type RoomReadCount = {room: string; seq: number; id: string; sender: string; delivered: number; of: number};

/** A user's session began (`online`) or ended (`offline`) on some relay of the service. */
export type PresenceChange = 'online' | 'offline';

/** Why this relay no longer holds its lease (postgres/relay-leases.ts LeaseLoss): its sessions must end, others may take its users. */
export type LeaseLossReason = 'expired' | 'reaped' | 'replaced' | 'unconfirmed';

export interface Cluster {
	/** This relay's name among the service's relays: `[a-z0-9_]`, 1 to 40. */
	readonly relayId: string;
	/**
	 * Call after the commit that made something new for `names`: `queued` names users (only those
	 * logged in on another relay are woken, on that relay), `rooms` names rooms (every relay is
	 * woken, this one too). Resolves once sent; rejects if PostgreSQL could not be reached.
	 */
	wake(kind: WakeKind, names: readonly string[]): Promise<void>;
	/** Wake-ups from other relays (and, for rooms, this one's own): `names` is never empty; handlers must not throw. */
	onWake(handler: (kind: WakeKind, names: readonly string[]) => void): void;
	/**
	 * Call after the commit the notice is about: the users `to` logged in on other relays hear it
	 * there (this relay's own sessions are told by the caller). Resolves once sent; rejects if
	 * PostgreSQL could not be reached.
	 */
	tell(notice: RoomNotice, to: readonly string[]): Promise<void>;
	/** Room notices from other relays, for `to` (never empty: users this relay may hold); handlers must not throw. */
	onNotice(handler: (notice: RoomNotice, to: readonly string[]) => void): void;
	/** Sends read counts to their senders' relays (senders logged in here, or nowhere, are left out). Rejects if PostgreSQL could not be reached. */
	tellReadCounts(counts: readonly RoomReadCount[]): Promise<void>;
	/** Read counts from other relays, for senders this relay may hold; handlers must not throw. */
	onReadCounts(handler: (counts: readonly RoomReadCount[]) => void): void;
	/**
	 * Makes `connectionId` `username`'s one session in the whole service, and announces it online
	 * in the same transaction; a session it replaces, here or on another relay, hears onReplaced.
	 * Rejects if PostgreSQL could not be reached or this relay holds no live lease: no login then.
	 */
	claim(username: string, connectionId: string): Promise<void>;
	/** Ends `username`'s session if it is still `connectionId`, announcing it offline in the same transaction (a replaced session's release changes nothing). */
	release(username: string, connectionId: string): Promise<void>;
	/** Tells every relay these users went online or offline (claim and release do it themselves). */
	announce(change: PresenceChange, names: readonly string[]): Promise<void>;
	/**
	 * Joins and leaves on other relays, and users of a dead relay reaped (offline). Names this
	 * relay holds sessions of are left out: its own sessions are the truth for them.
	 */
	onPresence(handler: (change: PresenceChange, names: readonly string[]) => void): void;
	/** `username`'s session `connectionId` on this relay was replaced by a login elsewhere (or here): end it. */
	onReplaced(handler: (username: string, connectionId: string) => void): void;
	/** This relay lost its lease: end every session (their clients reconnect); the link takes a new lease by itself. */
	onLeaseLost(handler: (reason: LeaseLossReason) => void): void;
	/**
	 * Wake-ups may have been missed (the listening connection dropped and is back, or the lease was
	 * taken again): re-read what they would have said (queues of local sessions, presence).
	 */
	onResync(handler: () => void): void;
	/** Users logged in on other relays, in name order after `after`, at most `limit` (≤ 1000): to fill the remote-online set a page at a time. */
	onlineElsewhere(after: string, limit: number): Promise<string[]>;
	/** Releases the lease and this relay's sessions (announced offline), stops listening. */
	stop(): Promise<void>;
}
