import {errorMessage, type ErrorMessage, type RoomClientMessage} from '../net/messages.js';
import {endOfTurn} from './end-of-turn.js';
import type {LoadedRoom} from './loaded-room.js';
import {refusal, roomItemOverhead, storageText, type RoomContext} from './room-context.js';
import {roomMessageJson} from './room-json.js';
import {refusedText, TurnedAway, writeItems, type Accepted, type Refused} from './room-send-batch.js';
import type {StoredRoomItem} from './room-store.js';
import {guardStorage, inBackground} from './storage-guard.js';

type RoomSend = RoomClientMessage & {type: 'room_send'};

/** Refusals the room in memory may give wrongly when another relay changed it or read it: given once it was read again. */
const rereadFirst = new Set(['room_stale', 'room_needs_rekey', 'room_backlog_full']);

/**
 * `room_send` (design rooms.md sections 4 and 5): a message is checked against the room in memory,
 * and the messages accepted in one turn of the event loop commit in one transaction (a job of the
 * commit queue, so at most one batch is in flight), where the store gives their positions and
 * checks the room again (room-send-batch.ts: other relays may share it); only then are their
 * senders told and their members sent them. A message waits while a change of its room is under
 * way here: it is checked against the state that change leaves.
 */
export class RoomSends {
	private pending: Accepted[] = [];
	/** The batch being committed: a resend of one of them is left to it. */
	private committing: readonly Accepted[] = [];
	private commitScheduled = false;

	constructor(
		private readonly context: RoomContext,
		/** Settles once the changes under way in a room are done (room-changes.ts); undefined if none is. */
		private readonly changing: (room: string) => Promise<void> | undefined,
		/** A committed message of a sender that had read everything: it has read its own too (room-readers.ts). */
		private readonly passOwn: (item: StoredRoomItem) => void,
		/** The room in memory may be behind the store's (another relay changed it or read from it): read it again (room-wakeups.ts). */
		private readonly stale: (room: string) => Promise<void>,
	) {}

	async send(username: string, message: RoomSend): Promise<ErrorMessage | undefined> {
		const {cache} = this.context;
		const {room: name, id} = message;
		// A store shared with other relays: a refusal the room in memory gives is given again only once it was read again.
		let reread = this.context.store.kind === 'sqlite';
		// Until nothing about the room moved while this message waited for a read.
		for (;;) {
			const change = this.changing(name);
			if (change !== undefined) {
				await change;
				continue;
			}
			const room = await cache.get(name);
			if (room === undefined) return refusal('storage_failed', storageText, id);
			if (room === null) return refusal('no_such_room', `there is no room #${name}`, id);
			if (this.changing(name) !== undefined || cache.peek(name) !== room) continue;
			const state = room.state;
			if (!state.members.has(username)) {
				if (!reread) {
					reread = true;
					await this.stale(name);
					continue;
				}
				return refusal('not_room_member', `you are not a member of #${name}`, id);
			}
			// Before the epoch: a copy taken before a change is answered, not refused stale and sealed again.
			if (await this.resent(username, message)) return undefined;
			if (this.changing(name) !== undefined || cache.peek(name) !== room || room.state !== state) continue;
			const refused = this.take(username, message, room);
			if (refused === undefined || reread || !rereadFirst.has(refused.code)) return refused;
			// Another relay may have moved the epoch, or its members read what fills the backlog here.
			reread = true;
			await this.stale(name);
		}
	}

	/** The message checked and taken, with no await between: its position is the room's next. */
	private take(username: string, message: RoomSend, room: LoadedRoom): ErrorMessage | undefined {
		const {limits, clock, ledger, relay} = this.context;
		const {room: name, id} = message;
		const {members, needsRekey} = room.state;
		if (message.epoch !== room.epoch) return refusal('room_stale', `#${name} has changed: seal the message in its new epoch`, id);
		if (needsRekey) return refusal('room_needs_rekey', `#${name} needs a rekey by an admin before messages go again`, id);
		if (message.body.length > limits.maxBodyBytes) return refusal('message_too_large', `a room message's body is at most ${limits.maxBodyBytes} bytes`, id);
		if (room.waiting() >= limits.maxRoomItems || room.waiting(username) >= limits.maxRoomItems / 4) {
			return refusal('room_backlog_full', `too much waits unread in #${name}; try again once its members have read it`, id);
		}
		// What the store will most likely give (it decides at the commit): the item's bytes are counted with it.
		const seq = room.lastSeq + 1;
		const time = clock();
		const json = roomMessageJson({room: name, seq, time, from: username, id, epoch: message.epoch, n: message.n, body: message.body, signature: message.signature});
		const bytes = json.length + roomItemOverhead;
		if (ledger.checkRoomItem(username, bytes, relay.priority(username)) !== 'ok') {
			return refusal('quota_exceeded', 'you have as much waiting on the relay as it keeps for one sender; wait until it is read', id);
		}
		room.lastSeq = seq;
		room.pending += 1;
		room.itemsAdded(username, 'message');
		ledger.addRoomItem(username, bytes);
		relay.used(username);
		this.pending.push({room, message, item: {room: name, seq, kind: 'message', sender: username, id, time, json, of: members.size - 1, bytes}});
		this.scheduleCommit();
		return undefined;
	}

