import type {ClientEvents, Contact} from '../net/client-events.js';
import type {ClientMessage, DeliveredEnvelope, UserRecord} from '../net/messages.js';
import {maxAckDeliveries} from '../net/messages.js';
import {newMessageId, type EndToEnd} from './end-to-end.js';
import type {Outbox} from './outbox.js';

/** Envelopes kept in memory behind one contact's changed key; the relay keeps the rest. */
const maxHeldPerSender = 1000;

type Emit = <E extends keyof ClientEvents>(event: E, ...args: ClientEvents[E]) => void;

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
const sendAgainCodes: ReadonlySet<string> = new Set(['rate_limited', 'storage_failed']);

/**
 * A logged-in user's side of the conversation: the roster, envelopes in and out, receipts,
 * acknowledgements, and messages held behind a changed key. ChatClient feeds it relay messages.
 * It outlives a connection: between attach() and detach() it has one to send on; meanwhile what
 * it seals waits in the outbox, and goes out, in order, once the next connection is attached.
 */
export class ChatSession {
	private readonly online = new Map<string, boolean>();
	private readonly held = new Map<string, DeliveredEnvelope[]>();
	private receipts = new Map<string, string[]>();
	private acks: number[] = [];
	private flushScheduled = false;
	private out: Transmit | undefined;
	private pause: NodeJS.Timeout | undefined;
	/** How many may be out unanswered: maxInFlight, or less while the relay rate-limits. */
	private window = maxInFlight;
	private acceptedSincePause = 0;
	private strikes = 0;

	constructor(
		private readonly e2e: EndToEnd,
		private readonly outbox: Outbox,
		private readonly emit: Emit,
	) {}

	get username(): string {
		return this.e2e.username;
	}

	welcome(users: readonly UserRecord[]): Contact[] {
		this.observe(users, false);
		return this.contacts();
	}

	joined(user: UserRecord): void {
		if (this.observe([user], true)[0]) this.emit('user-joined', this.contact(user.username));
	}

	left(username: string): void {
		if (!this.online.has(username)) return;
		this.online.set(username, false);
		this.emit('user-left', username);
	}

	contacts(): Contact[] {
		return [...this.online.keys()].sort().map(name => this.contact(name));
	}

	/** A connection has logged in: what waits in the outbox goes out on it first, oldest first. */
	attach(out: Transmit): void {
		this.out = out;
		this.transmit();
	}

	/**
	 * The connection is gone. Nothing goes out until the next attach(); what was sent and not
	 * answered goes again then. Acks are dropped: the relay delivers those envelopes again and
	 * they are rejected as replays. Who is online is unknown until the next welcome.
	 */
	detach(): void {
		this.out = undefined;
		this.acks = [];
		clearTimeout(this.pause);
		this.pause = undefined;
		this.window = maxInFlight;
		this.acceptedSincePause = 0;
		this.strikes = 0;
		this.outbox.unsend();
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
		const recipients = [...this.online]
			.filter(([name, online]) => online && !this.e2e.hasChangedKey(name))
			.map(([name]) => name);
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
	 * full), it leaves the outbox. Not taken for now (rate_limited, storage_failed), it goes out
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
		const opened = this.e2e.open(envelope);
		switch (opened.type) {
			case 'held': {
				const held = this.held.get(opened.from) ?? [];
				// Past the cap an envelope is neither held nor acknowledged: it stays on the relay for a later login.
				if (held.length >= maxHeldPerSender) return;
				if (!held.some(item => item.delivery === envelope.delivery)) held.push(envelope);
				this.held.set(opened.from, held);
				this.emit('held', {from: opened.from, count: held.length});
				return;
			}
			case 'rejected':
				this.emit('rejected', {from: opened.from, code: opened.code, reason: opened.reason});
				break;
			case 'receipt':
				if (opened.gap > 0) this.emit('gap', {from: opened.from, missing: opened.gap});
				for (const id of opened.ids) this.emit('delivered', {id, by: opened.from});
				break;
			case 'text':
				if (opened.gap > 0) this.emit('gap', {from: opened.from, missing: opened.gap});
				this.emit('message', {
					id: opened.id,
					from: opened.from,
					to: envelope.to,
					kind: opened.kind,
					text: opened.text,
					time: envelope.time,
					sent: opened.sent,
				});
				this.receiptFor(opened.from, opened.id);
		}
		this.acknowledge(envelope.delivery);
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

	/** Pins or checks the records; for each, true when the user is listed (its record is valid). */
	private observe(users: readonly UserRecord[], online: boolean): boolean[] {
		const others = users.filter(user => user.username !== this.username);
		const wasChanged = others.map(user => this.e2e.hasChangedKey(user.username));
		const verdicts = this.e2e.observeAll(others);
		const listed = users.map(user => user.username !== this.username);
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

	private contact(username: string): Contact {
		return {
			username,
			online: this.online.get(username) ?? false,
			verified: this.e2e.isVerified(username),
			keyChanged: this.e2e.hasChangedKey(username),
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

	private receiptFor(to: string, id: string): void {
		const ids = this.receipts.get(to) ?? [];
		ids.push(id);
		this.receipts.set(to, ids);
		this.schedule();
	}

	private acknowledge(delivery: number): void {
		this.acks.push(delivery);
		this.schedule();
	}

	/** Receipts and acks from one turn of the event loop go out together. */
	private schedule(): void {
		if (this.flushScheduled) return;
		this.flushScheduled = true;
		queueMicrotask(() => this.flush());
	}

	private flush(): void {
		this.flushScheduled = false;
		const receipts = this.receipts;
		this.receipts = new Map();
		for (const [to, ids] of receipts) {
			if (this.e2e.hasChangedKey(to)) continue;
			for (let start = 0; start < ids.length; start += maxAckDeliveries) {
				// A full outbox drops the receipt before it spends a counter: the sender just sees no tick.
				if (!this.outbox.hasRoom(1)) break;
				this.outbox.add(this.e2e.receipt(to, ids.slice(start, start + maxAckDeliveries)));
			}
		}
		this.transmit();
		const acks = this.acks;
		this.acks = [];
		const out = this.out;
		if (out === undefined) return;
		for (let start = 0; start < acks.length; start += maxAckDeliveries) {
			out({type: 'ack', deliveries: acks.slice(start, start + maxAckDeliveries)});
		}
	}
}
