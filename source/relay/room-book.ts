import {maxRoomLogEntries, type ErrorMessage, type RoomClientMessage, type WelcomeRoom} from '../net/messages.js';
import type {CommitQueue} from './commit-queue.js';
import type {RoomNotice, RoomReadCount} from './cluster.js';
import {KeyedLock} from './keyed-lock.js';
import type {Logger} from './logger.js';
import type {LookupGuard} from './lookup-guard.js';
import type {QueueLedger} from './queue-ledger.js';
import {RoomCache} from './room-cache.js';
import {RoomChanges} from './room-changes.js';
import {refusal, storageText, type RoomContext, type RoomLimits, type RoomRelay, type RoomStats} from './room-context.js';
import {RoomInvites} from './room-invites.js';
import {outsiderRefusal} from './room-outsiders.js';
import {roomLogJson} from './room-json.js';
import {RoomReaders} from './room-readers.js';
import {RoomSends} from './room-sends.js';
import {RoomStreams} from './room-streams.js';
import {RoomRefresh, type RoomWakeups} from './room-wakeups.js';
import type {AsyncRelayStore} from './async-store.js';
import type {Session} from './session.js';
import {guardStorage, inBackground} from './storage-guard.js';

/** Rooms kept in memory at most (room-cache.ts): a room costs at most about maxRoomMembers records. */
const cachedRooms = 256;

/**
 * Bytes of sealed keys a connection may hold staged, on average per key: a room_key envelope is
 * about 500 (its payload is some 200 bytes), so a change for a full room fits, and a connection
 * cannot make the relay hold maxRoomMembers bodies of maxBodyBytes each.
 */
const stagedBytesPerKey = 1024;

export type RoomBookOptions = {
	store: AsyncRelayStore;
	commits: CommitQueue;
	limits: RoomLimits;
	clock: () => number;
	log: Logger;
	stats: RoomStats;
	ledger: QueueLedger;
	lookups: LookupGuard;
	/** The other relays sharing the store (room-wakeups.ts): none for a relay alone. */
	wakeups?: RoomWakeups;
};

/**
 * Rooms on the relay (design rooms.md sections 4 and 5): every client room message, the rooms'
 * streams to their members, and what a login is sent of them. Like PrekeyBook it knows nothing of
 * sockets: a session hands it messages and it answers through sinks. Messages (room-sends.ts) and
 * changes (room-changes.ts) commit through the relay's commit queue, in order, and only then are
 * their senders told and their members sent them.
 */
export class RoomBook {
	private readonly context: RoomContext;
	private readonly changes: RoomChanges;
	private readonly invites: RoomInvites;
	private readonly sends: RoomSends;
	private readonly readers: RoomReaders;

	constructor(options: RoomBookOptions, relay: RoomRelay) {
		const {wakeups, ...shared} = options;
		const cache = new RoomCache(options.store, options.log, cachedRooms);
		const stale = (room: string): Promise<void> => refresh.refresh(room);
		const streams = new RoomStreams({store: options.store, cache, log: options.log, stats: options.stats, sessionOf: relay.sessionOf, stale});
		const wake = wakeups === undefined ? () => {} : (rooms: string[]) => wakeups.wake(rooms);
		const tell = wakeups?.tell === undefined ? () => {} : (notice: RoomNotice, to: string[]) => wakeups.tell?.(notice, to);
		const tellReadCount = wakeups?.tellReadCount === undefined ? () => {} : (count: RoomReadCount) => wakeups.tellReadCount?.(count);
		this.context = {...shared, cache, streams, relay, wake, tell, tellReadCount};
		this.readers = new RoomReaders(this.context, new KeyedLock());
		const refresh = new RoomRefresh(this.context, this.readers.lock);
		this.changes = new RoomChanges(this.context, this.readers.lock, () => this.sends.commitPending(), refresh);
		this.sends = new RoomSends(this.context, room => this.changes.underWay(room), item => this.readers.passOwn(item), stale);
		this.invites = new RoomInvites(this.context);
		wakeups?.onWake(rooms => {
			// Only rooms this relay holds or streams: any other is read from the store when first asked for (a
			// wake-up per message would otherwise make every relay read every member of every room).
			for (const room of rooms) if (cache.holds(room) || streams.hasPlace(room)) void refresh.refresh(room);
		});
		wakeups?.onNotice?.((notice, to) => inBackground(options.log, 'room_notice', this.invites.noticed(notice, to)));
		wakeups?.onReadCounts?.(counts => {
			for (const {room, seq, id, sender, delivered, of} of counts) relay.sessionOf(sender)?.sink.send({type: 'room_delivered', room, seq, id, delivered, of});
		});
		wakeups?.onMissed?.(() => {
			for (const room of new Set([...streams.placed(), ...cache.names()])) void refresh.refresh(room);
		});
	}

