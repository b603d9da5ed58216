import {roomEntryFromJson, type RoomEntryJson} from '../../crypto/room-entry-codec.js';
import {isFreshEpoch, RoomLogError, type RoomEntry} from '../../crypto/room-log.js';
import type {RoomChangeItem, RoomMessageItem, WelcomeRoom} from '../../net/messages.js';
import type {SessionChange} from '../ratchet/ratchet-sessions.js';
import {CatchUp} from './room-catch-up.js';
import type {RoomContext} from './room-context.js';
import {addLogPage, maxLogEntries, type JoinLog} from './room-join-log.js';
import {RoomKeyError, roomKeySecret, type ChangeLine} from './room-keeper.js';
import {logHolds, takeHistory} from './room-made-again.js';
import {keyChangedWarning, MemberPins} from './room-pins.js';
import type {MyChange} from './room-sending-store.js';

/** Items of one room kept in memory while its log is fetched: past it they are dropped, and sent again after a reconnect. */
export const maxWaitingItems = 1000;

type Item = RoomChangeItem | RoomMessageItem;

/** A room whose items wait: for the log entries before the change that adds this account. */
type Waiting = {items: Item[]; log?: JoinLog; dropped: boolean};

/** What the stream tells the rest of the session. */
export type StreamHooks = {
	/** This account's prepared change that `entry` is, if it is one (its fresh secret is kept with it). */
	mine(room: string, entry: RoomEntry): MyChange | undefined;
	/** A change was applied (committed): what follows from it (retries, rekeys, texts to seal again); `mine`: it was this one of mine. */
	applied(room: string, entry: RoomEntry, mine: MyChange | undefined): void;
};

/**
 * Each room's stream, processed strictly in seq order: a change item is applied with the key that
 * came with it, opened from its author's 1:1 session, in one transaction; a message item is opened
 * and kept in the history in one transaction. What was processed is acknowledged (room_ack,
 * cumulative, once per room per turn). The first item of a room this account was just added to
 * waits for the room's log before it. A change that cannot be applied stalls the room with a
 * warning; a failure of this device's storage leaves the item unacknowledged, for the relay to send
 * again after a reconnect.
 */
export class RoomStream {
	readonly #waiting = new Map<string, Waiting>();
	/** room → the seq to acknowledge at the end of the turn. */
	readonly #acks = new Map<string, number>();
	/** How far each room's stream went when this connection logged in. */
	readonly #catchUp: CatchUp;
	/** Rooms whose items this connection no longer processes (this device could not save one). */
	readonly #broken = new Set<string>();
	readonly #pins: MemberPins;

	constructor(
		private readonly ctx: RoomContext,
		private readonly hooks: StreamHooks,
	) {
		this.#catchUp = new CatchUp(ctx);
		this.#pins = new MemberPins(ctx);
	}

	welcomed(rooms: readonly WelcomeRoom[]): void {
		this.#catchUp.welcomed(rooms);
	}

	/** The connection is gone: what waited, and what was not acknowledged, comes again after the next login. */
	detach(): void {
		this.#catchUp.detach();
		this.#waiting.clear();
		this.#acks.clear();
		this.#broken.clear();
	}

	/** Whether this account has read the room's stream as far as the relay had it at login, and nothing waits. */
	caughtUp(room: string): boolean {
		return !this.#waiting.has(room) && this.#catchUp.caughtUp(room);
	}

