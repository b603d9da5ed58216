import type {KeyObject} from 'node:crypto';
import {initRatchetInitiator, initRatchetResponder, parseHeader, type RatchetHeader, type SkippedKey} from '../../crypto/double-ratchet.js';
import {EnvelopeError, type Party} from '../../crypto/envelope.js';
import {openRatchet, sealRatchet} from '../../crypto/ratchet-envelope.js';
import {x3dhInitiate, x3dhRespond} from '../../crypto/x3dh.js';
import type {EnvelopeKind} from '../../net/messages.js';
import type {CounterState} from '../receive-counter.js';
import type {OwnPrekeys} from './own-prekeys.js';
import {confirmed, newSessionCounters, type Session, type SessionStore} from './session-store.js';

/** A contact's prekey bundle as the relay served it (keys raw). */
export type Bundle = {signed: {id: number; key: Buffer; signature: Buffer}; oneTime?: {id: number; key: Buffer}};

export type Me = Party & {x25519Secret: KeyObject};

/**
 * An opened ratchet envelope whose effects are not stored yet: commitOpen() stores them, in the
 * caller's transaction, once the payload was judged.
 */
export type OpenPlan = {
	type: 'opened';
	session: Session;
	/** The payload counters as they were before this envelope. */
	receive: CounterState;
	payload: Buffer;
	isNew: boolean;
	oneTimeId?: number;
	usedSkipped?: {dh: Buffer; n: number};
	newSkipped: SkippedKey[];
};

/**
 * Why a ratchet envelope did not open. `reset`: this side may have lost the session the sender
 * used (or kept an old copy of it): rebuilding it could make the sender's messages readable again.
 */
export type OpenFailure = {type: 'replay'} | {type: 'unreadable'; reason: string; reset: boolean};

/**
 * What storing an opened envelope did to the contact's sessions. `resent`: they rebuilt, and this
 * many texts they did not confirm wait to be sealed again (undefined: too soon after the last time).
 */
export type SessionChange = {activated: boolean; resetByThem: boolean; resent?: number};

/**
 * X3DH and the Double Ratchet over one account's sessions (PROTOCOL.md section 14): starts
 * sessions from bundles, seals in the active one, opens in whichever the header names, and
 * settles which session is active when the other side starts one. It writes only inside the
 * caller's transactions and keeps nothing in memory between calls.
 */
export class RatchetSessions {
	constructor(
		private readonly me: Me,
		private readonly store: SessionStore,
		private readonly prekeys: OwnPrekeys,
		private readonly clock: () => number = Date.now,
	) {}

	hasSession(name: string): boolean {
		return this.store.active(name) !== undefined;
	}

	/** The contacts with a session: a conversation, whether or not the contact store's counters moved. */
	names(): string[] {
		return this.store.names();
	}

	/** Whether the active session with `name` is one this side started, less than `withinMs` ago, and nothing came back in yet. */
	awaitingReply(name: string, withinMs = Number.POSITIVE_INFINITY): boolean {
		const session = this.store.active(name);
		return session !== undefined && session.initiator && !confirmed(session) && this.clock() - session.created < withinMs;
	}

	lastReset(name: string, what: 'rebuilt' | 'resent'): number | undefined {
		return this.store.lastReset(name, what);
	}

	recordReset(name: string, what: 'rebuilt' | 'resent'): void {
		this.store.recordReset(name, what, this.clock());
	}

	/** Forgets every session with `name`: its keys changed, and a new identity starts over. */
	forget(name: string): void {
		this.store.forgetContact(name);
	}

	/** Forgets expired skipped keys and old base keys. */
	prune(): void {
		this.store.prune(this.clock());
	}

	/** X3DH with `peer`'s bundle: a new active session. Throws X3dhError when the bundle's signature fails. */
	start(peer: Party, bundle: Bundle): Session {
		const {sharedSecret, baseKey} = x3dhInitiate({initiator: this.me, responder: peer, signed: bundle.signed, ...(bundle.oneTime ? {oneTime: bundle.oneTime} : {})});
		const now = this.clock();
		const session: Session = {
			name: peer.name,
			baseKey,
			ratchet: initRatchetInitiator({sharedSecret, remote: bundle.signed.key}),
			initiator: true,
			prekey: {signedId: bundle.signed.id, ...(bundle.oneTime ? {oneTimeId: bundle.oneTime.id} : {})},
			...newSessionCounters(),
			created: now,
		};
		sharedSecret.fill(0);
		this.store.save(session, now);
		this.store.activate(peer.name, baseKey);
		return session;
	}

	/**
	 * Seals in the active session with `peer`, if there is one; the payload gets the session's next
	 * counter, spent unless `spend` is false (a room key: see RatchetEnvelopes.sealRoomKey).
	 */
	seal(peer: Party, kind: EnvelopeKind, id: string, payload: (counter: number) => Buffer, spend = true): {ratchet: Buffer; body: string; baseKey: Buffer} | undefined {
		const session = this.store.active(peer.name);
		if (session === undefined) return undefined;
		const counter = session.send;
		const sealed = sealRatchet({
			state: session.ratchet,
			sender: this.me,
			recipient: peer,
			baseKey: session.baseKey,
			...(session.initiator && !confirmed(session) && session.prekey ? {prekey: session.prekey} : {}),
			id,
			kind,
			payload: payload(counter),
		});
		this.store.save({...session, ratchet: sealed.state, send: spend ? counter + 1 : counter}, this.clock());
		return {ratchet: sealed.header, body: sealed.body, baseKey: session.baseKey};
	}

