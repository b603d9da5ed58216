/** What the relay keeps of rooms (design rooms.md section 5); sqlite-rooms.ts implements it. */

/** A room's row: its state but the members (B64U head), and the last stream position handed out. */
export type StoredRoom = {
	room: string;
	index: number;
	head: string;
	creator: string;
	topic: string;
	needsRekey: boolean;
	lastSeq: number;
};

/**
 * One who reads a room's stream: a member (`until` null), or one who left or was removed and still
 * reads up to its departure item `until` (the row goes once it has read it). `position` is the last
 * item it acknowledged. The record is the member's as the log has it (B64U).
 */
export type StoredMember = {
	member: string;
	admin: boolean;
	position: number;
	until: number | null;
	identity: string;
	x25519: string;
	binding: string;
};

export type RoomItemKind = 'change' | 'message';

/**
 * An item of a room's stream, stored once whoever reads it: `json` is the relay message as sent
 * (without a member's key), `of` the members it was for when it was sent (the sender not counted),
 * `delivered` how many of them have read it, `bytes` what it costs its sender's quota, keys included.
 */
export type StoredRoomItem = {
	room: string;
	seq: number;
	kind: RoomItemKind;
	sender: string;
	id: string;
	time: number;
	json: string;
	of: number;
	bytes: number;
};

/** An item as a member's backlog reads it, with that member's key for a change (JSON), if any. */
export type RoomItemRead = {seq: number; kind: RoomItemKind; sender: string; json: string; key: string | null};

/** Items of one sender and kind waiting in a room. */
export type ItemCount = {sender: string; kind: RoomItemKind; count: number};

/** An item deleted: what it cost its sender. */
export type DeletedItem = {sender: string; kind: RoomItemKind; bytes: number};

/** A message item whose read count moved. */
export type DeliveredCount = {seq: number; id: string; sender: string; delivered: number; of: number};

/** An invitation (design section 4): signed by `inviter`; `accept` set once the invitee accepted. */
export type StoredInvite = {room: string; invitee: string; inviter: string; nonce: string; signature: string; accept: string | null; time: number};

/**
 * Bytes of a room_log row beyond its entry's JSON. A log entry is kept as long as its room: it
 * counts against its author's stored bytes (and the relay's) until the room is deleted, or one
 * admin could fill the disk with topic changes at the message rate.
 */
export const roomLogOverhead = 64;

/** A room of a member's, as its login reads it. */
export type MemberRoom = {room: string; admin: boolean; position: number; until: number | null; lastSeq: number};

/**
 * Every read is a point read or a bounded range of an index: a room's members (at most
 * maxRoomMembers, and those still reading their departure), a member's rooms (maxRoomsPerUser and
 * departures), a page of items, a room's invites (maxInvitesPerRoom), an invitee's (maxInvitesPerUser).
 * Writes that belong together run inside RelayStore.batch.
 */
export interface RoomStore {
	room(room: string): StoredRoom | undefined;
	/** Inserts or replaces the room's row. */
	saveRoom(room: StoredRoom): void;
	/**
	 * Deletes the room and everything of it: log, members, items, keys, invites; returns the sender
	 * and bytes of each deleted item and of each log entry (its author's, see roomLogOverhead).
	 */
	deleteRoom(room: string): Array<{sender: string; bytes: number}>;
	appendLog(room: string, index: number, entry: string): void;
	/** Up to `limit` log entries (JSON) of index `from` and after, in order. */
	roomLog(room: string, from: number, limit: number): string[];
	roomMembers(room: string): StoredMember[];
	/** Inserts or replaces a member's row. */
	saveMember(room: string, member: StoredMember): void;
	setAdmin(room: string, member: string): void;
	/** The member left or was removed at item `until`: it reads up to it. */
	departMember(room: string, member: string, until: number): void;
	deleteMember(room: string, member: string): void;
	setPosition(room: string, member: string, position: number): void;
	/** The rooms `member` is a member of (not departed). */
	memberRoomCount(member: string): number;
	/** The rooms `member` reads: memberships and departures not yet read. */
	memberRooms(member: string): MemberRoom[];
	/** Whether `a` and `b` are members of one room. */
	sharesRoom(a: string, b: string): boolean;
	/** Whether `member` has a row in `room` (a member, or one who left and has not read its departure yet): one point read. */
	hasReader(room: string, member: string): boolean;
	insertRoomItem(item: StoredRoomItem): void;
	/** The message `id` from `sender` still waiting in `room`, if any: a resend is answered with it, not stored twice. */
	roomMessageById(room: string, sender: string, id: string): {seq: number; time: number} | undefined;
	/** Each member's key (JSON) of the change item `seq`. */
	insertRoomKeys(room: string, seq: number, keys: ReadonlyArray<{member: string; json: string}>): void;
	/** Deletes `member`'s keys of items up to `seq`. */
	deleteRoomKeys(room: string, member: string, seq: number): void;
	/** Items waiting in the room per sender and kind. */
	roomItemCounts(room: string): ItemCount[];
	/** Up to `limit` items after `after`, oldest first, with `member`'s key of each change. */
	roomItems(room: string, member: string, after: number, limit: number): RoomItemRead[];
	/** `member` read the items in (after, upTo]: each message item not its own counts one more delivery. */
	markDelivered(room: string, member: string, after: number, upTo: number): DeliveredCount[];
	/** Deletes the items up to `seq` (everyone read them) with their keys; returns each one's sender, kind and bytes. */
	deleteReadItems(room: string, seq: number): DeletedItem[];
	/** Bytes of the items waiting and of the log entries kept, per sender (author): what the quotas count. */
	roomItemTotals(): Array<{sender: string; bytes: number}>;
	invite(room: string, invitee: string): StoredInvite | undefined;
	/** Inserts or replaces the invitation of `invitee` to `room`. */
	saveInvite(invite: StoredInvite): void;
	acceptInvite(room: string, invitee: string, accept: string): void;
	deleteInvite(room: string, invitee: string): void;
	/** Invitations waiting for the room, for the invitee, and for the invitee from `inviter`. */
	inviteCounts(room: string, invitee: string, inviter: string): {room: number; invitee: number; inviter: number};
	/** Up to `limit` invitations to `invitee` not yet accepted, oldest first. */
	invitesFor(invitee: string, limit: number): StoredInvite[];
	/** Up to `limit` accepted invitations to `room` (each waits for an admin's add). */
	acceptedInvites(room: string, limit: number): StoredInvite[];
	/** Deletes items accepted before `itemsBefore` (with their keys) and invitations made before `invitesBefore`. */
	purgeRooms(itemsBefore: number, invitesBefore: number): {items: number; invites: number};
}
