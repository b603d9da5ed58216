import {isValidRoomName} from '../../crypto/room-log.js';
import type {ClientMessage, RoomRelayMessage, UserRecord, WelcomeRoom} from '../../net/messages.js';
import type {ContactFinder} from '../contact-finder.js';
import type {EndToEnd} from '../end-to-end.js';
import type {SessionStarter} from '../ratchet/session-starter.js';
import {ChangeSender, rekeyAfterMs} from './room-change-sender.js';
import {checkCreate, checkInvite, checkKick, checkLeave, checkMakeAdmin, checkSend, checkTopic, memberOf, roomName, userName} from './room-checks.js';
import type {RoomAccountParts, RoomContext, RoomHost} from './room-context.js';
import {InviteFlow} from './room-invite-flow.js';
import {RoomKeeper} from './room-keeper.js';
import {RoomSendingStore} from './room-sending-store.js';
import {RoomStream} from './room-stream.js';
import {TextSender} from './room-text-sender.js';
import type {RoomView} from './room-types.js';

/** How often a client checks whether a room it is an admin of needs its 7-day new key (and forgets expired keys). */
const ageCheckMs = 3_600_000;

/** What the session gives its rooms: RoomHost but the connection, which attach() gives. */
export type RoomSessionHost = Omit<RoomHost, 'transmit' | 'online'>;

/** A ChatSession's host for its rooms: its starter fetches the bundles room keys need, its finder looks invitees up. */
export function roomHostOf(starter: SessionStarter, finder: ContactFinder, session: Pick<RoomHost, 'emit' | 'schedule' | 'localError' | 'redeliver'>): RoomSessionHost {
	return {
		...session,
		needSession: name => starter.need(name),
		lookup: name => void finder.lookup([name]),
		sessionChanged: (from, change, unreadable) => {
			if (unreadable) starter.unreadable(from);
			else if (change !== undefined) starter.changed(from, change);
		},
	};
}

/**
 * A logged-in user's rooms (design rooms.md): what the UI asks (make, invite, send, …), checked
 * here first, and what the relay says about rooms. It outlives a connection like ChatSession:
 * between attach() and detach() it has one; meanwhile texts and changes wait in the database.
 * The parts: RoomStream (items in), ChangeSender (my changes), TextSender (my texts), InviteFlow.
 */
export class RoomSession {
	readonly #ctx: RoomContext;
	readonly #stream: RoomStream;
	readonly #changes: ChangeSender;
	readonly #texts: TextSender;
	readonly #invites: InviteFlow;
	#out: ((message: ClientMessage) => void) | undefined;
	#roomsChanged = false;
	#ageCheck: NodeJS.Timeout | undefined;

