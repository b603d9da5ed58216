import type {DeliveredEnvelope} from '../net/messages.js';
import type {Emit} from './client-events.js';
import type {EndToEnd, Opened} from './end-to-end.js';
import type {Accepted} from './inbox-ledger.js';
import type {SessionChange} from './ratchet/ratchet-sessions.js';

/** Envelopes kept in memory behind one contact's changed key; the relay keeps the rest. */
const maxHeldPerSender = 1000;

/** What the reader needs from its session. */
export type ReaderHost = {
	emit: Emit;
	/** The contact store failed (said once, until it works again). */
	localError(what: string, error: unknown): void;
	/** Receipts, settlements and acks go out together at the end of the turn. */
	schedule(): void;
	acknowledge(delivery: number): void;
	/** `name` is owed receipts. */
	owe(name: string): void;
	/** The lookup said `name` is not registered. */
	isUnknown(name: string): boolean;
	/** An envelope from a sender with no pin, kept until its lookup answers. */
	holdFromStranger(envelope: DeliveredEnvelope): void;
	/** What an envelope did to the sender's sessions (ratchet/session-starter.ts). */
	sessionChanged(from: string, change: SessionChange | undefined): void;
	/** An envelope from `from` was sealed in a session this device cannot read: rebuild it. */
	unreadable(from: string): void;
};

/**
 * A session's incoming side: opens delivered envelopes and shows what they hold, keeps those
 * behind a changed key, and shows once what a previous process accepted (see ChatSession).
 */
export class EnvelopeReader {
	private readonly held = new Map<string, DeliveredEnvelope[]>();
	/** Whether the entries a previous process left in the contact store were shown. */
	private caughtUp = false;

	constructor(
		private readonly e2e: EndToEnd,
		private readonly host: ReaderHost,
	) {}

	/** The envelopes held behind `username`'s changed key, no longer held. */
	release(username: string): DeliveredEnvelope[] {
		const held = this.held.get(username) ?? [];
		this.held.delete(username);
		return held;
	}

	/**
	 * Opens one envelope and shows what it holds; false, with nothing shown or acknowledged, when
	 * the contact store failed.
	 */
	receive(envelope: DeliveredEnvelope): boolean {
		if (!this.catchUp()) return false;
		let opened: Opened;
		try {
			if (this.fromStranger(envelope)) return true;
			opened = this.e2e.open(envelope);
		} catch (error) {
			this.host.localError(`could not save a message from ${envelope.from}`, error);
			return false;
		}
		switch (opened.type) {
			case 'held': {
				const held = this.held.get(opened.from) ?? [];
				// Past the cap an envelope is neither held nor acknowledged: it stays on the relay for a later login.
				if (held.length >= maxHeldPerSender) return true;
				if (!held.some(item => item.delivery === envelope.delivery)) held.push(envelope);
				this.held.set(opened.from, held);
				this.host.emit('held', {from: opened.from, count: held.length});
				return true;
			}
			case 'rejected': {
				const {from, code, reason, gap = 0} = opened;
				// A malformed envelope that spent its counter: the ones it skipped never arrived.
				if (gap > 0) this.host.emit('gap', {from, missing: gap});
				this.host.emit('rejected', {from, code, reason});
				if (opened.reset) this.host.unreadable(from);
				break;
			}
			case 'reset':
				if (opened.gap > 0) this.host.emit('gap', {from: opened.from, missing: opened.gap});
				this.host.sessionChanged(opened.from, opened.change);
				break;
			case 'receipt':
				this.show(opened.from, {type: 'receipt', id: envelope.id, ids: opened.ids, time: envelope.time, gap: opened.gap});
				this.host.sessionChanged(opened.from, opened.change);
				break;
			case 'text': {
				const {id, kind, text, sent, gap} = opened;
				this.show(opened.from, {type: 'text', id, kind, text, sent, time: envelope.time, gap});
				this.host.sessionChanged(opened.from, opened.change);
			}
		}
		this.host.acknowledge(envelope.delivery);
		return true;
	}

	/**
	 * Shows, once per session, what the contact store holds accepted and unsettled: what a process
	 * that was killed accepted, maybe without showing it. False when the store cannot be read.
	 */
	catchUp(): boolean {
		if (this.caughtUp) return true;
		let stored: ReturnType<EndToEnd['inbox']>;
		try {
			stored = this.e2e.inbox();
			for (const name of this.e2e.owing()) this.host.owe(name);
		} catch (error) {
			this.host.localError('could not read the contacts file', error);
			return false;
		}
		this.caughtUp = true;
		for (const {from, accepted} of stored) this.show(from, accepted);
		return true;
	}

	/**
	 * An envelope from a sender with no pin waits for its lookup (true); once the lookup said the
	 * sender is not registered, it is rejected as before (false: opening says so).
	 */
	private fromStranger(envelope: DeliveredEnvelope): boolean {
		const {from} = envelope;
		if (envelope.to !== this.e2e.username || this.e2e.knows(from) || this.host.isUnknown(from)) return false;
		this.host.holdFromStranger(envelope);
		this.host.schedule();
		return true;
	}

	/** Emits what an accepted envelope holds, then has the next contact-store write mark it shown. */
	private show(from: string, accepted: Accepted): void {
		if (accepted.gap > 0) this.host.emit('gap', {from, missing: accepted.gap});
		if (accepted.type === 'text') {
			const {id, kind, text, time, sent} = accepted;
			this.host.emit('message', {id, from, to: this.e2e.username, kind, text, time, sent});
		} else {
			for (const id of accepted.ids) this.host.emit('delivered', {id, by: from});
		}
		this.e2e.shown(from, accepted);
		if (accepted.type === 'text') this.host.owe(from);
		this.host.schedule();
	}
}
