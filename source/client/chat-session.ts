import type {Contact, Emit} from './client-events.js';
import type {ClientMessage, DeliveredEnvelope, RelayMessage, UserRecord} from '../net/messages.js';
import type {CarryOverMark} from './carry-over-mark.js';
import {ContactFinder, defaultStrangerRetryMs} from './contact-finder.js';
import {defaultWhoIntervalMs, type WhoView} from './who-online.js';
import {maxAckDeliveries} from '../net/messages.js';
import {newMessageId, type EndToEnd, type Opened} from './end-to-end.js';
import {InboundQueue} from './inbound-queue.js';
import type {Accepted, Settlement} from './inbox-ledger.js';
import type {Outbox} from './outbox.js';

/** Envelopes kept in memory behind one contact's changed key; the relay keeps the rest. */
const maxHeldPerSender = 1000;

type Transmit = (message: ClientMessage) => void;

/**
 * At most this many envelopes from the outbox are out unanswered at once: the relay's default burst
 * (PROTOCOL.md section 6), so a pasted block that fits the burst goes out in one go.
 */
export const maxInFlight = 200;
/**
 * After a rate_limited answer the client pauses, then sends at most as many at once as the relay
 * took during the last pause and the run before it; the pause doubles while the relay takes
 * nothing. So each pause costs the relay's allowance of refusals about what it refills meanwhile,
 * and a long outbox sent after a reconnect never ends in `flooding`.
 */
export const rateLimitPauseMs = 1000;
export const maxRateLimitPauseMs = 30_000;

/** Refusals that mean "not now" (PROTOCOL.md section 5): the envelope is sent again, unchanged. */
const sendAgainCodes: ReadonlySet<string> = new Set(['rate_limited', 'storage_failed', 'lookup_throttled']);

/**
 * A logged-in user's side of the conversation: the roster, envelopes in and out, receipts,
 * acknowledgements, and messages held behind a changed key. ChatClient feeds it relay messages.
 * It outlives a connection: between attach() and detach() it has one to send on; meanwhile what
 * it seals waits in the outbox, and goes out, in order, once the next connection is attached.
 *
 * Every accepted envelope is shown at least once per data directory, whenever the process is
 * killed, and at most once per process. Its counter is spent in the same contacts.json update
 * that keeps what it shows (an "inbox" entry), since a spent counter makes the relay's copy a
 * replay. The entry is shown (emitted) right after, and the next update of the file, whatever it
 * is for, replaces it with the receipt it owes; the receipt is sealed and saved in the outbox at
 * the end of the turn, and only then is it marked paid. Each process first shows the entries it
 * finds: what a killed process accepted but may not have shown. So a message is never lost, and
 * is shown again by the next process only if its process died between showing it and that next
 * write (one write, however busy the turn); a redelivery is a replay, acknowledged and dropped.
 * A receipt owed to a contact whose key changed waits in contacts.json with the pinned keys.
 *
 * When this device cannot save (a lock held too long, a full disk), the envelope is not
 * acknowledged: it and those after it wait, in order, and are tried again after a pause, so the
 * relay keeps them until they are saved, and no later one shows a false gap.
 */
export class ChatSession {
	private readonly online = new Map<string, boolean>();
	private readonly held = new Map<string, DeliveredEnvelope[]>();
	/** Contacts whose owed receipts (contact store) go out at the next flush, unless their key changed. */
	private readonly owedToPay = new Set<string>();
	/** Whether the entries a previous process left in the contact store were shown. */
	private caughtUp = false;
	/** What waits for the contact store after it failed. */
	private readonly inbound = new InboundQueue(() => this.retry());
	/** A local error was reported and the store has not worked since: say it once, not per envelope. */
	private troubled = false;
	private acks: number[] = [];
	private flushScheduled = false;
	private out: Transmit | undefined;
	private pause: NodeJS.Timeout | undefined;
	/** How many may be out unanswered: maxInFlight, or less while the relay rate-limits. */
	private window = maxInFlight;
	private acceptedSincePause = 0;
	private strikes = 0;
	/** Lookups, senders with no pin, who is online (contact-finder.ts). */
	private readonly finder: ContactFinder;

