import {endOfTurn} from './end-of-turn.js';
import type {KeyedLock} from './keyed-lock.js';
import type {RelayMessage} from '../net/messages.js';
import type {RoomContext} from './room-context.js';
import type {DeliveredCount, StoredRoomItem} from './room-store.js';
import type {Session} from './session.js';
import {guardStorage, inBackground} from './storage-guard.js';

type RoomDelivered = Extract<RelayMessage, {type: 'room_delivered'}>;

/**
 * How far each reader has read a room (design rooms.md section 5): cumulative acknowledgements,
 * the read counts their senders hear, and the items everyone has read, deleted. The positions of
 * one room move one acknowledgement at a time (a lock per room, which changes hold too), and in
 * memory only once the store has them.
 */
export class RoomReaders {
	/** Read counts to tell senders at the end of the turn: the latest per message. */
	private readonly counts = new Map<string, {sender: string; message: RoomDelivered}>();
	private countsScheduled = false;

	constructor(
		private readonly context: RoomContext,
		readonly lock: KeyedLock,
	) {}

	/** A cumulative room_ack: only up to what this connection was sent; past what it was given, over its own messages too. */
	async acknowledge(session: Session, username: string, room: string, seq: number): Promise<void> {
		const cursor = this.context.streams.of(session).cursors.get(room);
		if (cursor === undefined) return;
		await this.advance(room, username, seq >= cursor.delivered ? cursor.sent : Math.min(seq, cursor.sent));
	}

	/**
	 * A sender whose connection had read everything it was given has read its own message too: its
	 * position moves past it, so a room where one member does all the talking still empties.
	 */
	passOwn(item: StoredRoomItem): void {
		const session = this.context.relay.sessionOf(item.sender);
		const cursor = session && this.context.streams.of(session).cursors.get(item.room);
		const reader = this.context.cache.peek(item.room)?.readers.get(item.sender);
		if (cursor?.live && reader !== undefined && reader.position >= cursor.delivered && cursor.sent >= item.seq) {
			inBackground(this.context.log, 'room_ack', this.advance(item.room, item.sender, cursor.sent));
		}
	}

	/**
	 * Moves a reader's position to `to`: the message items it passed count one more delivery (their
	 * senders hear so), its keys up to there go, a departed reader that read its departure goes, and
	 * the items every reader has read are deleted.
	 */
	private advance(name: string, member: string, to: number): Promise<void> {
		return this.lock.run(name, async () => {
			const {cache, store, log, ledger} = this.context;
			const room = await cache.get(name);
			const reader = room?.readers.get(member);
			if (!room || reader === undefined) return;
			const target = Math.min(to, reader.until ?? to);
			if (target <= reader.position) return;
			// Kept in memory until the store has it: this is the copy that moves.
			room.changing += 1;
			try {
				const before = room.minPosition();
				const departs = reader.until !== undefined && target >= reader.until;
				if (departs) room.dropReader(member);
				else room.setReader(member, {position: target, until: reader.until});
				const after = room.minPosition();
				const done = await guardStorage(log, 'room_ack', () =>
					store.batch(async tx => {
						const counts = await tx.markDelivered(name, member, reader.position, target);
						if (departs) await tx.deleteMember(name, member);
						else {
							await tx.setPosition(name, member, target);
							await tx.deleteRoomKeys(name, member, target);
						}
						return {counts, deleted: after > before ? await tx.deleteReadItems(name, after) : []};
					}),
				);
				if (done === undefined) {
					room.setReader(member, reader);
					return;
				}
				for (const item of done.deleted) {
					room.itemsRemoved(item.sender, item.kind);
					ledger.removeRoomItem(item.sender, item.bytes);
				}
				for (const count of done.counts) this.tellDelivered(name, count);
			} finally {
				room.changing -= 1;
			}
		});
	}

	private tellDelivered(room: string, count: DeliveredCount): void {
		const {seq, id, sender, delivered, of} = count;
		this.counts.set(`${room} ${seq}`, {sender, message: {type: 'room_delivered', room, seq, id, delivered, of}});
		if (this.countsScheduled) return;
		this.countsScheduled = true;
		endOfTurn(() => {
			this.countsScheduled = false;
			const {relay, tellReadCount} = this.context;
			for (const {sender, message} of this.counts.values()) {
				const session = relay.sessionOf(sender);
				if (session !== undefined) session.sink.send(message);
				else if (relay.elsewhere(sender)) tellReadCount({room: message.room, seq: message.seq, id: message.id, sender, delivered: message.delivered, of: message.of});
			}
			this.counts.clear();
		});
	}
}
