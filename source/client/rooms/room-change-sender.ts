import {timingSafeEqual} from 'node:crypto';
import {roomEntryToJson} from '../../crypto/room-entry-codec.js';
import {applyChange, entryHash, isFreshEpoch, RoomLogError, type RoomEntry, type RoomState} from '../../crypto/room-log.js';
import {maxStagedKeysPerMessage, type RoomKeyEnvelope} from '../../net/messages.js';
import {newMessageId} from '../end-to-end.js';
import type {RoomContext} from './room-context.js';
import {RoomKeyError} from './room-keeper.js';
import type {ChangeReason, ChangeRequest, MyChange} from './room-sending-store.js';

/** A change refused because another won the race is prepared again at most this many times. */
export const maxChangeTries = 3;
/** An admin's client makes a new key when the epoch's fresh secret is this old. */
export const rekeyAfterMs = 7 * 24 * 60 * 60 * 1000;

/** Refusals of a room_change (its ref is the room): the others of the same ref are about invitations. */
const changeCodes: ReadonlySet<string> = new Set([
	'room_conflict',
	'room_keys',
	'room_needs_rekey',
	'bad_room_change',
	'not_room_admin',
	'not_room_member',
	'no_such_room',
	'room_exists',
	'room_limit',
	'room_full',
	'room_admin_limit',
	'rate_limited',
	'storage_failed',
	'quota_exceeded',
]);
/** After these the same change goes again a little later. */
const laterCodes: ReadonlySet<string> = new Set(['rate_limited', 'storage_failed', 'quota_exceeded']);
/** How long a change the relay could not take now waits before it goes again. */
const laterMs = 5000;
/** After these the change is prepared again on the head as it is then (at most maxChangeTries times). */
const tryAgainCodes: ReadonlySet<string> = new Set(['room_conflict', 'room_keys', 'room_needs_rekey']);

/**
 * The changes this account makes to rooms, one at a time per room, in the order asked, from the
 * database (room_my_changes): prepared (signed on the room's head, with a fresh secret kept until
 * the change comes back in the stream), a 1:1 session with each member who gets a key (their
 * bundles fetched first), the keys sealed and staged (≤ 200 per room_stage), then the room_change.
 * A change another one beat (room_conflict) is prepared again once the stream has caught up, if it
 * still makes sense.
 */
export class ChangeSender {
	/** room → the change (its seq) that went out on this connection, with no outcome yet. */
	readonly #inFlight = new Map<string, number>();
	/** change seq → who gets its key (checking the entry again at each turn would cost a signature check). */
	readonly #recipients = new Map<number, string[]>();
	/**
	 * change seq → the head it was refused on (room_conflict): prepared again only once the stream
	 * brought the change that won, or it would be refused again on the same head.
	 */
	readonly #refusedOn = new Map<number, Buffer>();
	/** Warnings said once per run. */
	readonly #told = new Set<string>();

	constructor(
		private readonly ctx: RoomContext,
		private readonly caughtUp: (room: string) => boolean,
	) {}

	/** Queues a change; false when an equal one waits already. */
	ask(room: string, request: ChangeRequest, why: ChangeReason): boolean {
		const waiting = this.ctx.sending.changes(room);
		if (waiting.some(change => sameRequest(change.request, request))) return false;
		this.ctx.sending.addChange(room, request, why);
		this.ctx.host.schedule();
		return true;
	}

	/** Whether a change of `action` waits (or goes) in `room`. */
	waits(room: string, action: ChangeRequest['action']): boolean {
		return this.ctx.sending.changes(room).some(change => change.request.action === action);
	}

	detach(): void {
		this.#inFlight.clear();
		this.#recipients.clear();
		// After the next login the stream catches up first (caughtUp): the head is then the relay's.
		this.#refusedOn.clear();
	}

	/** The prepared change of mine that `entry` is, if any (the stream applies it with its secret). */
	mine(room: string, entry: RoomEntry): MyChange | undefined {
		const hash = entryHash(entry);
		return this.ctx.sending.changes(room).find(change => change.entry !== undefined && timingSafeEqual(entryHash(change.entry), hash));
	}

