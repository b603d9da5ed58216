import {errorMessage, maxRoomLogEntries, type ErrorMessage, type RelayMessage, type RoomClientMessage, type WelcomeRoom} from '../net/messages.js';
import type {Logger} from './logger.js';
import type {LookupGuard} from './lookup-guard.js';
import type {QueueLedger} from './queue-ledger.js';
import {RoomCache} from './room-cache.js';
import {RoomChanges} from './room-changes.js';
import {refusal, roomItemOverhead, storageText, type RoomContext, type RoomLimits, type RoomRelay, type RoomStats} from './room-context.js';
import {RoomInvites} from './room-invites.js';
import {outsiderRefusal, readsRoom} from './room-outsiders.js';
import {roomLogJson, roomMessageJson} from './room-json.js';
import type {DeliveredCount, StoredRoomItem} from './room-store.js';
import {RoomStreams} from './room-streams.js';
import type {RelayStore} from './relay-store.js';
import type {Session} from './session.js';
import {guardStorage} from './storage-guard.js';

/** Rooms kept in memory at most (room-cache.ts): a room costs at most about maxRoomMembers records. */
const cachedRooms = 256;

/**
 * Bytes of sealed keys a connection may hold staged, on average per key: a room_key envelope is
 * about 500 (its payload is some 200 bytes), so a change for a full room fits, and a connection
 * cannot make the relay hold maxRoomMembers bodies of maxBodyBytes each.
 */
const stagedBytesPerKey = 1024;

export type RoomBookOptions = {
	store: RelayStore;
	limits: RoomLimits;
	clock: () => number;
	log: Logger;
	stats: RoomStats;
	ledger: QueueLedger;
	lookups: LookupGuard;
};

/**
 * Rooms on the relay (design rooms.md sections 4 and 5): every client room message, the rooms'
 * streams to their members, and what a login is sent of them. Like PrekeyBook it knows nothing of
 * sockets: a session hands it messages and it answers through sinks. Room messages accepted in one
 * turn of the event loop are committed in one transaction (like DeliveryQueue), and only then are
 * their senders told and their members sent them.
 */
export class RoomBook {
	private readonly context: RoomContext;
	private readonly changes: RoomChanges;
	private readonly invites: RoomInvites;
	private pending: StoredRoomItem[] = [];
	private commitScheduled = false;
	/** Read counts to tell senders at the end of the turn: the latest per message. */
	private readonly counts = new Map<string, {sender: string; message: RelayMessage}>();
	private countsScheduled = false;

	constructor(options: RoomBookOptions, relay: RoomRelay) {
		const cache = new RoomCache(options.store, options.log, cachedRooms);
		const streams = new RoomStreams({store: options.store, cache, log: options.log, stats: options.stats, sessionOf: relay.sessionOf});
		this.context = {...options, cache, streams, relay};
		this.changes = new RoomChanges(this.context, () => this.commitPending());
		this.invites = new RoomInvites(this.context);
	}

	/** The answer to a room message from `username` (logged in): an error, or nothing (what it asked for was sent). */
	handle(session: Session, username: string, message: RoomClientMessage): ErrorMessage | undefined {
		const outsider = outsiderRefusal(this.context, username, message);
		if (outsider !== undefined) return outsider;
		switch (message.type) {
			case 'room_stage':
				return this.stage(session, message.room, message.keys);
			case 'room_change':
				return this.changes.change(session, username, message);
			case 'room_send':
				return this.send(username, message);
			case 'room_ack':
				this.acknowledge(session, username, message.room, message.seq);
				return undefined;
			case 'room_invite':
				return this.invites.invite(session, username, message);
			case 'room_accept':
				return this.invites.accept(username, message);
			case 'room_decline':
				return this.invites.decline(username, message);
			case 'room_log':
				return this.logEntries(session, username, message.room, message.from);
		}
	}

	/** After the 1:1 backlog of a login: its invitations and join requests, then its rooms' streams. Once per session. */
	start(session: Session, username: string): void {
		const rooms = this.context.streams.of(session);
		if (rooms.started || rooms.starting) return;
		rooms.starting = true;
		this.invites.atLogin(session, username, () => this.context.streams.start(session, username));
	}

	/** A welcome's `rooms`: the user's rooms and the last item of each; none if it has none or the database failed. */
	welcomeRooms(username: string): {rooms?: WelcomeRoom[]} {
		const rooms = guardStorage(this.context.log, 'rooms', () => this.context.store.memberRooms(username))?.filter(room => room.until === null);
		return rooms === undefined || rooms.length === 0 ? {} : {rooms: rooms.map(room => ({room: room.room, seq: room.lastSeq}))};
	}