	/** The answer to a room message from `username` (logged in): an error, or nothing (what it asked for was sent). */
	async handle(session: Session, username: string, message: RoomClientMessage): Promise<ErrorMessage | undefined> {
		const outsider = await outsiderRefusal(this.context, username, message);
		if (outsider !== undefined) return outsider;
		switch (message.type) {
			case 'room_stage':
				return this.stage(session, message.room, message.keys);
			case 'room_change':
				return this.changes.change(session, username, message);
			case 'room_send':
				return this.sends.send(username, message);
			case 'room_ack':
				await this.readers.acknowledge(session, username, message.room, message.seq);
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
		const {log, streams} = this.context;
		const started = this.invites.atLogin(session, username, () => inBackground(log, 'rooms', streams.start(session, username), () => session.sink.close()));
		inBackground(log, 'invites', started, () => session.sink.close());
	}

	/** A welcome's `rooms`: the user's rooms and the last item of each; none if it has none or the database failed. */
	async welcomeRooms(username: string): Promise<{rooms?: WelcomeRoom[]}> {
		const rooms = (await guardStorage(this.context.log, 'rooms', () => this.context.store.memberRooms(username)))?.filter(room => room.until === null);
		return rooms === undefined || rooms.length === 0 ? {} : {rooms: rooms.map(room => ({room: room.room, seq: room.lastSeq}))};
	}

	/**
	 * Members of `room` but the sender, if the room is in memory: what a room_send fans out to (the
	 * rate limit charges it). Undefined if it is not: the charge waits until the message is handled.
	 */
	audience(room: string): number | undefined {
		const members = this.context.cache.peek(room)?.state.members.size;
		return members === undefined ? undefined : Math.max(0, members - 1);
	}

	/** Whether `a` and `b` are members of one room (their bundles have their own bucket). */
	async shareRoom(a: string, b: string): Promise<boolean> {
		return (await guardStorage(this.context.log, 'rooms', () => this.context.store.sharesRoom(a, b))) ?? false;
	}

	/** Deletes items older than maxQueueAgeMs and invitations older than maxInviteAgeMs, after committing what is pending; returns how many items. */
	purge(): Promise<number> {
		const {store, log, limits, clock, cache, commits} = this.context;
		return commits.run(async () => {
			await this.sends.commitPending();
			const now = clock();
			const purged = await guardStorage(log, 'purge', () => store.purgeRooms(now - limits.maxQueueAgeMs, now - limits.maxInviteAgeMs));
			if (purged === undefined) return 0;
			if (purged.items > 0) cache.clear();
			if (purged.items > 0 || purged.invites > 0) log('rooms_expired', {items: purged.items, invites: purged.invites});
			return purged.items;
		});
	}

	/** Commits what was accepted; the relay is going down. */
	stop(): Promise<void> {
		return this.context.commits.run(() => this.sends.commitPending());
	}

	/** Counts the messages not yet committed into the ledger (after it was set again from the store). */
	countPending(): void {
		this.sends.countPending();
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

	private async logEntries(session: Session, username: string, name: string, from: number): Promise<ErrorMessage | undefined> {
		const {cache, store, log} = this.context;
		const room = await cache.get(name);
		if (room === undefined) return refusal('storage_failed', storageText, name);
		if (room === null || !room.state.members.has(username)) return refusal('not_room_member', `you are not a member of #${name}`, name);
		const entries = await guardStorage(log, 'room_log', () => store.roomLog(name, from, maxRoomLogEntries));
		if (entries === undefined) return refusal('storage_failed', storageText, name);
		session.sink.sendJson(roomLogJson(name, entries));
		return undefined;
	}
}
