import {randomBytes} from 'node:crypto';
import {fromBase64Url} from '../crypto/base64url.js';
import type {Party} from '../crypto/envelope.js';
import {publicIdentity, type IdentityKeys, type PublicIdentity} from '../crypto/identity.js';
import {safetyNumber} from '../crypto/safety-number.js';
import type {RejectionCode} from './client-events.js';
import {isValidUsername} from '../net/usernames.js';
import type {DeliveredEnvelope, Envelope, EnvelopeKind, UserRecord} from '../net/messages.js';
import type {Contact} from './contact-record.js';
import type {ContactStore} from './contact-store.js';
import type {Accepted, Settlement} from './inbox-ledger.js';
import type {RatchetEnvelopes, RoomKey, RoomKeyOpened} from './ratchet/ratchet-envelopes.js';
import type {Bundle, SessionChange} from './ratchet/ratchet-sessions.js';
import {openVersion2, type Recipient} from './version-2-envelopes.js';

/**
 * What a received envelope turned out to be. `change`: what a ratchet envelope did to the
 * sender's sessions (a session started by them, or rebuilt because they lost theirs).
 */
export type Opened =
	| {type: 'text'; from: string; id: string; kind: EnvelopeKind; text: string; sent: number; gap: number; change?: SessionChange}
	| {type: 'receipt'; from: string; ids: string[]; gap: number; change?: SessionChange}
	/** The first message of a session the sender rebuilt: nothing to show but the rebuild. */
	| {type: 'reset'; from: string; gap: number; change: SessionChange}
	| {type: 'held'; from: string}
	/**
	 * `gap` only for a malformed payload whose counter could be read and was spent: the counters it
	 * skipped, withheld or lost like those before any new counter. `reset`: this side cannot read
	 * the sender's session (lost, or an old copy): rebuilding it lets the sender send again.
	 */
	| {type: 'rejected'; from: string; code: RejectionCode; reason: string; gap?: number; reset?: true};

export class KeyChangedError extends Error {
	constructor(readonly username: string) {
		super(`${username}'s identity key changed: compare safety numbers (/verify ${username}), then /trust ${username}`);
		this.name = 'KeyChangedError';
	}
}

export function newMessageId(): string {
	return randomBytes(16).toString('base64url');
}

function recordKeys(record: UserRecord): PublicIdentity {
	return {
		identity: fromBase64Url(record.identity, 32),
		x25519: fromBase64Url(record.x25519, 32),
		binding: fromBase64Url(record.binding, 64),
	};
}

/**
 * The end-to-end layer of one logged-in user (PROTOCOL.md sections 10, 12 and 14): seals in
 * ratchet sessions with the pinned keys, opens both schemes, keeps counters, and decides what a
 * received envelope is. No sockets: ChatClient moves envelopes, this decides what they mean.
 */
export class EndToEnd {
	private readonly me: Recipient;

	constructor(
		readonly username: string,
		keys: IdentityKeys,
		private readonly contacts: ContactStore,
		private readonly ratchet: RatchetEnvelopes,
	) {
		const own = publicIdentity(keys, username);
		this.me = {name: username, identity: own.identity, x25519: own.x25519, x25519Secret: keys.x25519.privateKey};
	}

	/** User records from the relay: checks each binding, pins on first sight, detects changes; one file update. */
	observeAll(records: readonly UserRecord[]): Array<'pinned' | 'same' | 'changed' | 'invalid'> {
		const parsed: Array<{name: string; record: PublicIdentity; index: number}> = [];
		const verdicts: Array<'pinned' | 'same' | 'changed' | 'invalid'> = records.map(() => 'invalid');
		for (const [index, user] of records.entries()) {
			if (!isValidUsername(user.username)) continue;
			try {
				parsed.push({name: user.username, record: recordKeys(user), index});
			} catch {
				// not a record: 'invalid'
			}
		}
		// The store checks each binding (those it holds already were checked when stored).
		const observed = parsed.length > 0 ? this.contacts.observeAll(parsed) : [];
		for (const [position, {index}] of parsed.entries()) verdicts[index] = observed[position]!;
		return verdicts;
	}

	/** Who is verified and who has a key change pending (see hasChangedKey), everyone at once. */
	marks(): {verified: Set<string>; keyChanged: Set<string>} {
		return this.contacts.marks();
	}

	hasChangedKey(username: string): boolean {
		return this.contacts.get(username)?.pending !== undefined;
	}

	/**
	 * The contacts with more than a pin, or with a ratchet session: those this account has a
	 * conversation with (payload counters are per session now, so the contact store's stay at 0).
	 */
	talkedWith(): string[] {
		return [...new Set([...this.contacts.talkedWith(), ...this.ratchet.sessions.names()])].sort();
	}

	knows(username: string): boolean {
		return this.contacts.get(username) !== undefined;
	}

	/**
	 * Seals a text in the session with `to`; undefined when there is no session yet: the text waits
	 * (sealWaiting) while a bundle is fetched.
	 */
	seal(to: string, kind: EnvelopeKind, id: string, text: string): Envelope | undefined {
		return this.ratchet.sealText(this.peer(to), kind, id, text);
	}

	/** A receipt for `ids`; undefined when there is no session with `to` yet. */
	receipt(to: string, ids: string[]): Envelope | undefined {
		return this.ratchet.sealReceipt(this.peer(to), newMessageId(), ids);
	}

	/** `key` for `to` in the active session with them, kept nowhere; undefined when there is none yet (fetch a bundle). */
	sealRoomKey(to: string, id: string, key: RoomKey): Envelope | undefined {
		return this.ratchet.sealRoomKey(this.peer(to), id, key);
	}