	constructor(
		private readonly e2e: EndToEnd,
		private readonly outbox: Outbox,
		private readonly emit: Emit,
		/** Ends the connection so that the relay, at the next login, sends again what was not acknowledged. */
		private readonly redeliver: () => void = () => {},
		whoIntervalMs = defaultWhoIntervalMs,
		strangerRetryMs = defaultStrangerRetryMs,
		/** Set once the pins of an older version were carried over; absent: carried over at every start. */
		private readonly carryOverMark?: CarryOverMark,
	) {
		this.finder = new ContactFinder(
			{
				username: e2e.username,
				observe: users => this.observe(users, false),
				contact: name => this.contact(name),
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
	}

	get username(): string {
		return this.e2e.username;
	}

	/**
	 * A complete welcome: its contacts are pinned or checked, and, unless the carry-over mark says
	 * it was done, the people talked with that it did not list are looked up (PROTOCOL.md section 4.3).
	 */
	welcome(users: readonly UserRecord[], online: readonly string[] = [], onlineCount = 0): {contacts: Contact[]; who: WhoView} {
		this.observe(users, false);
		const listed = new Set(users.map(user => user.username));
		try {
			// Only the people talked with: pins.json holds everyone a version 1 relay ever listed.
			this.finder.carryOver(this.carryOverMark?.done ? [] : this.e2e.talkedWith().filter(name => !listed.has(name) && name !== this.username));
		} catch (error) {
			this.localError('could not read the contacts file', error);
		}
		return {contacts: this.contacts(), who: this.finder.welcomed(online, onlineCount)};
	}

	/** See ChatConnection.lookup: names valid and folded. */
	lookup(names: readonly string[]): string[] {
		return this.finder.lookup(names);
	}

	who(): void {
		this.finder.askWho(true);
	}

	get whoView(): WhoView {
		return this.finder.whoView;
	}

	found(message: Extract<RelayMessage, {type: 'found'}>): void {
		this.finder.found(message);
	}

	whoAnswered(names: readonly string[], total: number): void {
		this.finder.online(names, total);
	}

	/** rate_limited without a ref: a who (or a ping) was dropped. */
	droppedWithoutRef(): void {
		this.finder.droppedWithoutRef();
	}

	/** A refusal whose ref is one of our lookups: 'lookup-failed' is emitted, and true returned. */
	lookupRefused(ref: string, code: string, message: string): boolean {
		return this.finder.refused(ref, code, message);
	}

	joined(user: UserRecord): void {
		if (this.observe([user], true)[0]) this.emit('user-joined', this.contact(user.username));
	}

	left(username: string): void {
		if (!this.online.has(username)) return;
		this.online.set(username, false);
		this.emit('user-left', username);
	}

	/** Contacts from the welcome, lookups and presence, and the pinned ones this account talks with. */
	contacts(): Contact[] {
		const marks = this.e2e.marks();
		const names = new Set(this.online.keys());
		for (const name of this.e2e.talkedWith()) if (name !== this.username) names.add(name);
		return [...names].sort().map(name => this.contact(name, marks));
	}

	/**
	 * A connection has logged in: what waits in the outbox goes out on it first, oldest first. At
	 * the end of the turn, after the welcome, what a previous process accepted and may not have
	 * shown is shown (see the class comment).
	 */
	attach(out: Transmit): void {
		this.out = out;
		this.transmit();
		this.finder.attach(out);
		this.schedule();
	}

	/**
	 * The connection is gone. Nothing goes out until the next attach(); what was sent and not
	 * answered goes again then. Acks are dropped: the relay delivers those envelopes again and
	 * they are rejected as replays. Who is online is unknown until the next welcome.
	 */
	detach(): void {
		this.out = undefined;
		this.acks = [];
		this.inbound.clear();
		clearTimeout(this.pause);
		this.pause = undefined;
		this.window = maxInFlight;
		this.acceptedSincePause = 0;
		this.strikes = 0;
		this.outbox.unsend();
		this.finder.detach();
		for (const name of this.online.keys()) this.online.set(name, false);
	}

	send(to: string, text: string): string {
		this.makeRoom(1);
		const id = newMessageId();
		this.outbox.add(this.e2e.seal(to, 'direct', id, text));
		this.transmit();
		return id;
	}

	sendToEveryone(text: string): {id: string; recipients: string[]} {
		const id = newMessageId();
		const {keyChanged} = this.e2e.marks();
		const recipients = [...this.online].filter(([name, online]) => online && !keyChanged.has(name)).map(([name]) => name);
		if (recipients.length > 0) this.makeRoom(recipients.length);
		for (const to of recipients) this.outbox.add(this.e2e.seal(to, 'everyone', id, text));
		this.transmit();
		return {id, recipients};
	}

	/** The relay has the envelope `id` to `to` safe: it leaves the outbox, and room opens for the next ones. */
	accepted(id: string, to: string): void {
		if (this.outbox.settle(id, to) === undefined) return;
		this.acceptedSincePause++;
		if (this.outbox.size === 0) this.window = maxInFlight;
		this.transmit();
	}

	/**
	 * The relay refused the envelope `id`. Refused for good (unknown recipient, too large, queue
	 * full, the sender's quota on the relay used up), it leaves the outbox. Not taken for now (rate_limited, storage_failed,
	 * lookup_throttled: a first message to someone not yet a contact, past the lookup tokens), it goes out
	 * again, unchanged, after a pause that doubles while the relay takes nothing.
	 */
	refused(id: string, code: string): void {
		if (!sendAgainCodes.has(code)) {
			if (this.outbox.settle(id) !== undefined) this.transmit();
			return;
		}

		if (!this.outbox.resend(id) || this.pause !== undefined) return;
		const delay = Math.min(maxRateLimitPauseMs, rateLimitPauseMs * 2 ** Math.min(this.strikes, 16));
		this.pause = setTimeout(() => {
			this.pause = undefined;
			this.strikes = this.acceptedSincePause === 0 ? this.strikes + 1 : 0;
			this.window = Math.max(1, Math.min(maxInFlight, this.acceptedSincePause));
			this.acceptedSincePause = 0;
			this.transmit();
		}, delay);
		this.pause.unref();
	}

	deliver(envelope: DeliveredEnvelope): void {
		if (!this.inbound.blocked && this.receive(envelope)) return;
		this.inbound.hold(envelope);
	}

	trust(username: string, safetyNumber?: string): void {
		if (safetyNumber !== undefined && this.e2e.safetyNumber(username) !== safetyNumber) {
			throw new Error(`${username}'s key changed again since you compared it; run /verify ${username} again`);
		}
		const trusted = this.e2e.trust(username);
		if (!trusted) return;
		if (trusted === 'new-keys') {
			// Sealed for the old keys, which whoever holds the new ones cannot open.
			for (const envelope of this.outbox.removeTo(username)) {
				this.emit('unsent', {id: envelope.id, to: username, reason: `it was sealed for ${username}'s previous key`});
			}
		}

		// Receipts owed to the keys now pinned (the same keys, or keys pinned before and trusted again).
		this.owedToPay.add(username);
		this.schedule();
		this.transmit();
		this.emit('contact-updated', this.contact(username));
		const held = this.held.get(username) ?? [];
		this.held.delete(username);
		for (const envelope of held) this.deliver(envelope);
	}

	setVerified(username: string, verified: boolean): void {
		this.e2e.setVerified(username, verified);
		this.emit('contact-updated', this.contact(username));
	}

	safetyNumber(username: string): string {
		return this.e2e.safetyNumber(username);
	}

	/**
	 * Pins or checks the records; for each, true when the user is listed (its record is valid).
	 * If the contact store fails, they are listed for now and checked again before any envelope.
	 */
	private observe(users: readonly UserRecord[], online: boolean): boolean[] {
		const others = users.filter(user => user.username !== this.username);
		const listed = users.map(user => user.username !== this.username);
		let wasChanged: boolean[];
		let verdicts: ReturnType<EndToEnd['observeAll']>;
		try {
			const {keyChanged} = this.e2e.marks();
			wasChanged = others.map(user => keyChanged.has(user.username));
			verdicts = this.e2e.observeAll(others);
		} catch (error) {
			this.localError('could not save the keys the relay serves', error);
			for (const user of others) this.online.set(user.username, online || user.online);
			this.inbound.holdRecords(others, online);
			return listed;
		}
		for (const [index, user] of others.entries()) {
			const name = user.username;
			const verdict = verdicts[index];
			if (verdict === 'invalid') {
				listed[users.indexOf(user)] = false;
				this.emit('rejected', {from: name, code: 'invalid_identity', reason: 'the relay served an identity whose signature does not verify'});
				continue;
			}
			this.online.set(name, online || user.online);
			if (verdict === 'changed' && !wasChanged[index]) this.emit('contact-updated', this.contact(name));
		}
		return listed;
	}

	private contact(username: string, marks = this.e2e.marks()): Contact {
		return {
			username,
			online: this.online.get(username) ?? false,
			verified: marks.verified.has(username),
			keyChanged: marks.keyChanged.has(username),
		};
	}

	/** Refused before anything is sealed, so no counter is spent on a message that never leaves. */
	private makeRoom(count: number): void {
		if (!this.outbox.hasRoom(count)) {
			throw new Error(`${this.outbox.size} messages already wait to be sent; try again once they have gone out`);
		}
	}

	/**
	 * Sends what waits and has not gone out on this connection, oldest first, at most `window`
	 * unanswered at once; nothing to a contact whose key changed, nothing during a pause.
	 */
	private transmit(): void {
		const out = this.out;
		if (out === undefined || this.pause !== undefined) return;
		const room = this.window - this.outbox.inFlight;
		if (room <= 0) return;
		for (const envelope of this.outbox.takeUnsent(waiting => !this.e2e.hasChangedKey(waiting.to), room)) {
			out({type: 'send', ...envelope});
		}
	}

	/**
	 * Opens one envelope and shows what it holds; false, with nothing shown or acknowledged, when
	 * the contact store failed.
	 */
	private receive(envelope: DeliveredEnvelope): boolean {
		if (!this.catchUp()) return false;
		let opened: Opened;
		try {
			if (this.fromStranger(envelope)) return true;
			opened = this.e2e.open(envelope);
		} catch (error) {
			this.localError(`could not save a message from ${envelope.from}`, error);
			return false;
		}
		switch (opened.type) {
			case 'held': {
				const held = this.held.get(opened.from) ?? [];
				// Past the cap an envelope is neither held nor acknowledged: it stays on the relay for a later login.
				if (held.length >= maxHeldPerSender) return true;
				if (!held.some(item => item.delivery === envelope.delivery)) held.push(envelope);
				this.held.set(opened.from, held);
				this.emit('held', {from: opened.from, count: held.length});
				return true;
			}
			case 'rejected': {
				const {from, code, reason, gap = 0} = opened;
				// A malformed envelope that spent its counter: the ones it skipped never arrived.
				if (gap > 0) this.emit('gap', {from, missing: gap});
				this.emit('rejected', {from, code, reason});
				break;
			}
			case 'receipt':
				this.show(opened.from, {type: 'receipt', id: envelope.id, ids: opened.ids, time: envelope.time, gap: opened.gap});
				break;
			case 'text': {
				const {id, kind, text, sent, gap} = opened;
				this.show(opened.from, {type: 'text', id, kind, text, sent, time: envelope.time, gap});
			}
		}
		this.acknowledge(envelope.delivery);
		return true;
	}

	/**
	 * An envelope from a sender with no pin waits for its lookup (true); once the lookup said the
	 * sender is not registered, it is rejected as before (false: opening says so).
	 */
	private fromStranger(envelope: DeliveredEnvelope): boolean {
		const {from} = envelope;
		if (envelope.to !== this.username || this.e2e.knows(from) || this.finder.isUnknown(from)) return false;
		this.finder.holdFromStranger(envelope);
		this.schedule();
		return true;
	}

	/** Emits what an accepted envelope holds, then has the next contact-store write mark it shown. */
	private show(from: string, accepted: Accepted): void {
		if (accepted.gap > 0) this.emit('gap', {from, missing: accepted.gap});
		if (accepted.type === 'text') {
			const {id, kind, text, time, sent} = accepted;
			this.emit('message', {id, from, to: this.username, kind, text, time, sent});
		} else {
			for (const id of accepted.ids) this.emit('delivered', {id, by: from});
		}
		this.e2e.shown(from, accepted);
		if (accepted.type === 'text') this.owedToPay.add(from);
		this.schedule();
	}

	/**
	 * Shows, once per session, what the contact store holds accepted and unsettled: what a process
	 * that was killed accepted, maybe without showing it. False when the store cannot be read.
	 */
	private catchUp(): boolean {
		if (this.caughtUp) return true;
		let stored: ReturnType<EndToEnd['inbox']>;
		try {
			stored = this.e2e.inbox();
			for (const name of this.e2e.owing()) this.owedToPay.add(name);
		} catch (error) {
			this.localError('could not read the contacts file', error);
			return false;
		}
		this.caughtUp = true;
		for (const {from, accepted} of stored) this.show(from, accepted);
		return true;
	}

	/** Tries again what the contact store refused: the directory, then the waiting envelopes, in order; then a flush. */
	private retry(): void {
		const users = this.inbound.takeRecords();
		if (users.length > 0) {
			this.observe(users, false);
			// Failed again: observe() kept them and set the next try.
			if (this.inbound.hasRecords) return;
		}
		switch (this.inbound.drain(envelope => this.receive(envelope))) {
			case 'stuck':
				return;
			case 'overflowed':
				this.redeliver();
				return;
			case 'done':
				this.schedule();
		}
	}

	/**
	 * Seals the receipts owed (for what was shown, and earlier ones), saves them in the outbox, then
	 * marks them paid in the contact store, in one update that also carries what is still deferred.
	 * A contact whose key changed gets no receipt: its ids stay owed to the pinned keys. What fails
	 * is tried again later.
	 */
	private settle(): boolean {
		const settlements: Settlement[] = [];
		let failed = false;
		for (const name of this.owedToPay) {
			try {
				if (this.e2e.hasChangedKey(name)) {
					this.owedToPay.delete(name);
					continue;
				}
				const owed = this.e2e.owedReceipts(name);
				this.sendReceipts(name, owed);
				settlements.push({name, shown: [], owe: [], paid: owed});
			} catch (error) {
				this.localError(`could not send receipts to ${name}`, error);
				failed = true;
			}
		}
		// The receipts are saved before they are marked paid; unsaved, they stay owed (a receipt sent twice is harmless).
		const saved = this.outbox.flush();
		if (!saved) this.localError('could not save the receipts it sends', new Error('the outbox file could not be written'));
		try {
			this.e2e.settle(saved ? settlements : settlements.map(settlement => ({...settlement, paid: []})));
		} catch (error) {
			this.localError('could not save which messages were shown', error);
			return false;
		}
		if (saved) for (const {name} of settlements) this.owedToPay.delete(name);
		return saved && !failed;
	}

	/** Seals receipts for `ids`, at most maxAckDeliveries each; a full outbox drops the rest. */
	private sendReceipts(to: string, ids: readonly string[]): void {
		for (let start = 0; start < ids.length; start += maxAckDeliveries) {
			// A full outbox drops the receipt before it spends a counter: the sender just sees no tick.
			if (!this.outbox.hasRoom(1)) return;
			this.outbox.add(this.e2e.receipt(to, ids.slice(start, start + maxAckDeliveries)));
		}
	}

	/** The contact store failed: said once, until it works again. */
	private localError(what: string, error: unknown): void {
		if (this.troubled) return;
		this.troubled = true;
		const why = error instanceof Error ? error.message : String(error);
		this.emit('local-error', {
			message: `this device ${what} (${why}); the relay keeps what was not saved, and the client tries again shortly`,
		});
	}

	private acknowledge(delivery: number): void {
		this.acks.push(delivery);
		this.schedule();
	}

	/** Receipts, settlements and acks from one turn of the event loop go out together. */
	private schedule(): void {
		if (this.flushScheduled) return;
		this.flushScheduled = true;
		queueMicrotask(() => this.flush());
	}

	private flush(): void {
		this.flushScheduled = false;
		const caughtUp = this.catchUp();
		const settled = this.settle();
		if (caughtUp && settled && this.inbound.empty) {
			this.inbound.worked();
			this.troubled = false;
		} else {
			this.inbound.retryLater();
		}
		try {
			this.transmit();
		} catch (error) {
			// it reads the contacts file (whose keys changed); a damaged or unreadable file must not end the client
			this.localError('could not read the contacts file', error);
			this.inbound.retryLater();
		}
		this.finder.flush();
		const acks = this.acks;
		this.acks = [];
		const out = this.out;
		if (out === undefined) return;
		for (let start = 0; start < acks.length; start += maxAckDeliveries) {
			out({type: 'ack', deliveries: acks.slice(start, start + maxAckDeliveries)});
		}
	}
}