	/** Opens without storing anything (see OpenPlan); `peer` is the sender as pinned. */
	open(peer: Party, envelope: {id: string; kind: EnvelopeKind; header: Buffer; body: string}): OpenPlan | OpenFailure {
		let header: RatchetHeader;
		try {
			header = parseHeader(envelope.header);
		} catch {
			return {type: 'unreadable', reason: 'its ratchet header is malformed', reset: false};
		}
		const now = this.clock();
		const existing = this.store.get(peer.name, header.baseKey);
		if (existing !== undefined) return this.#openIn(existing, false, peer, envelope, now);
		if (header.prekey === undefined) {
			return {type: 'unreadable', reason: 'it belongs to a session this device does not have (lost, or restored from an older copy)', reset: true};
		}
		if (this.store.hasSeenBaseKey(peer.name, header.baseKey)) return {type: 'replay'};
		const signed = this.prekeys.signedPair(header.prekey.signedId);
		const oneTimeId = header.prekey.oneTimeId;
		const oneTime = oneTimeId === undefined ? undefined : this.prekeys.oneTimePair(oneTimeId);
		if (signed === undefined || (oneTimeId !== undefined && oneTime === undefined)) {
			return {type: 'unreadable', reason: 'it starts a session with a prekey this device no longer has', reset: true};
		}
		let sharedSecret: Buffer;
		try {
			sharedSecret = x3dhRespond({
				responder: this.me,
				initiator: peer,
				signed: {id: header.prekey.signedId, secret: signed.privateKey},
				...(oneTime && oneTimeId !== undefined ? {oneTime: {id: oneTimeId, secret: oneTime.privateKey}} : {}),
				baseKey: header.baseKey,
			});
		} catch {
			return {type: 'unreadable', reason: 'its key agreement failed', reset: false};
		}
		const session: Session = {
			name: peer.name,
			baseKey: header.baseKey,
			ratchet: initRatchetResponder({sharedSecret, signedPrekey: signed}),
			initiator: false,
			...newSessionCounters(),
			created: now,
		};
		sharedSecret.fill(0);
		const plan = this.#openIn(session, true, peer, envelope, now);
		if (plan.type === 'opened' && oneTimeId !== undefined) plan.oneTimeId = oneTimeId;
		return plan;
	}

	/**
	 * Stores an opened envelope's session (with `receive`, its counters after the payload was
	 * judged), skipped keys, base key and used one-time prekey; a new session from the other side
	 * is settled against the active one (PROTOCOL.md section 14.4). Call inside a transaction.
	 */
	commitOpen(plan: OpenPlan, receive: CounterState, reset: boolean): SessionChange {
		const now = this.clock();
		const {session} = plan;
		const {name, baseKey} = session;
		this.store.save({...session, receive}, now);
		if (plan.usedSkipped) this.store.useSkipped(name, baseKey, plan.usedSkipped.dh, plan.usedSkipped.n);
		this.store.addSkipped(name, baseKey, plan.newSkipped, now);
		if (!plan.isNew) return {activated: false, resetByThem: false};
		this.store.rememberBaseKey(name, baseKey, now);
		if (plan.oneTimeId !== undefined) this.prekeys.deleteOneTime(plan.oneTimeId);
		const current = this.store.active(name);
		if (current === undefined) {
			this.store.activate(name, baseKey);
			return {activated: true, resetByThem: reset};
		}
		// Both sides started a session before either heard from the other: the smaller base key
		// wins on both sides. The other one stays, receive-only, for what was sealed in it.
		if (!reset && current.initiator && !confirmed(current)) {
			if (Buffer.compare(baseKey, current.baseKey) >= 0) {
				this.store.trim(name);
				return {activated: false, resetByThem: false};
			}
			this.store.activate(name, baseKey);
			return {activated: true, resetByThem: false};
		}
		// Honest clients reuse their session: a new one means theirs was lost or restored.
		this.store.activate(name, baseKey);
		return {activated: true, resetByThem: true};
	}

	#openIn(session: Session, isNew: boolean, peer: Party, envelope: {id: string; kind: EnvelopeKind; header: Buffer; body: string}, now: number): OpenPlan | OpenFailure {
		try {
			const opened = openRatchet({
				state: session.ratchet,
				sender: peer,
				recipient: this.me,
				header: envelope.header,
				id: envelope.id,
				kind: envelope.kind,
				body: envelope.body,
				skipped: (dh, n) => (isNew ? undefined : this.store.skippedKey(peer.name, session.baseKey, dh, n, now)),
			});
			return {
				type: 'opened',
				session: {...session, ratchet: opened.state},
				receive: session.receive,
				payload: opened.payload,
				isNew,
				...(opened.usedSkipped ? {usedSkipped: opened.usedSkipped} : {}),
				newSkipped: opened.newSkipped,
			};
		} catch (error) {
			if (!(error instanceof EnvelopeError)) throw error;
			if (error.code === 'replay') return {type: 'replay'};
			// In a known session: this side's copy may be old. A first message: the relay may have served
			// a one-time prekey of its own under one of ours (they are not signed), and the sender would
			// seal into a session nobody can open. Either way a rebuild (at most one per 10 minutes) mends it.
			// More than maxSkip lost in a known session (a relay that dropped them, or refused them
			// queue_full after the sender's ratchet moved on) breaks that direction for good: rebuild too.
			const reset = error.code === 'authentication' || (!isNew && error.code === 'too_many_skipped');
			return {type: 'unreadable', reason: error.code === 'too_many_skipped' ? 'it claims to skip too many messages' : 'it did not authenticate', reset};
		}
	}
}
