import type {Contact, Emit} from './client-events.js';
import type {DeliveredEnvelope, Envelope, UserRecord} from '../net/messages.js';
import type {CarryOverMark} from './carry-over-mark.js';
import {ContactFinder, defaultStrangerRetryMs} from './contact-finder.js';
import {defaultWhoIntervalMs, type WhoView} from './who-online.js';
import {newMessageId, type EndToEnd} from './end-to-end.js';
import {EnvelopeReader} from './envelope-reader.js';
import {InboundQueue} from './inbound-queue.js';
import type {Outbox} from './outbox.js';
import {OutboxSender, rateLimitPauseMs, type Transmit} from './outbox-sender.js';
import {OwedReceipts} from './owed-receipts.js';
import type {PrekeyPublisher, RelayPrekeys} from './ratchet/prekey-publisher.js';
import {SessionStarter} from './ratchet/session-starter.js';
import {Roster} from './roster.js';
import type {RoomAccountParts} from './rooms/room-context.js';
import {roomHostOf, RoomSession} from './rooms/room-session.js';
import {SessionTurn} from './session-turn.js';
import type {WelcomeRoom} from '../net/messages.js';

/**
 * A logged-in user's side of the conversation: the roster, envelopes in and out, receipts,
 * acknowledgements, and messages held behind a changed key. ChatClient feeds it relay messages.
 * It outlives a connection: between attach() and detach() it has one to send on; meanwhile what
 * it seals waits in the outbox, and goes out, in order, once the next connection is attached.
 *
 * Every accepted envelope is shown at least once per data directory, whenever the process is
 * killed, and at most once per process. Its counter is spent in the same contact-store commit
 * that keeps what it shows (an "inbox" entry), since a spent counter makes the relay's copy a
 * replay. The entry is shown (emitted) right after, and the next commit of the store, whatever it
 * is for, replaces it with the receipt it owes; the receipt is sealed and saved in the outbox at
 * the end of the turn, and only then is it marked paid. Each process first shows the entries it
 * finds: what a killed process accepted but may not have shown. So a message is never lost, and
 * is shown again by the next process only if its process died between showing it and that next
 * write (one write, however busy the turn); a redelivery is a replay, acknowledged and dropped.
 * A receipt owed to a contact whose key changed waits in the contact store with the pinned keys.
 *
 * When this device cannot save (a full disk, a damaged database), the envelope is not
 * acknowledged: it and those after it wait, in order, and are tried again after a pause, so the
 * relay keeps them until they are saved, and no later one shows a false gap.
 */
export class ChatSession {
	/** What waits for the contact store after it failed. */
	private readonly inbound = new InboundQueue(() => this.retry());
	/** The outbox, paced (outbox-sender.ts). */
	private readonly sender: OutboxSender;
	/** Receipts owed to contacts (owed-receipts.ts). */
	private readonly receipts: OwedReceipts;
	/** Envelopes in: opened, shown, held (envelope-reader.ts). */
	private readonly reader: EnvelopeReader;
	/** Who this account knows of, and who is online (roster.ts). */
	private readonly roster: Roster;
	/** Lookups and their answers, senders with no pin, who is online (contact-finder.ts). */
	readonly finder: ContactFinder;
	/** Prekeys, bundles and their answers, new and rebuilt sessions (ratchet/session-starter.ts). */
	readonly starter: SessionStarter;
	/** Rooms (rooms/room-session.ts); none without an account database to keep them in. */
	readonly rooms: RoomSession | undefined;
	/** What a turn ends with, and local errors (session-turn.ts). */
	private readonly turn: SessionTurn;