	constructor(e2e: EndToEnd, account: RoomAccountParts, host: RoomSessionHost, clock: () => number = Date.now) {
		const me = e2e.username;
		const keeper = new RoomKeeper(account.database, me, account.keys, clock);
		keeper.prune();
		this.#ctx = {
			me,
			keys: account.keys,
			keeper,
			sending: new RoomSendingStore(account.database),
			e2e,
			history: account.history,
			atomically: work => account.contacts.atomically(work),
			host: {
				...host,
				online: () => this.#out !== undefined,
				transmit: message => {
					if (this.#out === undefined) return false;
					this.#out(message);
					return true;
				},
			},
			clock,
			roomsChanged: () => {
				this.#roomsChanged = true;
				host.schedule();
			},
			notFollowing: new Map(),
			warn: (room, code, message) => host.emit('room-error', {room, code, message}),
		};
		this.#changes = new ChangeSender(this.#ctx, room => this.#stream.caughtUp(room));
		this.#stream = new RoomStream(this.#ctx, {
			mine: (room, entry) => this.#changes.mine(room, entry),
			applied: (room, entry, mine) => {
				this.#changes.applied(room, entry, mine);
				if (entry.action === 'leave') this.#rekeyIfAdmin(room, 'leave');
			},
		});
		this.#texts = new TextSender(this.#ctx, room => this.#stream.caughtUp(room));
		this.#invites = new InviteFlow(this.#ctx, this.#changes);
	}

	/** A connection logged in; `rooms`: the last seq of each of my rooms' streams, from the welcome. */
	attach(out: (message: ClientMessage) => void, rooms: readonly WelcomeRoom[] = []): void {
		this.#out = out;
		this.#stream.welcomed(rooms);
		this.#safely('could not send what waited for the connection', () => this.#invites.attach());
		clearInterval(this.#ageCheck);
		this.#ageCheck = setInterval(() => {
			// Expired skipped message keys go while the client runs, not only at its next start.
			this.#safely('could not forget expired room message keys', () => this.#ctx.keeper.prune());
			this.#checkAges();
		}, ageCheckMs);
		this.#ageCheck.unref();
		this.#checkAges();
		this.#ctx.roomsChanged();
	}

	detach(): void {
		this.#out = undefined;
		clearInterval(this.#ageCheck);
		this.#ageCheck = undefined;
		this.#stream.detach();
		this.#changes.detach();
		this.#texts.detach();
	}

	create(name: string, topic = ''): void {
		const room = roomName(name);
		checkCreate(this.#ctx.keeper.rooms(), room, topic);
		this.#changes.ask(room, {action: 'create', topic}, 'user');
	}

	invite(room: string, username: string): void {
		const view = this.#member(room, true);
		const invitee = userName(username);
		checkInvite(view, view.room, this.#ctx.me, invitee);
		this.#invites.invite(view.room, invitee);
	}

	accept(room: string): void {
		this.#invites.accept(roomName(room));
	}

	decline(room: string): void {
		this.#invites.decline(roomName(room));
	}

	kick(room: string, username: string): void {
		const view = this.#member(room, true);
		const member = userName(username);
		checkKick(view, view.room, this.#ctx.me, member);
		this.#changes.ask(view.room, {action: 'remove', member}, 'user');
	}

	leave(room: string): void {
		const view = this.#member(room);
		checkLeave(view, view.room, this.#ctx.me);
		this.#changes.ask(view.room, {action: 'leave'}, 'user');
	}

	makeAdmin(room: string, username: string): void {
		const view = this.#member(room, true);
		const member = userName(username);
		checkMakeAdmin(view, view.room, member);
		this.#changes.ask(view.room, {action: 'admin', member}, 'user');
	}

	setTopic(room: string, topic: string): void {
		const view = this.#member(room, true);
		checkTopic(topic);
		this.#changes.ask(view.room, {action: 'topic', topic}, 'user');
	}

	rekey(room: string): void {
		const view = this.#member(room, true);
		this.#changes.ask(view.room, {action: 'rekey'}, 'user');
	}

	/** Keeps `text` for `room` (it goes in order, when it can) and returns its message id. */
	send(room: string, text: string): string {
		const view = this.#member(room);
		checkSend(view, view.room);
		return this.#texts.send(view.room, text);
	}

	list(): RoomView[] {
		return this.#ctx.keeper.rooms().map(view => this.#followed(view));
	}

	invites(): Array<{room: string; from: string; time: number}> {
		return this.#ctx.keeper.invites().map(({room, inviter, time}) => ({room, from: inviter, time}));
	}

	/** A room message from the relay. */
	receive(message: RoomRelayMessage): void {
		this.#safely('could not save what came for a room', () => {
			switch (message.type) {
				case 'room_change':
				case 'room_message':
					this.#stream.receive(message);
					return;
				case 'room_log':
					this.#stream.logAnswered(message.room, message.entries);
					return;
				case 'room_accepted':
					this.#texts.accepted(message.room, message.id, message.seq, message.time);
					return;
				case 'room_delivered':
					this.#texts.delivered(message.room, message.id, message.delivered, message.of);
					return;
				case 'room_changed':
					return;
				case 'room_invitation':
					this.#invites.invitation(message);
					return;
				case 'room_join_request':
					this.#invites.joinRequest(message);
					return;
				case 'room_declined':
					this.#ctx.host.emit('room-declined', {room: message.room, username: message.username});
			}
		});
	}

	/** A refusal whose ref is one of my room texts, or a room: true when it was for the rooms (a room-error event). */
	refused(ref: string, code: string, message: string): boolean {
		try {
			return this.#refused(ref, code, message);
		} catch (error) {
			// It reads and writes the database: a full disk must not end the client.
			this.#ctx.host.localError('could not note what the relay refused', error);
			return this.#texts.owns(ref) || isValidRoomName(ref);
		}
	}

	#refused(ref: string, code: string, message: string): boolean {
		if (this.#texts.owns(ref)) return this.#texts.refused(ref, code, message);
		if (!isValidRoomName(ref) || this.#ctx.keeper.room(ref) === undefined) {
			if (!isValidRoomName(ref) || this.#ctx.sending.changes(ref).length === 0) return false;
		}
		if (this.#changes.refused(ref, code, message) || this.#stream.refused(ref, message)) return true;
		this.#ctx.host.emit('room-error', {room: ref, code, message});
		return true;
	}

	/** A lookup answered: invitations that waited for the invitee's record go (or fail). */
	found(users: readonly UserRecord[], missing: readonly string[]): void {
		this.#safely('could not send an invitation', () => this.#invites.found(users.map(user => user.username), missing));
	}

	/** At the end of each turn (ChatSession's flush): changes and texts as far as they go, acks, the rooms' list. */
	flush(): void {
		if (this.#roomsChanged) {
			this.#roomsChanged = false;
			this.#safely('could not read the rooms', () => this.#ctx.host.emit('rooms', this.list()));
		}
		// Offline, what waits stays as it is in the database (nothing is prepared or sealed for no connection).
		if (this.#out === undefined) return;
		this.#safely('could not send to rooms', () => {
			this.#changes.pump();
			this.#texts.pump();
		});
		for (const {room, seq} of this.#stream.takeAcks()) this.#ctx.host.transmit({type: 'room_ack', room, seq});
	}

	#member(raw: string, admin = false): RoomView {
		const room = roomName(raw);
		const view = this.#ctx.keeper.room(room);
		return memberOf(view === undefined ? undefined : this.#followed(view), room, this.#ctx.me, admin);
	}

	/** A room whose log this device stopped following shows as stalled (the keeper's row does not say so). */
	#followed(view: RoomView): RoomView {
		const why = this.#ctx.notFollowing.get(view.room);
		return why === undefined || view.status !== 'member' ? view : {...view, status: 'stalled', note: why};
	}

	/** After a leave, or when the epoch is old: a new key, made by every admin's client (the relay keeps the first). */
	#rekeyIfAdmin(room: string, why: 'leave' | 'age'): void {
		const view = this.#ctx.keeper.room(room);
		if (view?.status !== 'member' || !view.admins.includes(this.#ctx.me)) return;
		if (why === 'leave' ? !view.needsRekey : (view.epochAge ?? 0) < rekeyAfterMs) return;
		if (this.#changes.waits(room, 'rekey')) return;
		this.#changes.ask(room, {action: 'rekey'}, why);
	}

	#checkAges(): void {
		this.#safely('could not read the rooms', () => {
			for (const view of this.#ctx.keeper.rooms()) this.#rekeyIfAdmin(view.room, view.needsRekey ? 'leave' : 'age');
		});
	}

	#safely(what: string, work: () => void): void {
		try {
			work();
		} catch (error) {
			this.#ctx.host.localError(what, error);
		}
	}
}
