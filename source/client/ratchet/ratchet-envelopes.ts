import {toBase64Url, fromBase64Url} from '../../crypto/base64url.js';
import type {Party} from '../../crypto/envelope.js';
import {encodePayload, maxTextBytes, parsePayload, payloadCounter, type Payload, type RoomKeyPayload} from '../../net/e2e-payload.js';
import type {DeliveredEnvelope, Envelope, EnvelopeKind} from '../../net/messages.js';
import type {ContactStore} from '../contact-store.js';
import type {RejectionCode} from '../client-events.js';
import type {Opened} from '../end-to-end.js';
import type {History} from '../history.js';
import type {OutboxStore} from '../outbox-store.js';
import type {AcceptedContent} from '../inbox-ledger.js';
import {acceptCounter, type CounterState} from '../receive-counter.js';
import type {SqliteDatabase} from '../store/account-database.js';
import type {Bundle, Me, OpenPlan, RatchetSessions, SessionChange} from './ratchet-sessions.js';
import {maxWaitingTexts, type SentTexts} from './sent-texts.js';

/** A room's epoch secret for one member (PROTOCOL.md section 15): a `room_key` payload, keys raw. */
export type RoomKey = {room: string; index: number; head: Buffer; secret: Buffer};

/** What a room key envelope held; `change`: what opening it did to the sender's sessions. */
export type RoomKeyOpened =
	| {type: 'key'; payload: RoomKeyPayload; change: SessionChange}
	| {type: 'rejected'; code: RejectionCode; reason: string; reset?: true; change?: SessionChange};

/** A client rebuilds its session with one contact at most this often (PROTOCOL.md section 14.5). */
export const resetIntervalMs = 10 * 60 * 1000;

/**
 * Sealing and opening in ratchet sessions (PROTOCOL.md section 14), each in one transaction with
 * what it advances: a sealed text with its session state and its sent-text row; an opened one
 * with the session, its counters, the skipped keys and the inbox entry that shows it.
 */
export class RatchetEnvelopes {
	constructor(
		private readonly db: SqliteDatabase,
		private readonly me: Me,
		private readonly contacts: ContactStore,
		readonly sessions: RatchetSessions,
		readonly sentTexts: SentTexts,
		private readonly outbox: OutboxStore,
		private readonly clock: () => number = Date.now,
		private readonly history?: History,
	) {}

	/**
	 * Seals a text in the active session with `to`, or keeps it until there is one (undefined:
	 * fetch a bundle). Either way it is kept until its receipt (sent-texts.ts).
	 */
	sealText(to: Party, kind: EnvelopeKind, id: string, text: string): Envelope | undefined {
		// Checked before anything is spent on it: a refused message must not look like a gap.
		if (Buffer.byteLength(text) > maxTextBytes) throw new Error(`a message is at most ${maxTextBytes} bytes`);
		const sent = this.clock();
		return this.db.transaction(() => {
			const envelope = this.#seal(to, kind, id, counter => ({v: 1, counter, type: 'text', text, sent}));
			if (envelope === undefined && this.sentTexts.waitingCount() >= maxWaitingTexts) {
				throw new Error(`${maxWaitingTexts} messages already wait for a secure session; try again once they have gone out`);
			}
			this.sentTexts.add(to.name, id, kind, text, sent, envelope === undefined ? null : envelope.baseKey);
			return envelope?.envelope;
		})();
	}

