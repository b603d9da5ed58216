import type {RecoverableErrorCode} from '../net/error-codes.js';
import type {Envelope} from '../net/messages.js';
import {foldUsername, isValidUsername, reservedUsernames} from '../net/usernames.js';
import type {AddressGroups} from './address-groups.js';
import {storageFailedText} from './delivery-queue.js';
import type {AcceptVerdict} from './envelope-routing.js';
import type {Maybe} from './maybe.js';
import type {RelayCore} from './relay-core.js';
import type {SessionSink} from './session-sink.js';

/** The logged-in session that sends. */
export type SendingSession = {
	readonly sink: SessionSink;
	readonly address: AddressGroups;
	readonly name: string | undefined;
	lastActive: number;
};

export type Refuse = (code: RecoverableErrorCode, message: string, ref: string | null) => void;

/** What a logged-in session asks of other users' names: a `send` routed to one (a name not met yet costs a lookup token), a `lookup` of some (a token per name). */
export class SessionSends {
	constructor(
		private readonly session: SendingSession,
		private readonly core: RelayCore,
		private readonly reject: Refuse,
	) {}

	/** A `send`: answered at once when the recipient and the contacts are in memory (the common case), else after reads. */
	send(envelope: Envelope): Maybe<void> {
		const {maxBodyBytes} = this.core.limits;
		const {clock} = this.core.options;
		this.session.lastActive = clock();
		if (envelope.body.length > maxBodyBytes) {
			this.reject('message_too_large', `an envelope body is at most ${maxBodyBytes} bytes`, envelope.id);
			return;
		}
		let to = envelope.to;
		if (!isValidUsername(to)) {
			// most clients send the name folded already: no case folding on the hot path
			to = foldUsername(to);
			if (!isValidUsername(to)) {
				this.reject('unknown_recipient', 'that is not a valid username', envelope.id);
				return;
			}
		}
		const from = this.session.name!;
		// Whether `to` exists is what a lookup tells: a name that is not a contact yet costs a lookup
		// token, paid before it is read, so `accepted` vs `unknown_recipient` is no cheaper oracle.
		const known = this.core.knows(from, to);
		if (known instanceof Promise) return known.then(isKnown => this.routeTo(envelope, to, from, isKnown));
		return this.routeTo(envelope, to, from, known);
	}

	private routeTo(envelope: Envelope, to: string, from: string, known: boolean): Maybe<void> {
		if (!known) {
			const paid = this.core.lookups.charge(from, this.session.address, 1);
			if (!paid.ok) {
				this.reject('lookup_throttled', `too many names you have not met written to or looked up lately; try again in ${Math.ceil(paid.waitMs / 1000)} s`, envelope.id);
				return;
			}
		}
		const verdict = this.core.accept(envelope, to, from, this.core.options.clock());
		if (verdict instanceof Promise) return verdict.then(taken => this.routed(taken, to, envelope.id));
		this.routed(verdict, to, envelope.id);
	}

	private routed(verdict: AcceptVerdict, to: string, id: string): void {
		if (verdict === 'unknown_recipient') this.reject('unknown_recipient', `nobody is registered as ${to}`, id);
		else if (verdict === 'queue_full') this.reject('queue_full', `too many messages already wait for ${to}`, id);
		else if (verdict === 'quota_exceeded') this.reject('quota_exceeded', 'you have as much waiting on the relay as it keeps for one sender; wait until your recipients read it', id);
		else if (verdict === 'storage_failed') this.reject('storage_failed', storageFailedText, id);
	}

	/**
	 * Paid before any name is read, one lookup token per name asked whatever comes of it, so that
	 * finding out which names exist costs what looking them up does (PROTOCOL.md section 4.3).
	 */
	async lookup(id: string, names: readonly string[]): Promise<void> {
		const paid = this.core.lookups.charge(this.session.name!, this.session.address, names.length);
		if (!paid.ok) {
			this.reject('lookup_throttled', `too many names looked up lately; try again in ${Math.ceil(paid.waitMs / 1000)} s`, id);
			return;
		}
		const folded = names.map(foldUsername);
		// Reserved names are well formed: they are simply never registered.
		if (!folded.every(name => isValidUsername(name) || reservedUsernames.has(name))) {
			this.reject('invalid_username', 'a username is 1 to 32 of a-z, 0-9, _ and -', id);
			return;
		}
		const answer = await this.core.lookup(this.session.name!, id, folded);
		if (answer === undefined) this.reject('storage_failed', 'the relay could not read its users; look them up again later', id);
		else this.session.sink.send(answer);
	}
}
