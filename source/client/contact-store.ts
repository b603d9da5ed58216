import {mkdirSync, statSync, type BigIntStats} from 'node:fs';
import {dirname, join} from 'node:path';
import {sameIdentity, verifyBinding, type PublicIdentity} from '../crypto/identity.js';
import {isValidUsername} from '../net/usernames.js';
import {copyIdentity, newContact, publicCopy, structuredCopy, trustPending, type Contact, type StoredContact} from './contact-record.js';
import {parseContacts, serialiseContacts} from './contacts-file.js';
import {lockTimeoutMs, withLock} from './file-lock.js';
import {accountDirectory, readPrivateFile, writeFileAtomicSync} from './identity-store.js';
import {applySettlements, copyAccepted, copySettlement, maxInboxEntries, type Accepted, type AcceptedContent, type Settlement} from './inbox-ledger.js';
import {acceptCounter, type CounterVerdict} from './receive-counter.js';

export const contactsFileName = 'contacts.json';

export function contactsPath(dataDir: string, relayFingerprint: string, username: string): string {
	return join(accountDirectory(dataDir, relayFingerprint, username), contactsFileName);
}

/**
 * Contacts of one account on one relay in a 0600 JSON file. Every change is on disk (written to a
 * temporary file, flushed, renamed over the old one) before the method returns, so the client can
 * acknowledge a message right after. A damaged file is an error, never silently replaced.
 *
 * Each change holds `<path>.lock` while it re-reads, changes and writes the file, so two instances
 * (or processes) on one file see each other's changes and never lose one: a send counter is
 * never handed out twice, a received counter never accepted twice.
 */
export class ContactStore {
	#contacts = new Map<string, StoredContact>();
	#seen: string | undefined;
	/** Settlements the next write carries (see defer()). */
	#deferred: Settlement[] = [];

	readonly #lockTimeoutMs: number;

	constructor(
		readonly path: string,
		options: {lockTimeoutMs?: number} = {},
	) {
		this.#lockTimeoutMs = options.lockTimeoutMs ?? lockTimeoutMs;
		this.#load();
	}

	get(name: string): Contact | undefined {
		this.#refresh();
		const contact = this.#contacts.get(name);
		return contact === undefined ? undefined : publicCopy(contact);
	}