	/** Members of `room` but the sender: what a room_send fans out to (the rate limit charges it). */
	audience(room: string, username: string): number {
		if (this.context.cache.peek(room) === undefined && !readsRoom(this.context, room, username)) return 0;
		const members = this.context.cache.get(room)?.state.members.size ?? 0;
		return Math.max(0, members - 1);
	}

	/** Whether `a` and `b` are members of one room (their bundles have their own bucket). */
	shareRoom(a: string, b: string): boolean {
		return guardStorage(this.context.log, 'rooms', () => this.context.store.sharesRoom(a, b)) ?? false;
	}

	/** Deletes items older than maxQueueAgeMs and invitations older than maxInviteAgeMs; returns how many items. */
	purge(): number {
		const {store, log, limits, clock, cache} = this.context;
		this.commitPending();
		const now = clock();
		const purged = guardStorage(log, 'purge', () => store.purgeRooms(now - limits.maxQueueAgeMs, now - limits.maxInviteAgeMs));
		if (purged === undefined) return 0;
		if (purged.items > 0) cache.clear();
		if (purged.items > 0 || purged.invites > 0) log('rooms_expired', {items: purged.items, invites: purged.invites});
		return purged.items;
	}

	/** Commits what was accepted; the relay is going down. */
	stop(): void {
		this.commitPending();
	}

	private stage(session: Session, room: string, keys: ReadonlyArray<{to: string; id: string; ratchet: string; body: string}>): ErrorMessage | undefined {
		const {maxRoomMembers, maxBodyBytes} = this.context.limits;
		const rooms = this.context.streams.of(session);
		if (rooms.staged?.room !== room) rooms.staged = {room, keys: [], bytes: 0};
		const staged = rooms.staged;
		const bytes = keys.reduce((sum, key) => sum + key.body.length + key.ratchet.length + key.id.length, 0);
		if (keys.some(key => key.body.length > maxBodyBytes)) {
			rooms.staged = undefined;
			return refusal('message_too_large', `a room key's body is at most ${maxBodyBytes} bytes`, room);
		}
		if (staged.keys.length + keys.length > maxRoomMembers || staged.bytes + bytes > maxRoomMembers * stagedBytesPerKey) {
			rooms.staged = undefined;
			return refusal('room_keys', `at most ${maxRoomMembers} room keys (${maxRoomMembers * stagedBytesPerKey} bytes) are staged for a change`, room);
		}
		staged.keys.push(...keys);
		staged.bytes += bytes;
		return undefined;
	}

	private send(username: string, message: RoomClientMessage & {type: 'room_send'}): ErrorMessage | undefined {
		const {cache, limits, clock, ledger, relay} = this.context;
		const {room: name, id} = message;
		const room = cache.get(name);
		if (room === undefined) return refusal('storage_failed', storageText, id);
		if (room === null) return refusal('no_such_room', `there is no room #${name}`, id);
		const {members, needsRekey} = room.state;
		if (!members.has(username)) return refusal('not_room_member', `you are not a member of #${name}`, id);
		// Before the epoch: a copy taken before a change is answered, not refused stale and sealed again.
		if (this.resent(username, message)) return undefined;
		if (message.epoch !== room.epoch) return refusal('room_stale', `#${name} has changed: seal the message in its new epoch`, id);
		if (needsRekey) return refusal('room_needs_rekey', `#${name} needs a rekey by an admin before messages go again`, id);
		if (message.body.length > limits.maxBodyBytes) return refusal('message_too_large', `a room message's body is at most ${limits.maxBodyBytes} bytes`, id);
		if (room.waiting() >= limits.maxRoomItems || room.waiting(username) >= limits.maxRoomItems / 4) {
			return refusal('room_backlog_full', `too much waits unread in #${name}; try again once its members have read it`, id);
		}
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
		this.pending.push({room: name, seq, kind: 'message', sender: username, id, time, json, of: members.size - 1, bytes});
		if (!this.commitScheduled) {
			this.commitScheduled = true;
			queueMicrotask(() => this.commitPending());
		}
		return undefined;
	}

	/**
	 * A resend of a message still waiting (its sender did not hear `room_accepted`, say after a
	 * drop): answered again, or left to the commit under way, and never stored twice.
	 */
	private resent(username: string, message: RoomClientMessage & {type: 'room_send'}): boolean {
		if (this.pending.some(item => item.room === message.room && item.sender === username && item.id === message.id)) return true;
		const stored = guardStorage(this.context.log, 'room_send', () => this.context.store.roomMessageById(message.room, username, message.id) ?? null);
		if (stored === undefined || stored === null) return false;
		this.context.relay.sessionOf(username)?.sink.send({type: 'room_accepted', room: message.room, id: message.id, seq: stored.seq, time: stored.time});
		return true;
	}