	constructor(
		private readonly e2e: EndToEnd,
		publisher: PrekeyPublisher,
		private readonly outbox: Outbox,
		private readonly emit: Emit,
		/** Ends the connection so that the relay, at the next login, sends again what was not acknowledged. */
		private readonly redeliver: () => void = () => {},
		whoIntervalMs = defaultWhoIntervalMs,
		strangerRetryMs = defaultStrangerRetryMs,
		/** Set once the pins of an older version were carried over; absent: carried over at every start. */
		private readonly carryOverMark?: CarryOverMark,
		roomAccount?: RoomAccountParts,
	) {
		this.sender = new OutboxSender(outbox, to => e2e.hasChangedKey(to));
		this.starter = new SessionStarter(e2e, outbox, publisher, {
			emit: (event, ...args) => this.emit(event, ...args),
			owe: name => this.receipts.add(name),
			schedule: () => this.turn.schedule(),
			localError: (what, error) => this.turn.localError(what, error),
		});
		this.receipts = new OwedReceipts(e2e, outbox, (what, error) => this.turn.localError(what, error), name => this.starter.need(name));
		this.roster = new Roster(e2e, {
			emit: (event, ...args) => this.emit(event, ...args),
			localError: (what, error) => this.turn.localError(what, error),
			holdRecords: (users, online) => this.inbound.holdRecords(users, online),
		});
		this.reader = new EnvelopeReader(e2e, {
			emit: (event, ...args) => this.emit(event, ...args),
			localError: (what, error) => this.turn.localError(what, error),
			schedule: () => this.turn.schedule(),
			acknowledge: delivery => this.turn.acknowledge(delivery),
			owe: name => this.receipts.add(name),
			isUnknown: name => this.finder.isUnknown(name),
			holdFromStranger: envelope => this.finder.holdFromStranger(envelope),
			sessionChanged: (from, change) => this.starter.changed(from, change),
			unreadable: from => this.starter.unreadable(from),
		});
		this.finder = new ContactFinder(
			{
				username: e2e.username,
				observe: users => this.roster.observe(users, false),
				contact: name => this.roster.contact(name),
				deliver: envelope => this.deliver(envelope),
				redeliver: () => this.redeliver(),
				carriedOver: complete => {
					if (complete) this.carryOverMark?.mark();
				},
				emit: (event, ...args) => this.emit(event, ...args),
			},
			whoIntervalMs,
			rateLimitPauseMs,
			strangerRetryMs,
		);
		this.rooms = roomAccount && new RoomSession(e2e, roomAccount, roomHostOf(this.starter, this.finder, {
			emit: (event, ...args) => this.emit(event, ...args),
			schedule: () => this.turn.schedule(),
			localError: (what, error) => this.turn.localError(what, error),
			redeliver: () => this.redeliver(),
		}));
		const {inbound, reader, receipts, starter, sender, finder, rooms} = this;
		this.turn = new SessionTurn({emit, inbound, reader, receipts, starter, sender, finder, rooms});
	}

	get username(): string {
		return this.e2e.username;
	}

	/**
	 * A complete welcome: its contacts are pinned or checked, and, unless the carry-over mark says
	 * it was done, the people talked with that it did not list are looked up (PROTOCOL.md section 4.3).
	 */
	welcome(users: readonly UserRecord[], online: readonly string[] = [], onlineCount = 0): {contacts: Contact[]; who: WhoView} {
		this.roster.observe(users, false);
		const listed = new Set(users.map(user => user.username));
		try {
			// Only the people talked with: the pins hold everyone a version 1 relay ever listed.
			this.finder.carryOver(this.carryOverMark?.done ? [] : this.e2e.talkedWith().filter(name => !listed.has(name) && name !== this.username));
		} catch (error) {
			this.turn.localError('could not read the contacts', error);
		}
		return {contacts: this.roster.contacts(), who: this.finder.welcomed(online, onlineCount)};
	}

	joined(user: UserRecord): void {
		this.starter.joined(user.username);
		if (this.roster.observe([user], true)[0]) this.emit('user-joined', this.roster.contact(user.username));
	}

	left(username: string): void {
		this.roster.left(username);
	}

	/** Contacts from the welcome, lookups and presence, and the pinned ones this account talks with. */
	contacts(): Contact[] {
		return this.roster.contacts();
	}

	/**
	 * A connection has logged in: what waits in the outbox goes out on it first, oldest first. At
	 * the end of the turn, after the welcome, what a previous process accepted and may not have
	 * shown is shown (see the class comment).
	 */
	attach(out: Transmit, prekeys: RelayPrekeys = {oneTime: 0, signed: null}, rooms: readonly WelcomeRoom[] = []): void {
		this.turn.attach(out);
		this.sender.attach(out);
		this.finder.attach(out);
		this.starter.attach(out, prekeys);
		this.rooms?.attach(out, rooms);
		this.turn.schedule();
	}