	/** The acknowledgements of this turn, once each. */
	takeAcks(): Array<{room: string; seq: number}> {
		const acks = [...this.#acks].map(([room, seq]) => ({room, seq}));
		this.#acks.clear();
		return acks;
	}

	receive(item: Item): void {
		if (this.#broken.has(item.room)) return;
		const waiting = this.#waiting.get(item.room);
		if (waiting !== undefined) {
			if (waiting.items.length < maxWaitingItems) waiting.items.push(item);
			else waiting.dropped = true;
			return;
		}
		this.#process(item);
	}

	/** A room_log answer: the entries before the change that adds this account, in pages. */
	logAnswered(room: string, entries: readonly RoomEntryJson[]): void {
		const log = this.#waiting.get(room)?.log;
		if (log === undefined) return;
		try {
			addLogPage(log, room, entries);
		} catch (error) {
			this.#giveUp(room, `could not read the log of #${room} (${(error as Error).message}); it is asked again at the next login`);
			return;
		}
		if (log.entries.length < log.index) {
			this.ctx.host.transmit({type: 'room_log', room, from: log.entries.length});
			return;
		}
		const held = this.#isMember(room);
		try {
			takeHistory(this.ctx, room, log.entries);
		} catch (error) {
			if (!(error instanceof RoomLogError)) {
				this.#broke(room, error);
				return;
			}
			if (held) {
				this.#notJoined(room, error.message);
				return;
			}
			this.#giveUp(room, `the log of #${room} does not hold together (${error.message}); it is asked again at the next login`);
			return;
		}
		this.#pins.pinMembers(room);
		const waiting = this.#waiting.get(room)!;
		delete waiting.log;
		this.#drain(room, waiting);
	}

	/** A refusal whose ref is `room`: true when it was of the log this stream asked for (its items then wait for the next login). */
	refused(room: string, message: string): boolean {
		if (this.#waiting.get(room)?.log === undefined) return false;
		this.#giveUp(room, `could not fetch the log of #${room} (${message}); it is asked again at the next login`);
		return true;
	}

	/** The log before an add of me to a room I am in starts that room (or an older one): the add does not follow, the rest goes on. */
	#notJoined(room: string, why: string): void {
		const waiting = this.#waiting.get(room)!;
		delete waiting.log;
		const add = waiting.items.shift()!;
		this.#stall(room, add.seq, `you were added to #${room} again, which you are in (${why})`);
		this.#drain(room, waiting);
	}

	#drain(room: string, waiting: Waiting): void {
		for (;;) {
			const item = waiting.items.shift();
			if (item === undefined) break;
			this.#process(item, waiting);
			if (waiting.log !== undefined || this.#broken.has(room)) return;
		}
		this.#waiting.delete(room);
		if (waiting.dropped) this.ctx.host.redeliver();
	}

	#giveUp(room: string, message: string): void {
		// Not acknowledged: the relay sends the room's items again after the next login.
		this.#waiting.delete(room);
		this.#broken.add(room);
		this.ctx.warn(room, 'room_stalled', message);
	}

	#broke(room: string, error: unknown): void {
		this.#waiting.delete(room);
		this.#broken.add(room);
		this.ctx.host.localError(`could not save what came in #${room}`, error);
	}