	/** The room key in `envelope` from `from`, under their pin; shows nothing (call it in the transaction that applies its change). */
	openRoomKey(from: string, envelope: {id: string; ratchet?: string; body: string}): RoomKeyOpened {
		const contact = this.contacts.get(from);
		if (!contact) return {type: 'rejected', code: 'unknown_sender', reason: 'the sender is not a known user'};
		return this.ratchet.openRoomKey({name: from, identity: contact.pinned.identity, x25519: contact.pinned.x25519}, envelope);
	}

	/** Texts to `to` that waited for a session, sealed now, at most `limit`. */
	sealWaiting(to: string, limit: number): Envelope[] {
		return this.ratchet.sealWaiting(this.peer(to), limit, newMessageId);
	}

	/** The contacts with texts waiting for a session. */
	waitingNames(): string[] {
		return this.ratchet.sentTexts.waitingNames();
	}

	/** Forgets expired skipped keys, old base keys and texts kept past their time. */
	prune(): void {
		this.ratchet.prune();
	}

	hasSession(name: string): boolean {
		return this.ratchet.sessions.hasSession(name);
	}

	/** Starts a session with `to` from its bundle, unless one exists already (theirs may have arrived meanwhile). */
	startSession(to: string, bundle: Bundle): void {
		if (!this.hasSession(to)) this.ratchet.sessions.start(this.peer(to), bundle);
	}

	/** Rebuilds the session with `to` (this side lost it): the envelope saying so, and how many texts wait to be sealed again. */
	resetSession(to: string, bundle: Bundle): {envelope: Envelope; resent: number} {
		return this.ratchet.reset(this.peer(to), bundle, newMessageId());
	}

	mayReset(name: string): boolean {
		return this.ratchet.mayReset(name);
	}

	open(envelope: DeliveredEnvelope): Opened {
		const {from} = envelope;
		if (envelope.to !== this.username) {
			return {type: 'rejected', from, code: 'misaddressed', reason: `it was addressed to ${envelope.to}`};
		}
		const contact = this.contacts.get(from);
		if (!contact) return {type: 'rejected', from, code: 'unknown_sender', reason: 'the sender is not a known user'};
		if (envelope.ratchet !== undefined) return this.openRatchet(envelope, contact);
		return openVersion2(envelope, contact, this.me, this.contacts);
	}

	/** What was accepted (here or by a process that ended before it was shown) and not yet settled. */
	inbox(): Array<{from: string; accepted: Accepted}> {
		return this.contacts.inbox();
	}

	/** Ids of texts from `username` whose receipt is owed to its pinned keys. */
	owedReceipts(username: string): string[] {
		return this.contacts.owed(username);
	}

	/** Contacts owed receipts. */
	owing(): string[] {
		return this.contacts.owing();
	}

	/**
	 * `accepted` from `from` was shown: the next commit of the contact store forgets it, and owes its
	 * receipt if it is a text, until settle() records the receipt as paid.
	 */
	shown(from: string, accepted: Accepted): void {
		this.contacts.defer({name: from, shown: [{type: accepted.type, id: accepted.id}], owe: accepted.type === 'text' ? [accepted.id] : [], paid: []});
	}

	/** Writes `settlements` with what shown() deferred, in one update. */
	settle(settlements: readonly Settlement[]): void {
		this.contacts.settle(settlements);
	}

	/**
	 * Accepts a contact's pending record. 'new-keys' when its keys differ from the old pin, so that
	 * what was sealed for the old pin can no longer reach them; 'same-keys' when only the binding
	 * changed; false when nothing was pending.
	 */
	trust(username: string): 'new-keys' | 'same-keys' | false {
		const before = this.contacts.get(username)?.pinned;
		if (!this.contacts.trust(username)) return false;
		const after = this.contacts.get(username)?.pinned;
		const same = before !== undefined && after !== undefined && before.identity.equals(after.identity) && before.x25519.equals(after.x25519);
		return same ? 'same-keys' : 'new-keys';
	}

	setVerified(username: string, verified: boolean): void {
		this.contacts.setVerified(username, verified);
	}

	safetyNumber(username: string): string {
		const contact = this.contacts.get(username);
		if (!contact) throw new Error(`${username} is not a known contact`);
		// While a change waits for /trust, the number to compare is the one for the new key.
		const identity = (contact.pending ?? contact.pinned).identity;
		return safetyNumber({name: this.username, identity: this.me.identity}, {name: username, identity});
	}

	/** Forgets the sessions with `username`, whose keys changed; returns the ids of texts that never went out. */
	forgetSessions(username: string): string[] {
		this.ratchet.sessions.forget(username);
		return this.ratchet.sentTexts.drop(username);
	}

	/** The relay says nobody has `name`: the texts waiting for a session with them go (their ids). Sessions stay: the relay may be lying. */
	dropWaiting(name: string): string[] {
		return this.ratchet.sentTexts.dropWaiting(name);
	}

	/** The contact as pinned, to seal for; nothing goes to one whose key changed until /trust. */
	private peer(name: string): Party {
		const contact = this.contacts.get(name);
		if (!contact) throw new Error(`${name} is not a registered user`);
		if (contact.pending) throw new KeyChangedError(name);
		return {name, identity: contact.pinned.identity, x25519: contact.pinned.x25519};
	}

	/** A ratchet envelope: opened under the pin, or held when it opens only under a pending change. */
	private openRatchet(envelope: DeliveredEnvelope, contact: Contact): Opened {
		const {from} = envelope;
		const opened = this.ratchet.open({name: from, identity: contact.pinned.identity, x25519: contact.pinned.x25519}, envelope);
		if (opened.type === 'rejected' && opened.code !== 'replay' && contact.pending && this.ratchet.opensUnder({name: from, ...contact.pending}, envelope)) {
			return {type: 'held', from};
		}
		return opened;
	}
}