	/**
	 * The connection is gone. Nothing goes out until the next attach(); what was sent and not
	 * answered goes again then. Acks are dropped: the relay delivers those envelopes again and
	 * they are rejected as replays. Who is online is unknown until the next welcome.
	 */
	detach(): void {
		this.turn.detach();
		this.inbound.clear();
		this.sender.detach();
		this.finder.detach();
		this.starter.detach();
		this.rooms?.detach();
		this.roster.allOffline();
	}

	send(to: string, text: string): string {
		this.sender.makeRoom(1);
		const id = newMessageId();
		this.queue(to, this.e2e.seal(to, 'direct', id, text));
		this.sender.transmit();
		return id;
	}

	sendToEveryone(text: string): {id: string; recipients: string[]} {
		const id = newMessageId();
		const {keyChanged} = this.e2e.marks();
		const recipients = this.roster.onlineExcept(keyChanged);
		if (recipients.length > 0) this.sender.makeRoom(recipients.length);
		for (const to of recipients) this.queue(to, this.e2e.seal(to, 'everyone', id, text));
		this.sender.transmit();
		return {id, recipients};
	}

	/** A sealed envelope goes to the outbox; a text with no session to seal it in waits for `to`'s bundle. */
	private queue(to: string, envelope: Envelope | undefined): void {
		if (envelope === undefined) this.starter.need(to);
		else this.outbox.add(envelope, true);
	}

	/** The relay has the envelope `id` to `to` safe (see OutboxSender.accepted). */
	accepted(id: string, to: string): void {
		this.sender.accepted(id, to);
	}

	/** The relay refused the envelope `id` (see OutboxSender.refused). */
	refused(id: string, code: string): void {
		this.sender.refused(id, code);
	}

	deliver(envelope: DeliveredEnvelope): void {
		if (!this.inbound.blocked && this.reader.receive(envelope)) return;
		this.inbound.hold(envelope);
	}

	trust(username: string, safetyNumber?: string): void {
		if (safetyNumber !== undefined && this.e2e.safetyNumber(username) !== safetyNumber) {
			throw new Error(`${username}'s key changed again since you compared it; run /verify ${username} again`);
		}
		const trusted = this.e2e.trust(username);
		if (!trusted) return;
		if (trusted === 'new-keys') {
			// Sealed for the old keys, which whoever holds the new ones cannot open; sessions start over.
			const reason = `it was sealed for ${username}'s previous key`;
			for (const envelope of this.outbox.removeTo(username)) this.emit('unsent', {id: envelope.id, to: username, reason});
			for (const id of this.e2e.forgetSessions(username)) this.emit('unsent', {id, to: username, reason: `it was written for ${username}'s previous key`});
		}
		this.starter.trusted(username);

		// Receipts owed to the keys now pinned (the same keys, or keys pinned before and trusted again).
		this.receipts.add(username);
		this.turn.schedule();
		this.sender.transmit();
		this.emit('contact-updated', this.roster.contact(username));
		for (const envelope of this.reader.release(username)) this.deliver(envelope);
	}

	setVerified(username: string, verified: boolean): void {
		this.e2e.setVerified(username, verified);
		this.emit('contact-updated', this.roster.contact(username));
	}

	safetyNumber(username: string): string {
		return this.e2e.safetyNumber(username);
	}

	/** Tries again what the contact store refused: the directory, then the waiting envelopes, in order; then a flush. */
	private retry(): void {
		const users = this.inbound.takeRecords();
		if (users.length > 0) {
			this.roster.observe(users, false);
			// Failed again: observe() kept them and set the next try.
			if (this.inbound.hasRecords) return;
		}
		switch (this.inbound.drain(envelope => this.reader.receive(envelope))) {
			case 'stuck':
				return;
			case 'overflowed':
				this.redeliver();
				return;
			case 'done':
				this.turn.schedule();
		}
	}
}