	/** One transaction for the messages accepted in this turn; then their senders hear `room_accepted` and members get them. */
	private commitPending(): void {
		this.commitScheduled = false;
		const batch = this.pending;
		if (batch.length === 0) return;
		this.pending = [];
		const {store, cache, log, ledger, relay, stats, streams} = this.context;
		const rooms = new Map(batch.map(item => [item.room, cache.peek(item.room)!]));
		const committed = guardStorage(log, 'room_send', () =>
			store.batch(() => {
				for (const item of batch) store.insertRoomItem(item);
				for (const room of rooms.values()) store.saveRoom(room.row());
				return true;
			}),
		);
		if (committed === undefined) {
			for (const item of batch) {
				const room = rooms.get(item.room)!;
				room.pending -= 1;
				// Every item of the room after this one is in this batch (a change commits what waits first).
				room.lastSeq = Math.min(room.lastSeq, item.seq - 1);
				room.itemsRemoved(item.sender, 'message');
				ledger.removeRoomItem(item.sender, item.bytes);
				relay.sessionOf(item.sender)?.sink.send(errorMessage('storage_failed', 'the relay could not store the message; send it again later', item.id));
			}
			return;
		}
		for (const item of batch) {
			const room = rooms.get(item.room)!;
			room.pending -= 1;
			stats.roomMessages += 1;
			relay.sessionOf(item.sender)?.sink.send({type: 'room_accepted', room: item.room, id: item.id, seq: item.seq, time: item.time});
			streams.deliver(room, item);
			this.passOwn(item);
		}
	}

	/**
	 * A sender whose connection had read everything it was given has read its own message too: its
	 * position moves past it, so a room where one member does all the talking still empties.
	 */
	private passOwn(item: StoredRoomItem): void {
		const session = this.context.relay.sessionOf(item.sender);
		const cursor = session && this.context.streams.of(session).cursors.get(item.room);
		const reader = this.context.cache.peek(item.room)?.readers.get(item.sender);
		if (cursor?.live && reader !== undefined && reader.position >= cursor.delivered && cursor.sent >= item.seq) {
			this.advance(item.room, item.sender, cursor.sent);
		}
	}

	/** A cumulative room_ack: only up to what this connection was sent; past what it was given, over its own messages too. */
	private acknowledge(session: Session, username: string, room: string, seq: number): void {
		const cursor = this.context.streams.of(session).cursors.get(room);
		if (cursor === undefined) return;
		this.advance(room, username, seq >= cursor.delivered ? cursor.sent : Math.min(seq, cursor.sent));
	}

	/**
	 * Moves a reader's position to `to`: the message items it passed count one more delivery (their
	 * senders hear so), its keys up to there go, a departed reader that read its departure goes, and
	 * the items every reader has read are deleted.
	 */
	private advance(name: string, member: string, to: number): void {
		const {cache, store, log, ledger} = this.context;
		const room = cache.get(name);
		const reader = room?.readers.get(member);
		if (!room || reader === undefined) return;
		const target = Math.min(to, reader.until ?? to);
		if (target <= reader.position) return;
		const before = room.minPosition();
		const departs = reader.until !== undefined && target >= reader.until;
		if (departs) room.dropReader(member);
		else room.setReader(member, {position: target, until: reader.until});
		const after = room.minPosition();
		const done = guardStorage(log, 'room_ack', () =>
			store.batch(() => {
				const counts = store.markDelivered(name, member, reader.position, target);
				if (departs) store.deleteMember(name, member);
				else {
					store.setPosition(name, member, target);
					store.deleteRoomKeys(name, member, target);
				}
				return {counts, deleted: after > before ? store.deleteReadItems(name, after) : []};
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
	}

	private tellDelivered(room: string, count: DeliveredCount): void {
		const {seq, id, sender, delivered, of} = count;
		this.counts.set(`${room} ${seq}`, {sender, message: {type: 'room_delivered', room, seq, id, delivered, of}});
		if (this.countsScheduled) return;
		this.countsScheduled = true;
		queueMicrotask(() => {
			this.countsScheduled = false;
			for (const {sender, message} of this.counts.values()) this.context.relay.sessionOf(sender)?.sink.send(message);
			this.counts.clear();
		});
	}

	private logEntries(session: Session, username: string, name: string, from: number): ErrorMessage | undefined {
		const {cache, store, log} = this.context;
		const room = cache.get(name);
		if (room === undefined) return refusal('storage_failed', storageText, name);
		if (room === null || !room.state.members.has(username)) return refusal('not_room_member', `you are not a member of #${name}`, name);
		const entries = guardStorage(log, 'room_log', () => store.roomLog(name, from, maxRoomLogEntries));
		if (entries === undefined) return refusal('storage_failed', storageText, name);
		session.sink.sendJson(roomLogJson(name, entries));
		return undefined;
	}
}
