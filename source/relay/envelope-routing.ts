import type {Envelope, UserRecord} from '../net/messages.js';
import type {AccessGuard} from './access-guard.js';
import type {DeliveryQueue} from './delivery-queue.js';
import type {Logger} from './logger.js';
import {andThen, type Maybe} from './maybe.js';
import type {PresenceBatcher} from './presence-batcher.js';
import type {QuotaVerdict} from './queue-ledger.js';
import type {StoredUser} from './relay-store.js';
import type {Session} from './session.js';
import {guardStorage} from './storage-guard.js';
import type {UserDirectory} from './user-directory.js';
import type {Listeners} from './who-view.js';

/** What becomes of an envelope a session sends. */
export type AcceptVerdict = 'ok' | 'unknown_recipient' | QuotaVerdict | 'storage_failed';

export type RoutingParts = {
	log: Logger;
	access: AccessGuard;
	queue: DeliveryQueue;
	directory: UserDirectory;
	presence: PresenceBatcher<Session>;
	listeners: Listeners<Session>;
	/** The relay's sessions online, by name. */
	online: Map<string, Session>;
	/** An online account's record, a cached one, or a point read (a storage failure rejects). */
	registered: (username: string) => Maybe<StoredUser | undefined>;
	record: (user: StoredUser) => UserRecord;
};

/**
 * An envelope's way from its sender into the queue, and what writing does to accounts: sender and
 * recipient become each other's contacts, and a message to someone else confirms the sender's
 * registration.
 */
export class EnvelopeRouting {
	constructor(private readonly parts: RoutingParts) {}

	/** Routes an envelope from `from` (logged in) to `to`, within the quotas: at once when all it needs is in memory. */
	accept(envelope: Envelope, to: string, from: string, time: number): Maybe<AcceptVerdict> {
		const recipient = this.parts.registered(to);
		if (!(recipient instanceof Promise)) return recipient === undefined ? 'unknown_recipient' : this.route(envelope, to, from, time);
		return guardStorage(this.parts.log, 'user', async () => (await recipient) ?? null).then(read =>
			read === undefined ? 'storage_failed' : read === null ? 'unknown_recipient' : this.route(envelope, to, from, time),
		);
	}

	/**
	 * `from` wrote to `to` and the relay took it: each becomes the other's contact. A recipient
	 * online that did not have the sender as a contact hears its record now, before the envelope.
	 */
	wrote(from: string, to: string): Promise<void> | undefined {
		// Contacts both ways already, the common case: nothing to write, read or tell.
		if (this.parts.directory.knowEachOther(from, to)) return undefined;
		return this.wroteToNew(from, to);
	}

	/** The account was used again after it registered: it no longer lapses. */
	confirm(user: StoredUser): Maybe<StoredUser> {
		return andThen(this.parts.directory.confirm(user), confirmed => {
			const session = this.parts.online.get(user.username);
			if (session !== undefined && confirmed !== user) session.user = confirmed;
			return confirmed;
		});
	}

	private route(envelope: Envelope, to: string, from: string, time: number): Maybe<AcceptVerdict> {
		const sender = this.parts.online.get(from)?.user;
		const verdict = this.parts.queue.accept(envelope, to, from, time, sender !== undefined && this.parts.access.hasPriority(sender));
		if (verdict instanceof Promise) return verdict.then(taken => this.used(taken, to, sender));
		return this.used(verdict, to, sender);
	}

	/** A message to someone else is a use of the account; one to itself is not. */
	private used(verdict: AcceptVerdict, to: string, sender: StoredUser | undefined): Maybe<AcceptVerdict> {
		if (verdict !== 'ok' || sender === undefined || sender.confirmed || to === sender.username) return verdict;
		return andThen(this.confirm(sender), () => verdict);
	}

	private async wroteToNew(from: string, to: string): Promise<void> {
		const {directory, listeners, presence, online, record} = this.parts;
		const recipient = listeners.get(to);
		const sender = online.get(from)?.user;
		const introduce = recipient !== undefined && sender !== undefined && !directory.community;
		// What the recipient has yet to hear goes first, decided while the sender is not its
		// contact yet: a join of the sender waiting in the batch is not told twice.
		const added = await directory.wrote(from, to, async () => {
			if (introduce) await presence.catchUp(to, recipient);
		});
		if (added && introduce) recipient.presence({type: 'user_joined', user: record(sender)});
	}
}