	/** A change was applied in `room`: mine has its outcome; the next one may go. */
	applied(room: string, entry: RoomEntry, mine: MyChange | undefined): void {
		if (mine !== undefined) {
			this.#recipients.delete(mine.seq);
			if (this.#inFlight.get(room) === mine.seq) this.#inFlight.delete(room);
		}
		this.ctx.host.schedule();
	}

	/** A refusal whose ref is `room`: true when it was of the change in flight there. */
	refused(room: string, code: string, message: string): boolean {
		const seq = this.#inFlight.get(room);
		if (seq === undefined || !changeCodes.has(code)) return false;
		this.#inFlight.delete(room);
		const change = this.ctx.sending.changes(room).find(waiting => waiting.seq === seq);
		if (change === undefined) return true;
		if (laterCodes.has(code)) {
			// Held until then: sent again as it is.
			this.#inFlight.set(room, seq);
			setTimeout(() => {
				if (this.#inFlight.get(room) === seq) this.#inFlight.delete(room);
				this.ctx.host.schedule();
			}, laterMs).unref();
			return true;
		}
		if (code === 'room_conflict' && change.entry !== undefined) this.#refusedOn.set(change.seq, change.entry.prev);
		if (tryAgainCodes.has(code)) this.#again(change, code, message);
		else this.#drop(change, code, message);
		return true;
	}

	/** Each room's first change, as far as it can go now. */
	pump(): void {
		for (const room of this.ctx.sending.rooms()) {
			try {
				this.#advance(room);
			} catch (error) {
				this.ctx.host.localError(`could not make the change you asked for in #${room}`, error);
			}
		}
	}

	#advance(room: string): void {
		if (this.#inFlight.has(room) || !this.caughtUp(room)) return;
		for (;;) {
			const change = this.#next(room);
			if (change === undefined) return;
			if (change.entry === undefined) {
				const refusedOn = this.#refusedOn.get(change.seq);
				if (refusedOn !== undefined && this.ctx.keeper.state(room)?.head.equals(refusedOn) === true) return;
				this.#refusedOn.delete(change.seq);
				const outcome = this.#prepare(change);
				if (outcome === 'wait') return;
				continue;
			}
			const state = this.ctx.keeper.state(room);
			if (change.entry.index > 0 && (state === undefined || !state.head.equals(change.entry.prev))) {
				// The head moved (another change won, seen in the stream): prepared again on it, or dropped.
				this.#again(change, 'room_conflict', `another change to #${room} came first, and yours was tried ${maxChangeTries + 1} times`);
				continue;
			}
			this.#send(room, change, state);
			return;
		}
	}

	/** The change to work on: the first, or, while the room needs a rekey, the first that gives one. */
	#next(room: string): MyChange | undefined {
		const changes = this.ctx.sending.changes(room);
		if (this.ctx.keeper.state(room)?.needsRekey !== true) return changes[0];
		return changes.find(change => change.request.action === 'rekey' || change.request.action === 'remove' || change.request.action === 'leave') ?? changes[0];
	}

	/**
	 * Signs the change on the head: 'dropped' when it no longer makes sense or cannot be made,
	 * 'wait' while the room needs a rekey first (an admin's client makes one).
	 */
	#prepare(change: MyChange): 'prepared' | 'dropped' | 'wait' {
		const {keeper, sending} = this.ctx;
		if (!this.#sensible(change)) {
			sending.dropChange(change.seq);
			return 'dropped';
		}
		let prepared;
		try {
			prepared = keeper.prepare(change.room, change.request);
		} catch (error) {
			if (!(error instanceof RoomLogError) && !(error instanceof RoomKeyError)) throw error;
			if (error.code === 'needs_rekey') return 'wait';
			this.#drop(change, error.code, error.message);
			return 'dropped';
		}
		sending.prepared(change.seq, prepared.entry, prepared.secret, change.tries);
		this.#recipients.set(change.seq, prepared.recipients);
		return 'prepared';
	}

