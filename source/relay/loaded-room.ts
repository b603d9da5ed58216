import {fromBase64Url, toBase64Url} from '../crypto/base64url.js';
import type {RoomMember, RoomState} from '../crypto/room-log.js';
import type {ItemCount, RoomItemKind, StoredMember, StoredRoom} from './room-store.js';

/** One who reads a room's stream: its last acknowledged item, and for one who left or was removed, its departure item. */
export type Reader = {position: number; until: number | undefined};

/**
 * A room as the relay holds it in memory while it is used: the state its log makes, the last
 * stream position handed out, each reader's position, and the items waiting per sender. Loaded from
 * the database whole (at most maxRoomMembers members and the departures not yet read) and kept in
 * step with it: every write to a room goes through the RoomBook, which updates this only once the
 * write committed.
 */
export class LoadedRoom {
	/** The head as the wire has it: a room_send's epoch is compared with it. */
	epoch: string;
	/** Items accepted and not yet committed: while any are, the room stays in memory. */
	pending = 0;
	/** Changes under way (room-changes.ts): while any are, the room stays in memory. */
	changing = 0;
	private readonly positions = new Map<number, number>();
	private lowest: number | undefined;
	private items = 0;
	private readonly senderItems = new Map<string, number>();

	constructor(
		public state: RoomState,
		public lastSeq: number,
		readonly readers: Map<string, Reader>,
		itemCounts: readonly ItemCount[],
	) {
		this.epoch = toBase64Url(state.head);
		for (const reader of readers.values()) this.count(reader.position, 1);
		for (const {sender, kind, count} of itemCounts) this.itemsAdded(sender, kind, count);
	}

	static load(row: StoredRoom, members: readonly StoredMember[], itemCounts: readonly ItemCount[]): LoadedRoom {
		const state: RoomState = {
			room: row.room,
			index: row.index,
			head: fromBase64Url(row.head, 32),
			creator: row.creator,
			topic: row.topic,
			members: new Map(
				members
					.filter(member => member.until === null)
					.map((member): [string, RoomMember] => [
						member.member,
						{
							record: {
								username: member.member,
								identity: fromBase64Url(member.identity, 32),
								x25519: fromBase64Url(member.x25519, 32),
								binding: fromBase64Url(member.binding, 64),
							},
							admin: member.admin,
						},
					]),
			),
			needsRekey: row.needsRekey,
		};
		const readers = new Map(members.map(member => [member.member, {position: member.position, until: member.until ?? undefined}]));
		return new LoadedRoom(state, row.lastSeq, readers, itemCounts);
	}

	/** Whether something not yet committed holds this copy: it must stay the one in memory. */
	get inUse(): boolean {
		return this.pending > 0 || this.changing > 0;
	}

	/** The room's row as the database keeps it. */
	row(): StoredRoom {
		const {room, index, creator, topic, needsRekey} = this.state;
		return {room, index, head: this.epoch, creator, topic, needsRekey, lastSeq: this.lastSeq};
	}

	setState(state: RoomState): void {
		this.state = state;
		this.epoch = toBase64Url(state.head);
	}

	/**
	 * Takes what `fresh` (this room read again from the store, after another relay changed it) says,
	 * in place: whoever holds this copy (a commit under way) sees it. Items this relay accepted and
	 * has not committed yet are not in `fresh`: the counts are short of them (a soft bound) until the
	 * room is read again.
	 */
	adopt(fresh: LoadedRoom): void {
		this.setState(fresh.state);
		this.lastSeq = fresh.lastSeq;
		this.readers.clear();
		this.positions.clear();
		this.lowest = undefined;
		for (const [name, reader] of fresh.readers) this.setReader(name, reader);
		this.items = fresh.items;
		this.senderItems.clear();
		for (const [sender, count] of fresh.senderItems) this.senderItems.set(sender, count);
	}

	/** Items waiting in the stream, or the messages among them from `sender` (an admin's changes are not its share). */
	waiting(sender?: string): number {
		return sender === undefined ? this.items : (this.senderItems.get(sender) ?? 0);
	}

	itemsAdded(sender: string, kind: RoomItemKind, count = 1): void {
		this.items += count;
		if (kind === 'message') this.senderItems.set(sender, (this.senderItems.get(sender) ?? 0) + count);
	}

	itemsRemoved(sender: string, kind: RoomItemKind, count = 1): void {
		this.items = Math.max(0, this.items - count);
		if (kind !== 'message') return;
		const left = (this.senderItems.get(sender) ?? 0) - count;
		if (left <= 0) this.senderItems.delete(sender);
		else this.senderItems.set(sender, left);
	}

	/** Adds or replaces a reader. */
	setReader(name: string, reader: Reader): void {
		this.dropReader(name);
		this.readers.set(name, reader);
		this.count(reader.position, 1);
	}

	dropReader(name: string): void {
		const reader = this.readers.get(name);
		if (reader === undefined) return;
		this.readers.delete(name);
		this.count(reader.position, -1);
	}

	/** The lowest position of any reader: every item up to it has been read by all. */
	minPosition(): number {
		if (this.lowest === undefined) {
			let lowest = this.lastSeq;
			for (const position of this.positions.keys()) if (position < lowest) lowest = position;
			this.lowest = lowest;
		}
		return this.lowest;
	}

	private count(position: number, change: number): void {
		const count = (this.positions.get(position) ?? 0) + change;
		if (count <= 0) this.positions.delete(position);
		else this.positions.set(position, count);
		// Found again when asked: only when the lowest position changed.
		if (this.lowest === undefined || position <= this.lowest) this.lowest = undefined;
	}
}
