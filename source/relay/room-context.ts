import {timingSafeEqual} from 'node:crypto';
import type {RoomLogErrorCode, RoomRecord} from '../crypto/room-log.js';
import {toBase64Url} from '../crypto/base64url.js';
import type {RecoverableErrorCode} from '../net/error-codes.js';
import {errorMessage, type ErrorMessage, type RoomRecordWire} from '../net/messages.js';
import type {RoomNotice, RoomReadCount} from './cluster.js';
import type {Logger} from './logger.js';
import type {LookupGuard} from './lookup-guard.js';
import type {Maybe} from './maybe.js';
import type {QueueLedger} from './queue-ledger.js';
import type {RelayLimits} from './relay-options.js';
import type {AsyncRelayStore} from './async-store.js';
import type {CommitQueue} from './commit-queue.js';
import type {StoredUser} from './relay-store.js';
import type {RoomCache} from './room-cache.js';
import type {RoomStreams} from './room-streams.js';
import type {Session} from './session.js';

/** What the rooms ask of the relay about its users. */
export type RoomRelay = {
	/** An account's record (an online account's from memory), or undefined: not registered. A storage failure rejects. */
	registered: (username: string) => Maybe<StoredUser | undefined>;
	sessionOf: (username: string) => Session | undefined;
	/** Whether the user is logged in on another relay of the service (never, for a relay alone). */
	elsewhere: (username: string) => boolean;
	/** Whether `from` may name `to` for free: otherwise a lookup token (PROTOCOL.md section 4.3). */
	knows: (from: string, to: string) => Maybe<boolean>;
	/** Whether the account may fill the relay's whole store (access-guard.ts hasPriority), not only half. */
	priority: (username: string) => boolean;
	/** A room message or change is a use of the account: it no longer lapses. */
	used: (username: string) => void;
};

/** What the rooms count, for operators: RelayStats has these. */
export type RoomStats = {
	/** Room items sent to members' connections (a live item or one from a backlog). */
	roomDeliveries: number;
	/** room_send messages committed. */
	roomMessages: number;
	/** room_change entries committed. */
	roomChanges: number;
};

export type RoomLimits = Pick<
	RelayLimits,
	| 'maxBodyBytes'
	| 'maxQueueAgeMs'
	| 'maxRoomsPerUser'
	| 'maxRoomMembers'
	| 'maxInvitesPerRoom'
	| 'maxInvitesPerUser'
	| 'maxInviteAgeMs'
	| 'maxRoomItems'
	| 'maxRoomLog'
>;

/** Everything the parts of the room book share. */
export type RoomContext = {
	store: AsyncRelayStore;
	/** The relay's commits, one at a time (commit-queue.ts): room messages and changes, and the 1:1 queue's. */
	commits: CommitQueue;
	limits: RoomLimits;
	clock: () => number;
	log: Logger;
	stats: RoomStats;
	cache: RoomCache;
	streams: RoomStreams;
	/** The queue's: room items count against their sender's bytes once, until deleted. */
	ledger: QueueLedger;
	lookups: LookupGuard;
	relay: RoomRelay;
	/** Tells the other relays sharing the store that these rooms changed (room-wakeups.ts); nothing for a relay alone. */
	wake: (rooms: string[]) => void;
	/** Tells users `to` logged in on other relays of an invitation's news (room-wakeups.ts); nothing for a relay alone. */
	tell: (notice: RoomNotice, to: string[]) => void;
	/** Sends a read count to its sender logged in on another relay (room-wakeups.ts); nothing for a relay alone. */
	tellReadCount: (count: RoomReadCount) => void;
};

/** Bytes of a row of room_items beyond its JSON (its columns and index entries), as queue-ledger.ts counts an envelope's. */
export const roomItemOverhead = 192;

export function refusal(code: RecoverableErrorCode, message: string, ref: string | null): ErrorMessage {
	return errorMessage(code, message, ref);
}

/** What the relay answers when applyChange refuses a change. */
export const changeRefusals: Record<RoomLogErrorCode, RecoverableErrorCode> = {
	bad_change: 'bad_room_change',
	not_admin: 'not_room_admin',
	not_member: 'not_room_member',
	already_member: 'bad_room_change',
	room_full: 'room_full',
	admin_limit: 'room_admin_limit',
	needs_rekey: 'room_needs_rekey',
	last_admin: 'bad_room_change',
	creator: 'bad_room_change',
};

export const storageText = 'the relay could not read or write the room; try again later';

/** A registered user's public record, as rooms carry it. */
export function recordOf(user: StoredUser): RoomRecordWire {
	return {username: user.username, identity: user.identity, x25519: user.x25519, binding: user.binding};
}

/** Whether a record in a log entry is the registered user's (the relay knows whom the name belongs to). */
export function isRegisteredRecord(record: RoomRecord, user: StoredUser): boolean {
	return toBase64Url(record.identity) === user.identity && toBase64Url(record.x25519) === user.x25519 && toBase64Url(record.binding) === user.binding;
}

/** Constant-time equality of two B64U strings (nonces, keys). */
export function sameText(a: string, b: string): boolean {
	const left = Buffer.from(a);
	const right = Buffer.from(b);
	return left.length === right.length && timingSafeEqual(left, right);
}