	/** A receipt in the active session with `to`; undefined when there is none yet. */
	sealReceipt(to: Party, id: string, ids: string[]): Envelope | undefined {
		return this.db.transaction(() => this.#seal(to, 'direct', id, counter => ({v: 1, counter, type: 'receipt', ids}))?.envelope)();
	}

	/**
	 * Up to `limit` texts waiting for a session with `to`, sealed in the active one, in the order
	 * they were written. A text sealed before (in a session the other side lost) goes under a new
	 * id, with its first id in `original`, so the relay does not take it for a resend.
	 */
	sealWaiting(to: Party, limit: number, newId: () => string): Envelope[] {
		if (limit <= 0 || !this.sessions.hasSession(to.name)) return [];
		return this.db.transaction(() => {
			const sealed: Envelope[] = [];
			for (const text of this.sentTexts.waiting(to.name, limit)) {
				const id = text.resend ? newId() : text.id;
				const original = text.resend ? {original: text.id} : {};
				const result = this.#seal(to, text.kind, id, counter => ({v: 1, counter, type: 'text', text: text.text, sent: text.sent, ...original}));
				if (result === undefined) break;
				this.sentTexts.sealedIn(to.name, text.id, result.baseKey);
				sealed.push(result.envelope);
			}
			return sealed;
		})();
	}

	/**
	 * A new session with `to` from `bundle` whose first message says this side lost the old one.
	 * What it sent that `to` did not confirm may not have been read (sealed in a session `to` never
	 * answered, or with ratchet keys of a restored copy that `to` takes for replays): it is sealed
	 * again in the new one; a copy `to` had read shows once, under its first id.
	 */
	reset(to: Party, bundle: Bundle, id: string): {envelope: Envelope; resent: number} {
		return this.db.transaction(() => {
			const resent = this.sentTexts.unseal(to.name);
			// What waits in the outbox sealed in the old session goes again in the new one (above).
			this.outbox.dropRatchetTo(to.name);
			this.sessions.start(to, bundle);
			this.sessions.recordReset(to.name, 'rebuilt');
			return {envelope: this.#seal(to, 'direct', id, counter => ({v: 1, counter, type: 'reset'}))!.envelope, resent};
		})();
	}

	/**
	 * Whether this side may rebuild its session with `name` now: not while it waits for a reply to
	 * a session it started less than resetIntervalMs ago (its first message tells the other side),
	 * and not twice in resetIntervalMs.
	 */
	mayReset(name: string): boolean {
		if (this.sessions.awaitingReply(name, resetIntervalMs)) return false;
		const last = this.sessions.lastReset(name, 'rebuilt');
		return last === undefined || this.clock() - last >= resetIntervalMs;
	}

	/**
	 * `name` rebuilt its session: what it did not confirm is sealed again (sealWaiting), at most once
	 * in resetIntervalMs, the most an honest client rebuilds; undefined when it was too soon (they
	 * stay unconfirmed, and go again at the next rebuild that is not).
	 */
	resendUnconfirmed(name: string): number | undefined {
		return this.db.transaction(() => {
			const last = this.sessions.lastReset(name, 'resent');
			if (last !== undefined && this.clock() - last < resetIntervalMs) return undefined;
			this.sessions.recordReset(name, 'resent');
			return this.sentTexts.unseal(name);
		})();
	}

	prune(): void {
		this.sessions.prune();
		this.sentTexts.prune(this.clock());
	}

	/** Whether `envelope` opens under `peer`'s keys (a pending key change), storing nothing. */
	opensUnder(peer: Party, envelope: DeliveredEnvelope): boolean {
		try {
			const header = fromBase64Url(envelope.ratchet!);
			return 'opened' === this.sessions.open(peer, {id: envelope.id, kind: envelope.kind, header, body: envelope.body}).type;
		} catch {
			return false;
		}
	}

	/** Opens a ratchet envelope from `peer` (as pinned) and stores what it advanced. */
	open(peer: Party, envelope: DeliveredEnvelope): Opened {
		const {from} = envelope;
		let header: Buffer;
		try {
			header = fromBase64Url(envelope.ratchet!);
		} catch {
			return {type: 'rejected', from, code: 'unauthenticated', reason: 'its ratchet header is not base64url'};
		}
		const result = this.sessions.open(peer, {id: envelope.id, kind: envelope.kind, header, body: envelope.body});
		if (result.type === 'replay') return {type: 'rejected', from, code: 'replay', reason: 'it repeats a message already received'};
		if (result.type === 'unreadable') {
			return {type: 'rejected', from, code: result.reset ? 'unreadable' : 'unauthenticated', reason: result.reason, ...(result.reset ? {reset: true} : {})};
		}
		let payload: Payload;
		try {
			payload = parsePayload(result.payload);
		} catch (error) {
			return this.#malformed(from, result, (error as Error).message);
		}
		// Room keys travel with a room change, never on their own: refused like any malformed payload.
		if (payload.type === 'room_key') return this.#malformed(from, result, 'payload: a room key outside a room change');
		const verdict = acceptCounter(result.receive, payload.counter);
		if (verdict.verdict === 'replay') {
			this.db.transaction(() => this.sessions.commitOpen(result, result.receive, false))();
			return {type: 'rejected', from, code: 'replay', reason: 'it repeats a counter already received in this session'};
		}
		const gap = verdict.verdict === 'new' ? verdict.gap : 0;
		const content = acceptedContent(payload, envelope);
		const change = this.contacts.atomically(() => {
			const settled = this.#commitSession(from, result, verdict.state, payload.type === 'reset');
			if (payload.type === 'receipt') this.sentTexts.confirm(from, payload.ids);
			if (content?.type === 'text') this.history?.received({...content, from, to: this.me.name});
			this.contacts.accept(from, content, gap);
			return settled;
		});
		switch (payload.type) {
			case 'reset':
				return {type: 'reset', from, gap, change};
			case 'receipt':
				return {type: 'receipt', from, ids: payload.ids, gap, change};
			case 'text':
				return {type: 'text', from, id: content!.id, kind: envelope.kind, text: payload.text, sent: payload.sent, gap, change};
		}
	}

	/**
	 * A room's epoch secret for `to` (a `room_key` payload, PROTOCOL.md section 15) sealed in the
	 * active session; undefined when there is none (fetch a bundle, then try again). Kept nowhere:
	 * it travels staged with its change, and a change the relay refuses is made again with a new
	 * secret. It carries the session's next payload counter without spending it, so a change that
	 * never reaches `to` leaves no gap in what `to` counts (the ratchet refuses a replay of it).
	 */
	sealRoomKey(to: Party, id: string, key: RoomKey): Envelope | undefined {
		const fields = {type: 'room_key', room: key.room, index: key.index, head: toBase64Url(key.head), secret: toBase64Url(key.secret)} as const;
		return this.db.transaction(() => {
			const sealed = this.sessions.seal(to, 'direct', id, counter => encodePayload({v: 1, counter, ...fields}), false);
			return sealed === undefined ? undefined : {id, to: to.name, kind: 'direct' as const, ratchet: toBase64Url(sealed.ratchet), body: sealed.body};
		})();
	}

	/**
	 * Opens the room key `envelope` from `peer` (as pinned): the session's advance is stored (in the
	 * caller's transaction when there is one: the change it belongs to), and nothing is shown,
	 * acknowledged or owed. Its counter is not spent (see sealRoomKey).
	 */
	openRoomKey(peer: Party, envelope: {id: string; ratchet?: string; body: string}): RoomKeyOpened {
		let header: Buffer;
		try {
			header = fromBase64Url(envelope.ratchet ?? '');
		} catch {
			return {type: 'rejected', code: 'unauthenticated', reason: 'its ratchet header is not base64url'};
		}
		const result = this.sessions.open(peer, {id: envelope.id, kind: 'direct', header, body: envelope.body});
		if (result.type === 'replay') return {type: 'rejected', code: 'replay', reason: 'it repeats a room key already received'};
		if (result.type === 'unreadable') return {type: 'rejected', code: result.reset ? 'unreadable' : 'unauthenticated', reason: result.reason, ...(result.reset ? {reset: true as const} : {})};
		let payload: Payload | undefined;
		let problem = 'it is not a room key';
		try {
			payload = parsePayload(result.payload);
		} catch (error) {
			problem = (error as Error).message;
		}
		const change = this.contacts.atomically(() => this.#commitSession(peer.name, result, result.receive, false));
		if (payload?.type !== 'room_key') return {type: 'rejected', code: 'malformed', reason: problem, change};
		return {type: 'key', payload, change};
	}

	/**
	 * Stores an opened envelope's session with `receive` (PROTOCOL.md 14.4), in the caller's
	 * transaction. A process killed after it would see the redelivery as a replay, and never resend:
	 * so what a rebuild by the other side resends is settled in the same transaction.
	 */
	#commitSession(from: string, plan: OpenPlan, receive: CounterState, reset: boolean): SessionChange {
		const settled = this.sessions.commitOpen(plan, receive, reset);
		if (settled.resetByThem) {
			const resent = this.resendUnconfirmed(from);
			if (resent !== undefined) {
				settled.resent = resent;
				// Their texts wait to be sealed again: the copies sealed in the lost session leave in this
				// transaction too, or a restart would send both (SessionStarter.changed() drops them from memory).
				this.outbox.dropRatchetTo(from);
			}
		}
		return settled;
	}

	/** An authenticated plaintext that is not a valid payload: its counter, if readable, is spent (section 10). */
	#malformed(from: string, plan: OpenPlan, reason: string): Opened {
		const counter = payloadCounter(plan.payload);
		const verdict = counter === undefined ? undefined : acceptCounter(plan.receive, counter);
		this.contacts.atomically(() => {
			this.sessions.commitOpen(plan, verdict !== undefined && verdict.verdict !== 'replay' ? verdict.state : plan.receive, false);
			this.contacts.accept(from, undefined, 0);
		});
		if (verdict?.verdict === 'replay') return {type: 'rejected', from, code: 'replay', reason: 'it repeats a counter already received in this session'};
		return {type: 'rejected', from, code: 'malformed', reason, gap: verdict?.verdict === 'new' ? verdict.gap : 0};
	}

	#seal(to: Party, kind: EnvelopeKind, id: string, payload: (counter: number) => Payload): {envelope: Envelope; baseKey: Buffer} | undefined {
		const sealed = this.sessions.seal(to, kind, id, counter => encodePayload(payload(counter)));
		if (sealed === undefined) return undefined;
		const envelope: Envelope = {id, to: to.name, kind, ratchet: toBase64Url(sealed.ratchet), body: sealed.body};
		// In the transaction that advanced the session: sealed means in the outbox, whenever the process dies.
		this.outbox.keep(envelope);
		return {envelope, baseKey: sealed.baseKey};
	}
}

/** What a text or receipt shows; a text resent in a new session shows under its first id. */
function acceptedContent(payload: Payload, envelope: DeliveredEnvelope): AcceptedContent | undefined {
	switch (payload.type) {
		case 'text':
			return {type: 'text', id: payload.original ?? envelope.id, kind: envelope.kind, text: payload.text, sent: payload.sent, time: envelope.time};
		case 'receipt':
			return {type: 'receipt', id: envelope.id, ids: payload.ids, time: envelope.time};
		case 'reset':
		case 'room_key':
			return undefined;
	}
}