	#process(item: Item, waiting?: Waiting): void {
		try {
			if (item.type === 'room_message') this.#message(item);
			else this.#change(item, waiting);
		} catch (error) {
			this.#broke(item.room, error);
		}
	}

	#ack(room: string, seq: number): void {
		this.#acks.set(room, Math.max(seq, this.#acks.get(room) ?? 0));
		this.ctx.host.schedule();
	}

	#isMember(room: string): boolean {
		const status = this.ctx.keeper.room(room)?.status;
		return status === 'member' || status === 'stalled';
	}

	#message(item: RoomMessageItem): void {
		const {keeper, e2e, history} = this.ctx;
		const {room, seq, from} = item;
		if (!this.#isMember(room) || seq <= keeper.position(room)) {
			this.#ack(room, Math.max(seq, keeper.position(room)));
			return;
		}
		if (e2e.hasChangedKey(from)) {
			keeper.skip(room, seq);
			this.ctx.host.emit('room-rejected', {room, from, code: 'key_changed', reason: keyChangedWarning(room, from)});
			this.#ack(room, seq);
			return;
		}
		const opened = this.ctx.atomically(() => {
			const result = keeper.open(item);
			if (result.type === 'text') history?.roomReceived({room, id: result.id, from, text: result.text, sent: result.sent, time: result.time});
			return result;
		});
		if (opened.type === 'text') {
			const {id, text, time, sent} = opened;
			this.ctx.host.emit('room-message', {room, seq, id, from, text, time, sent});
		} else {
			this.ctx.host.emit('room-rejected', {room, from, code: opened.code, reason: opened.reason});
		}
		this.#ack(room, seq);
	}

	#change(item: RoomChangeItem, waiting: Waiting | undefined): void {
		const {keeper, me} = this.ctx;
		const {room, seq} = item;
		let entry: RoomEntry;
		try {
			entry = roomEntryFromJson(item.entry);
			if (entry.room !== room) throw new RoomLogError('bad_change', 'the change is of another room');
		} catch (error) {
			this.#stall(room, seq, `the relay sent a malformed change (${(error as Error).message})`);
			return;
		}
		const member = this.#isMember(room);
		const joining = entry.action === 'add' && entry.record.username === me && entry.index > 0;
		// An add of this account to a room it is in, which its log here does not hold: the room may
		// be over and its name made again (whose stream starts over at seq 1). Its log decides.
		const again = member && joining && waiting === undefined && !logHolds(this.ctx, room, entry);
		if (member && !again && seq <= keeper.position(room)) {
			this.#ack(room, keeper.position(room));
			return;
		}
		if ((!member || again) && joining) {
			// Drained after its log came (waiting set): applied now. Otherwise the log is asked first.
			if (waiting === undefined) {
				if (entry.index > maxLogEntries) {
					this.#stall(room, seq, `the change that adds you claims ${entry.index} changes before it`);
					return;
				}
				this.#waiting.set(room, {items: [item], log: {index: entry.index, entries: []}, dropped: false});
				this.ctx.host.transmit({type: 'room_log', room, from: 0});
				return;
			}
		} else if (!member && !(entry.action === 'create' && entry.author === me)) {
			// A room this account is not in: nothing to follow.
			this.#ack(room, seq);
			return;
		}
		this.#apply(item, entry);
	}

	#apply(item: RoomChangeItem, entry: RoomEntry): void {
		const {keeper, e2e, me} = this.ctx;
		const {room, seq} = item;
		const mine = entry.author === me ? this.hooks.mine(room, entry) : undefined;
		const keyed = isFreshEpoch(entry.action) || (entry.action === 'add' && entry.record.username === me);
		let session: {change?: SessionChange; unreadable: boolean} | undefined;
		let line: ChangeLine | undefined;
		try {
			line = this.ctx.atomically(() => {
				let secret = mine?.secret;
				if (secret === undefined && keyed && entry.author !== me && item.key !== undefined) {
					if (item.key.from !== entry.author || item.key.to !== me) throw new RoomKeyError('wrong_secret', 'its key is not from its author to you');
					const opened = e2e.openRoomKey(entry.author, item.key);
					session = {change: opened.change, unreadable: opened.type === 'rejected' && opened.reset === true};
					if (opened.type === 'rejected') throw new RoomKeyError('wrong_secret', `its key did not open (${opened.reason})`);
					secret = roomKeySecret(opened.payload, entry);
				}
				const applied = keeper.applyChange(entry, seq, secret);
				if (mine !== undefined) this.ctx.sending.dropChange(mine.seq);
				return applied;
			});
		} catch (error) {
			if (error instanceof RoomKeyError) {
				// Rolled back: what opening the key did to the author's sessions did not happen (that it could not be read still counts).
				if (session !== undefined) session = {unreadable: session.unreadable};
				line = this.#applyStalled(item, entry, `change ${entry.index} brought no key this device can read (${error.message}): messages are unreadable until the next new key`);
				if (line === undefined) return;
				if (mine !== undefined) this.ctx.sending.dropChange(mine.seq);
			} else if (error instanceof RoomLogError) {
				this.#stall(room, seq, `a change does not follow the last change you have (${error.message})`);
				return;
			} else {
				throw error;
			}
		}
		this.ctx.notFollowing.delete(room);
		if (session !== undefined) this.ctx.host.sessionChanged(entry.author, session.change, session.unreadable);
		this.#pins.pinChange(room, entry);
		this.ctx.host.emit('room-change', {...line, seq});
		this.ctx.roomsChanged();
		this.#ack(room, seq);
		this.hooks.applied(room, entry, mine);
	}

	/** A verified change whose key this device cannot read: the room follows its log, stalled; undefined when it does not follow either. */
	#applyStalled(item: RoomChangeItem, entry: RoomEntry, note: string): ChangeLine | undefined {
		try {
			const wasStalled = this.ctx.keeper.room(item.room)?.status === 'stalled';
			const line = this.ctx.keeper.applyStalled(entry, item.seq, note);
			if (!wasStalled) this.ctx.warn(item.room, 'room_stalled', `#${item.room} is stalled: ${note}`);
			return line;
		} catch (error) {
			if (!(error instanceof RoomLogError)) throw error;
			this.#stall(item.room, item.seq, `a change does not follow the last change you have (${error.message})`);
			return undefined;
		}
	}

	/** A change that cannot be applied: the room stops following its log; later items are acknowledged and judged as they come. */
	#stall(room: string, seq: number, why: string): void {
		this.ctx.keeper.skip(room, seq);
		// Said once while the room does not follow its log, not at every change after.
		if (!this.ctx.notFollowing.has(room)) this.ctx.warn(room, 'room_stalled', `#${room} is stalled: ${why}`);
		if (this.#isMember(room)) this.ctx.notFollowing.set(room, why);
		this.ctx.roomsChanged();
		this.#ack(room, seq);
	}

}