	/**
	 * A resend of a message still waiting (its sender did not hear `room_accepted`, say after a
	 * drop): answered again, or left to the commit under way, and never stored twice.
	 */
	private async resent(username: string, message: RoomSend): Promise<boolean> {
		const same = ({item}: Accepted): boolean => item.room === message.room && item.sender === username && item.id === message.id;
		if (this.pending.some(same) || this.committing.some(same)) return true;
		const stored = await guardStorage(this.context.log, 'room_send', async () => (await this.context.store.roomMessageById(message.room, username, message.id)) ?? null);
		if (stored === undefined || stored === null) return false;
		this.context.relay.sessionOf(username)?.sink.send({type: 'room_accepted', room: message.room, id: message.id, seq: stored.seq, time: stored.time});
		return true;
	}

	private scheduleCommit(): void {
		if (this.commitScheduled) return;
		this.commitScheduled = true;
		endOfTurn(() => {
			this.commitScheduled = false;
			inBackground(this.context.log, 'room_send', this.context.commits.run(() => this.commitPending()));
		});
	}

	/**
	 * One transaction for the messages pending; then their senders hear `room_accepted` and members
	 * get them. A job of the commit queue (room changes run it first inside theirs). The store gives
	 * each room's positions (takeRoomSeqs, rooms in sorted order so two relays' batches cannot
	 * deadlock) and, under the row's lock, says whether the room is still in the epoch its messages
	 * were sealed in: another relay may have changed it meanwhile. If not, the transaction rolls
	 * back, that room's messages are refused as a relay alone would have refused them, and the rest
	 * commit again.
	 */
	async commitPending(): Promise<void> {
		let batch = this.pending;
		if (batch.length === 0) return;
		this.pending = [];
		this.committing = batch;
		const {store, log, stats, relay, streams} = this.context;
		let written: StoredRoomItem[] | undefined;
		while (batch.length > 0) {
			const attempt = batch;
			const outcome = await guardStorage(log, 'room_send', () =>
				store.batch(tx => writeItems(tx, attempt)).catch((error: unknown) => {
					if (error instanceof TurnedAway) return error;
					throw error;
				}),
			);
			if (outcome === undefined) break;
			if (!(outcome instanceof TurnedAway)) {
				written = outcome;
				break;
			}
			for (const [name, code] of outcome.rooms) {
				this.drop(
					batch.filter(accepted => accepted.item.room === name),
					code,
				);
				void this.stale(name);
			}
			batch = batch.filter(accepted => !outcome.rooms.has(accepted.item.room));
		}
		this.committing = [];
		if (written === undefined) {
			if (batch.length > 0) this.refuse(batch);
			return;
		}
		for (const [index, item] of written.entries()) {
			const room = batch[index]!.room;
			room.pending -= 1;
			room.lastSeq = Math.max(room.lastSeq, item.seq);
			stats.roomMessages += 1;
			relay.sessionOf(item.sender)?.sink.send({type: 'room_accepted', room: item.room, id: item.id, seq: item.seq, time: item.time});
			streams.deliver(room, item);
			this.passOwn(item);
		}
		this.context.wake([...new Set(written.map(item => item.room))]);
	}

	/**
	 * The batch did not commit: its messages, and those of the same rooms accepted after it (they
	 * follow it in their streams), are refused; the senders send them again.
	 */
	private refuse(batch: readonly Accepted[]): void {
		const rooms = new Set(batch.map(accepted => accepted.item.room));
		const later = this.pending.filter(accepted => rooms.has(accepted.item.room));
		this.pending = this.pending.filter(accepted => !rooms.has(accepted.item.room));
		this.drop([...batch, ...later], 'storage_failed');
	}

	/** Messages accepted that will not be stored: their senders hear why, and the room and ledger forget them. */
	private drop(dropped: readonly Accepted[], code: Refused): void {
		const {ledger, relay} = this.context;
		for (const {room, item} of dropped) {
			room.pending -= 1;
			room.lastSeq = Math.min(room.lastSeq, item.seq - 1);
			room.itemsRemoved(item.sender, 'message');
			ledger.removeRoomItem(item.sender, item.bytes);
			relay.sessionOf(item.sender)?.sink.send(errorMessage(code, refusedText[code](item.room), item.id));
		}
	}

	/** Counts the messages not yet committed into the ledger (after it was set again from the store). */
	countPending(): void {
		for (const {item} of this.pending) this.context.ledger.addRoomItem(item.sender, item.bytes);
	}
}
