import type {Buffer} from 'node:buffer';
import {publicIdentity, type IdentityKeys} from '../../crypto/identity.js';
import {isValidRoomName, signAccept, verifyInvite, type RoomEntry, type RoomState} from '../../crypto/room-log.js';
import type {SqliteDatabase} from '../store/account-database.js';
import {PendingSecrets, type RoomAccount} from './room-account.js';
import {applyRoomChange, applyRoomHistory} from './room-changes.js';
import {openRoomItem, sealRoomText} from './room-messages.js';
import {prepareRoomChange, type PreparedChange, type RoomChange} from './room-prepare.js';
import {RoomStore, type SentDelivery, type StoredInvite} from './room-store.js';
import type {ChangeLine, RoomMessageItem, RoomOpened, RoomView} from './room-types.js';
import {invitedView, roomView} from './room-view.js';

export {RoomKeyError, roomKeySecret, type RoomKeyErrorCode} from './room-key-error.js';
export type {PreparedChange, RoomChange} from './room-prepare.js';
export type {SentDelivery, StoredInvite} from './room-store.js';
export type {ChangeLine, RoomMessageItem, RoomOpened, RoomRejection, RoomStatus, RoomView} from './room-types.js';

/**
 * One account's rooms (design of issue 15, sections 1 to 3 and 6), without any networking: the
 * verified state and log of each room, the sender chains of its current epoch, invitations, and
 * the messages this account sent. Each call that takes a stream item commits everything it changes
 * in one transaction, which joins the caller's when there is one.
 */
export class RoomKeeper {
	readonly #account: RoomAccount;
	readonly #pending = new PendingSecrets();

	constructor(db: SqliteDatabase, username: string, identity: IdentityKeys, clock: () => number = Date.now) {
		this.#account = {store: new RoomStore(db), username, identity, clock};
	}