	names(): string[] {
		this.#refresh();
		return [...this.#contacts.keys()].sort();
	}

	/**
	 * Records that the relay served `record` for `name`. A record whose binding fails throws a
	 * TypeError and changes nothing (section 9: ignore it; check verifyBinding first). First sight pins; a record other than the pin is held as pending and clears the verified
	 * mark. The pin serves again ('same') while a change is pending: the warning stays until /trust.
	 */
	observe(name: string, record: PublicIdentity): 'pinned' | 'same' | 'changed' {
		return this.observeAll([{name, record}])[0]!;
	}

	/**
	 * observe() for many records in one read and one write: a relay's whole directory at login
	 * costs one file update, not one per user.
	 */
	observeAll(records: ReadonlyArray<{name: string; record: PublicIdentity}>): Array<'pinned' | 'same' | 'changed'> {
		for (const {name, record} of records) {
			checkName(name);
			if (!verifyBinding(name, record)) {
				throw new TypeError(`the record for ${name} has no valid binding; ignore it (PROTOCOL.md section 9)`);
			}
		}
		return this.#change(contacts => {
			let changed = false;
			const verdicts = records.map(({name, record}) => {
				const contact = contacts.get(name);
				if (contact === undefined) {
					contacts.set(name, newContact(record));
					changed = true;
					return 'pinned' as const;
				}
				if (sameIdentity(contact.pinned, record)) return 'same' as const;
				if (contact.pending !== undefined && sameIdentity(contact.pending, record)) return 'changed' as const;
				contact.pending = copyIdentity(record);
				contact.verified = false;
				changed = true;
				return 'changed' as const;
			});
			return [verdicts, changed];
		});
	}

	/**
	 * Accepts the pending record: it becomes the pin, and the contact is no longer verified (the
	 * safety number changed). Counters belong to a key pair: a new key pair is a new client on the
	 * other side, which counts from 0 both ways, so sending restarts at 0 and receiving expects 0;
	 * a key pair that was pinned before resumes where it stopped (see RetiredPin). Returns false
	 * when nothing is pending.
	 */
	trust(name: string): boolean {
		checkName(name);
		return this.#change(contacts => {
			const contact = contacts.get(name);
			const pending = contact?.pending;
			if (contact === undefined || pending === undefined) return [false, false];
			trustPending(contact, pending);
			return [true, true];
		});
	}

	/** Marks the contact verified (safety numbers compared) or not; not while a change is pending. */
	setVerified(name: string, verified: boolean): void {
		this.#change(contacts => {
			const contact = this.#existing(contacts, name);
			if (verified && contact.pending !== undefined) {
				throw new Error(`${name}'s key changed; accept the new key with /trust before verifying it`);
			}
			if (contact.verified === verified) return [undefined, false];
			contact.verified = verified;
			return [undefined, true];
		});
	}

	/** The counter for the next envelope to `name`; the one after it is on disk before this returns. */
	nextSendCounter(name: string): number {
		return this.#change(contacts => {
			const contact = this.#existing(contacts, name);
			const counter = contact.sendCounter;
			if (counter >= Number.MAX_SAFE_INTEGER) throw new RangeError(`the counters to ${name} are exhausted`);
			contact.sendCounter = counter + 1;
			return [counter, true];
		});
	}

	/**
	 * Applies a counter received from `name` under the pinned record; on disk unless a replay. With
	 * `accepted`, what the envelope shows is kept in the same update, until settle() (see Accepted).
	 */
	receive(name: string, counter: number, accepted?: AcceptedContent): CounterVerdict {
		return this.#change<CounterVerdict>(contacts => {
			const contact = this.#existing(contacts, name);
			const verdict = acceptCounter(contact.receive, counter);
			if (verdict.verdict === 'replay') return [verdict, false];
			if (accepted !== undefined) {
				if (contact.inbox.length >= maxInboxEntries) {
					throw new Error(`${maxInboxEntries} messages from ${name} wait to be shown; ${this.path} is not being updated`);
				}
				contact.inbox.push({...accepted, gap: verdict.verdict === 'new' ? verdict.gap : 0});
			}
			contact.receive = verdict.state;
			return [verdict, true];
		});
	}

	/** What was accepted and not yet settled, from every contact, oldest first per contact. */
	inbox(): Array<{from: string; accepted: Accepted}> {
		return [...this.#view()].flatMap(([from, contact]) => contact.inbox.map(accepted => ({from, accepted: copyAccepted(accepted)})));
	}

	/** Ids of texts from `name` whose receipt is owed to its pinned keys. */
	owed(name: string): string[] {
		return [...(this.#view(name).get(name)?.owed ?? [])];
	}

	/** The contacts owed receipts. */
	owing(): string[] {
		return [...this.#view()].filter(([, contact]) => contact.owed.length > 0).map(([name]) => name);
	}

	/**
	 * Settles later: the next update of the file, whatever it is for, carries `settlement` (inbox(),
	 * owed() and owing() count it at once). What was shown is so marked at no cost of its own, in
	 * the next write, the one for the next envelope in a busy turn.
	 */
	defer(settlement: Settlement): void {
		this.#deferred.push(copySettlement(settlement));
	}

	/**
	 * Forgets what was shown, records receipts that must wait and forgets those that went out, for
	 * many contacts, with whatever was deferred, in one update. An owed receipt belongs to the keys
	 * pinned when it is recorded.
	 */
	settle(settlements: readonly Settlement[]): void {
		if (settlements.length === 0 && this.#deferred.length === 0) return;
		this.#change(contacts => [undefined, applySettlements(contacts, settlements)]);
	}

	#existing(contacts: Map<string, StoredContact>, name: string): StoredContact {
		checkName(name);
		const contact = contacts.get(name);
		if (contact === undefined) throw new Error(`${name} is not a contact`);
		return contact;
	}

	/**
	 * Re-reads the file, applies what was deferred and then `update` to a copy, and writes the copy
	 * when it changed. If anything throws, nothing is written and the deferred stay for next time.
	 */
	#change<T>(update: (contacts: Map<string, StoredContact>) => [T, boolean]): T {
		mkdirSync(dirname(this.path), {recursive: true, mode: 0o700});
		return withLock(this.path, this.#lockTimeoutMs, () => {
			this.#load();
			const contacts = new Map([...this.#contacts].map(([name, contact]) => [name, structuredCopy(contact)]));
			const deferred = this.#deferred;
			const carried = applySettlements(contacts, deferred);
			const [result, changed] = update(contacts);
			if (changed || carried) {
				writeFileAtomicSync(this.path, serialiseContacts(contacts), {replace: true});
				this.#contacts = contacts;
				this.#seen = stamp(this.path);
			}
			this.#deferred = this.#deferred.slice(deferred.length);
			return result;
		});
	}

	/** The contacts (or only `only`) as the file has them, with what was deferred applied. */
	#view(only?: string): Map<string, StoredContact> {
		this.#refresh();
		if (this.#deferred.length === 0) return this.#contacts;
		const contacts = only === undefined ? new Map(this.#contacts) : new Map<string, StoredContact>();
		for (const name of only === undefined ? this.#deferred.map(settlement => settlement.name) : [only]) {
			const contact = this.#contacts.get(name);
			if (contact !== undefined) contacts.set(name, structuredCopy(contact));
		}
		applySettlements(contacts, this.#deferred);
		return contacts;
	}

	#refresh(): void {
		if (stamp(this.path) !== this.#seen) this.#load();
	}

	#load(): void {
		const seen = stamp(this.path);
		const text = readPrivateFile(this.path);
		this.#contacts = text === undefined ? new Map() : parseContacts(this.path, text);
		this.#seen = seen;
	}
}

/** Changes whenever the file is replaced or written (a rename gives a new inode and ctime). */
function stamp(path: string): string | undefined {
	const stats: BigIntStats | undefined = statSync(path, {bigint: true, throwIfNoEntry: false});
	return stats === undefined ? undefined : `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

function checkName(name: string): void {
	if (!isValidUsername(name)) throw new TypeError('a contact is a folded, unreserved username');
}