	/** Whether a change made by this client on its own still makes sense on the room's state as it is now. */
	#sensible(change: MyChange): boolean {
		const view = this.ctx.keeper.room(change.room);
		const {request, why} = change;
		if (why === 'leave') return view?.needsRekey === true;
		if (why === 'age') return view?.needsRekey === true || (view?.epochAge ?? 0) >= rekeyAfterMs;
		if (request.action === 'add') return view?.members.some(member => member.username === request.record.username) !== true;
		if (request.action === 'remove') return view?.members.some(member => member.username === request.member) === true;
		return true;
	}

	/** Prepared again on the head as it will be (cleared now), or dropped after maxChangeTries. */
	#again(change: MyChange, code: string, message: string): void {
		this.#recipients.delete(change.seq);
		if (change.tries + 1 > maxChangeTries) {
			this.#drop(change, code, message);
			return;
		}
		this.ctx.sending.prepared(change.seq, undefined, undefined, change.tries + 1);
		this.ctx.host.schedule();
	}

	#drop(change: MyChange, code: string, message: string): void {
		this.#recipients.delete(change.seq);
		this.ctx.sending.dropChange(change.seq);
		// What the client did by itself and no longer makes sense goes quietly.
		if (change.why === 'user') this.ctx.host.emit('room-error', {room: change.room, code, message});
		this.ctx.host.schedule();
	}

	/** The keys (each member's, sealed in their 1:1 session), staged, then the change. */
	#send(room: string, change: MyChange, state: RoomState | undefined): void {
		const entry = change.entry!;
		const recipients = this.#recipients.get(change.seq) ?? recipientsOf(state, entry, this.ctx.me);
		this.#recipients.set(change.seq, recipients);
		let ready = true;
		for (const name of recipients) {
			if (this.ctx.e2e.hasChangedKey(name)) {
				this.#tell(`${room} ${name}`, room, 'key_changed', `the change to #${room} waits: ${name}'s key changed; compare safety numbers (/verify ${name}) and /trust ${name}, or remove them`);
				ready = false;
			} else if (!this.ctx.e2e.hasSession(name)) {
				this.ctx.host.needSession(name);
				ready = false;
			}
		}
		if (!ready || !this.ctx.host.online()) return;
		const keys: RoomKeyEnvelope[] = [];
		if (recipients.length > 0) {
			const secret = change.secret;
			if (secret === undefined) throw new Error(`the change to #${room} has no key to send`);
			const head = entryHash(entry);
			for (const name of recipients) {
				const envelope = this.ctx.e2e.sealRoomKey(name, newMessageId(), {room, index: entry.index, head, secret});
				if (envelope === undefined) return;
				keys.push({to: name, id: envelope.id, ratchet: envelope.ratchet!, body: envelope.body});
			}
		}
		for (let start = 0; start < keys.length; start += maxStagedKeysPerMessage) {
			if (!this.ctx.host.transmit({type: 'room_stage', room, keys: keys.slice(start, start + maxStagedKeysPerMessage)})) return;
		}
		if (!this.ctx.host.transmit({type: 'room_change', room, entry: roomEntryToJson(entry)})) return;
		this.#inFlight.set(room, change.seq);
	}

	#tell(key: string, room: string, code: string, message: string): void {
		if (this.#told.has(key)) return;
		this.#told.add(key);
		this.ctx.warn(room, code, message);
	}
}

/** Who gets the change's key: every member after a fresh one but its author; the new member of an add; nobody else. */
function recipientsOf(state: RoomState | undefined, entry: RoomEntry, me: string): string[] {
	if (entry.action === 'add') return [entry.record.username];
	if (!isFreshEpoch(entry.action)) return [];
	const after = applyChange(state, entry);
	return [...after.members.keys()].filter(name => name !== me).sort();
}

function sameRequest(a: ChangeRequest, b: ChangeRequest): boolean {
	if (a.action !== b.action) return false;
	switch (a.action) {
		case 'add':
			return a.record.username === (b as typeof a).record.username;
		case 'remove':
		case 'admin':
			return a.member === (b as typeof a).member;
		case 'topic':
		case 'create':
			return a.topic === (b as typeof a).topic;
		default:
			return true;
	}
}