	get #store(): RoomStore {
		return this.#account.store;
	}

	/** Rooms this account has state of, then invitations to rooms it has none of. */
	rooms(): RoomView[] {
		const now = this.#account.clock();
		const rooms = this.#store.rooms();
		const known = new Set(rooms.map(room => room.room));
		return [...rooms.map(room => roomView(room, now)), ...this.#store.invites().filter(invite => !known.has(invite.room)).map(invitedView)];
	}

	room(name: string): RoomView | undefined {
		const stored = this.#store.room(name);
		if (stored !== undefined) return roomView(stored, this.#account.clock());
		const invite = this.#store.invite(name);
		return invite === undefined ? undefined : invitedView(invite);
	}

	state(name: string): RoomState | undefined {
		return this.#store.room(name)?.state;
	}

	/**
	 * Applies a change at stream position `seq`. For a fresh epoch `secret` is the epoch secret of
	 * its room_key payload (see roomKeySecret), or none for this account's own change (kept since
	 * prepare()); a derived epoch is computed from the stored next secret, except this account's
	 * own add, whose secret its author sent. Throws RoomLogError or RoomKeyError with nothing written.
	 */
	applyChange(entry: RoomEntry, seq: number, secret?: Buffer): ChangeLine {
		return applyRoomChange(this.#account, this.#pending, entry, seq, secret);
	}

	/**
	 * Applies a verified change whose key this account could not read (missing, or wrong): the room
	 * follows its log but is 'stalled', with `note` for the UI, until a fresh epoch it can read.
	 */
	applyStalled(entry: RoomEntry, seq: number, note: string): ChangeLine {
		return applyRoomChange(this.#account, this.#pending, entry, seq, undefined, {note});
	}

	/**
	 * Log entries 0..k-1, fetched before the change k that adds this account: verified and kept, with
	 * no epoch. True when they start a room made again under the name of one this account was still
	 * in (a different create, made later): that one is forgotten, as after a leave.
	 */
	applyHistory(room: string, entries: RoomEntry[]): boolean {
		return applyRoomHistory(this.#account, room, entries);
	}

	/** The last stream position processed: items of the room up to it were applied or judged. */
	position(room: string): number {
		return this.#store.summary(room)?.position ?? 0;
	}

	/** Moves past item `seq` without applying it (a change the caller could not apply and warned of). */
	skip(room: string, seq: number): void {
		const stored = this.#store.summary(room);
		if (stored !== undefined && seq > stored.position) this.#store.setPosition(room, seq);
	}

	/** The room's log as this account keeps it: entries with index > `after`, at most `limit`. */
	log(room: string, after = -1, limit = 100): RoomEntry[] {
		return this.#store.log(room, after, limit);
	}

	seal(room: string, id: string, text: string, sent: number): {epoch: string; n: number; body: string; signature: string} {
		return sealRoomText(this.#account, room, id, text, sent);
	}

	open(item: RoomMessageItem): RoomOpened {
		return openRoomItem(this.#account, item);
	}

	prepare(room: string, change: RoomChange): PreparedChange {
		return prepareRoomChange(this.#account, this.#pending, room, change);
	}

	/**
	 * Keeps an invitation whose inviter's record the caller checked (its pinned keys). Its signature
	 * is checked here too; false (nothing kept) if it does not verify. One to a room this account is
	 * in is kept too: the room may be over (deleted on the relay, its name made again) without this
	 * device having heard; accepting it only joins a room whose log starts with another create.
	 */
	saveInvite(invite: StoredInvite): boolean {
		const {room, inviter, record, nonce, signature} = invite;
		if (!isValidRoomName(room) || record.username !== inviter || nonce.length !== 16) return false;
		// Told again (at a login and by another relay at once, say): already shown.
		const known = this.#store.invite(room);
		if (known !== undefined && known.inviter === inviter && known.nonce.equals(nonce)) return false;
		if (!verifyInvite({room, inviter, invitee: this.#account.username, nonce, signature}, record.identity)) return false;
		this.#store.saveInvite(invite);
		return true;
	}

	invites(): StoredInvite[] {
		return this.#store.invites();
	}

	dropInvite(room: string): void {
		this.#store.dropInvite(room);
	}

	/** The acceptance to send for an invitation (room_accept); the invitation stays until the add (or a decline). */
	accept(room: string): {nonce: Buffer; accept: Buffer} {
		const invite = this.#store.invite(room);
		if (invite === undefined) throw new Error(`no invitation to #${room}`);
		const accept = signAccept({room, member: this.#account.username, nonce: invite.nonce}, this.#account.identity.identity.privateKey);
		return {nonce: invite.nonce, accept};
	}

	/** This account's record, as an add of it names it. */
	record(): {username: string; identity: Buffer; x25519: Buffer; binding: Buffer} {
		return {username: this.#account.username, ...publicIdentity(this.#account.identity, this.#account.username)};
	}

	/** The relay accepted this account's message `id` as item `seq` (room_accepted). */
	noteSent(room: string, id: string, seq: number): boolean {
		return this.#store.noteSent(room, id, seq);
	}

	/** room_delivered: `delivered` of `of` members have read past this account's message. */
	delivered(room: string, key: string | number, delivered: number, of: number): boolean {
		if (!Number.isSafeInteger(delivered) || !Number.isSafeInteger(of) || delivered < 0 || of < 0) return false;
		return this.#store.delivered(room, key, delivered, of);
	}

	sent(room: string, id: string): SentDelivery | undefined {
		return this.#store.sent(room, id);
	}

	/** Forgets a room this account is out of (or any room): its state, log, keys and sent marks. */
	forget(room: string): void {
		this.#store.transaction(() => {
			this.#store.forgetRoom(room);
			this.#store.dropInvite(room);
		});
		this.#pending.drop(room);
	}

	/** Forgets expired skipped message keys. */
	prune(): void {
		this.#store.pruneSkipped(this.#account.clock());
	}
}
