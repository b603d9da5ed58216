import type {ClientEvents, Contact} from '../net/client-events.js';
import type {ClientMessage, DeliveredEnvelope, UserRecord} from '../net/messages.js';
import {maxAckDeliveries} from '../net/messages.js';
import {newMessageId, type EndToEnd} from './end-to-end.js';

type Emit = <E extends keyof ClientEvents>(event: E, ...args: ClientEvents[E]) => void;

/**
 * A logged-in user's side of the conversation: the roster, envelopes in and out, receipts,
 * acknowledgements, and messages held behind a changed key. ChatClient feeds it relay messages.
 */
export class ChatSession {
	private readonly online = new Map<string, boolean>();
	private readonly held = new Map<string, DeliveredEnvelope[]>();
	private receipts = new Map<string, string[]>();
	private acks: number[] = [];
	private flushScheduled = false;

	constructor(
		private readonly e2e: EndToEnd,
		private readonly out: (message: ClientMessage) => void,
		private readonly emit: Emit,
	) {}

	get username(): string {
		return this.e2e.username;
	}

	welcome(users: readonly UserRecord[]): Contact[] {
		for (const user of users) this.observe(user, false);
		return this.contacts();
	}

	joined(user: UserRecord): void {
		if (this.observe(user, true)) this.emit('user-joined', this.contact(user.username));
	}

	left(username: string): void {
		if (!this.online.has(username)) return;
		this.online.set(username, false);
		this.emit('user-left', username);
	}

	contacts(): Contact[] {
		return [...this.online.keys()].sort().map(name => this.contact(name));
	}

	send(to: string, text: string): string {
		const id = newMessageId();
		this.out({type: 'send', ...this.e2e.seal(to, 'direct', id, text)});
		return id;
	}

	sendToEveryone(text: string): {id: string; recipients: string[]} {
		const id = newMessageId();
		const recipients = [...this.online]
			.filter(([name, online]) => online && !this.e2e.hasChangedKey(name))
			.map(([name]) => name);
		for (const to of recipients) this.out({type: 'send', ...this.e2e.seal(to, 'everyone', id, text)});
		return {id, recipients};
	}

	deliver(envelope: DeliveredEnvelope): void {
		const opened = this.e2e.open(envelope);
		switch (opened.type) {
			case 'held': {
				const held = this.held.get(opened.from) ?? [];
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

	trust(username: string): void {
		if (!this.e2e.trust(username)) return;
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

	/** Returns true when the user is listed (its record is valid). */
	private observe(user: UserRecord, online: boolean): boolean {
		const name = user.username;
		if (name === this.username) return false;
		const wasChanged = this.e2e.hasChangedKey(name);
		const verdict = this.e2e.observe(user);
		if (verdict === 'invalid') {
			this.emit('rejected', {from: name, code: 'invalid_identity', reason: 'the relay served an identity whose signature does not verify'});
			return false;
		}
		this.online.set(name, online || user.online);
		if (verdict === 'changed' && !wasChanged) this.emit('contact-updated', this.contact(name));
		return true;
	}

	private contact(username: string): Contact {
		return {
			username,
			online: this.online.get(username) ?? false,
			verified: this.e2e.isVerified(username),
			keyChanged: this.e2e.hasChangedKey(username),
		};
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
				this.out({type: 'send', ...this.e2e.receipt(to, ids.slice(start, start + maxAckDeliveries))});
			}
		}
		const acks = this.acks;
		this.acks = [];
		for (let start = 0; start < acks.length; start += maxAckDeliveries) {
			this.out({type: 'ack', deliveries: acks.slice(start, start + maxAckDeliveries)});
		}
	}
}
