import {mkdirSync, statSync, type BigIntStats} from 'node:fs';
import {dirname, join} from 'node:path';
import {sameIdentity, verifyBinding, type PublicIdentity} from '../crypto/identity.js';
import {isValidUsername} from '../net/usernames.js';
import {copyIdentity, isFirstSight, newContact, publicCopy, structuredCopy, trustPending, type Contact, type StoredContact} from './contact-record.js';
import {parseContacts, serialiseContacts} from './contacts-file.js';
import {lockTimeoutMs, withLock} from './file-lock.js';
import {accountDirectory, readPrivateFile, writeFileAtomicSync} from './identity-store.js';
import {applySettlements, copyAccepted, copySettlement, maxInboxEntries, type Accepted, type AcceptedContent, type Settlement} from './inbox-ledger.js';
import {parsePins, serialisePins} from './pins-file.js';
import {acceptCounter, type CounterVerdict} from './receive-counter.js';

export const contactsFileName = 'contacts.json';
export const pinsFileName = 'pins.json';

export function contactsPath(dataDir: string, relayFingerprint: string, username: string): string {
	return join(accountDirectory(dataDir, relayFingerprint, username), contactsFileName);
}

/**
 * Contacts of one account on one relay, in two 0600 JSON files. Every change is on disk (written to
 * a temporary file, flushed, renamed over the old one) before the method returns, so the client can
 * acknowledge a message right after. A damaged file is an error, never silently replaced.
 *
 * `pins.json` (next to `path`) keeps the users seen only once, as first seen: on a relay of
 * thousands, the whole directory. `contacts.json` (`path`) keeps everyone with anything more (a
 * counter, a message, a pending key, a verified mark) and wins over pins.json for a name in both. A
 * message only ever rewrites contacts.json, which stays as small as the circle one talks with.
 *
 * Each change holds `<path>.lock` while it re-reads, changes and writes the files, so two instances
 * (or processes) on one account see each other's changes and never lose one: a send counter is
 * never handed out twice, a received counter never accepted twice.
 */
export class ContactStore {
	#contacts = new Map<string, StoredContact>();
	#seen: string | undefined;
	#pins = new Map<string, PublicIdentity>();
	#pinsSeen: string | undefined;
	/** Settlements the next write carries (see defer()). */
	#deferred: Settlement[] = [];

	readonly pinsPath: string;
	readonly #lockTimeoutMs: number;

	constructor(
		readonly path: string,
		options: {lockTimeoutMs?: number} = {},
	) {
		this.pinsPath = join(dirname(path), pinsFileName);
		this.#lockTimeoutMs = options.lockTimeoutMs ?? lockTimeoutMs;
		this.#loadContacts();
		this.#loadPins();
	}

	get(name: string): Contact | undefined {
		this.#refresh();
		const contact = this.#contacts.get(name);
		if (contact !== undefined) return publicCopy(contact);
		const pin = this.#pins.get(name);
		return pin === undefined ? undefined : publicCopy(newContact(pin));
	}

	/** Who is verified and who has a key change pending, in one read: a pin alone is neither. */
	marks(): {verified: Set<string>; keyChanged: Set<string>} {
		this.#refresh();
		const verified = new Set<string>();
		const keyChanged = new Set<string>();
		for (const [name, contact] of this.#contacts) {
			if (contact.verified) verified.add(name);
			if (contact.pending !== undefined) keyChanged.add(name);
		}
		return {verified, keyChanged};
	}

	/** The names with more than a pin (a counter, a message, a pending key, a mark): those one talks with. */
	talkedWith(): string[] {
		this.#refresh();
		return [...this.#contacts.keys()].sort();
	}

	names(): string[] {
		this.#refresh();
		return [...new Set([...this.#contacts.keys(), ...this.#pins.keys()])].sort();
	}

	/**
	 * Records that the relay served `record` for `name`. A record whose binding fails throws a
	 * TypeError and changes nothing (section 9: ignore it). First sight pins; a record other than
	 * the pin is held as pending and clears the verified mark. The pin serves again ('same') while a
	 * change is pending: the warning stays until /trust.
	 */
	observe(name: string, record: PublicIdentity): 'pinned' | 'same' | 'changed' {
		const verdict = this.observeAll([{name, record}])[0]!;
		if (verdict === 'invalid') throw new TypeError(`the record for ${name} has no valid binding; ignore it (PROTOCOL.md section 9)`);
		return verdict;
	}

	/**
	 * observe() for many records in one read and one write: a relay's whole directory at login
	 * costs one file update, not one per user. A record whose binding fails is 'invalid' and
	 * changes nothing. A record held already (pinned or pending), byte for byte, was checked when
	 * it was stored and is not checked again: a login to a relay of thousands costs no signature
	 * checks for the users it saw before.
	 */
	observeAll(records: ReadonlyArray<{name: string; record: PublicIdentity}>): Array<'pinned' | 'same' | 'changed' | 'invalid'> {
		for (const {name} of records) checkName(name);
		this.#refresh();
		const verdicts: Array<'pinned' | 'same' | 'changed' | 'invalid'> = records.map(() => 'invalid');
		const valid = [...records.entries()].filter(([, {name, record}]) => this.#holds(name, record) || verifyBinding(name, record));
		if (valid.length === 0) return verdicts;
		this.#change(
			valid.map(([, {name}]) => name),
			contacts => {
				let changed = false;
				for (const [index, {name, record}] of valid) {
					const contact = contacts.get(name);
					if (contact === undefined) {
						contacts.set(name, newContact(record));
						changed = true;
						verdicts[index] = 'pinned';
					} else if (sameIdentity(contact.pinned, record)) {
						verdicts[index] = 'same';
					} else {
						if (contact.pending === undefined || !sameIdentity(contact.pending, record)) {
							contact.pending = copyIdentity(record);
							contact.verified = false;
							changed = true;
						}
						verdicts[index] = 'changed';
					}
				}
				return [undefined, changed];
			},
		);
		return verdicts;
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
		return this.#change([name], contacts => {
			const contact = contacts.get(name);
			const pending = contact?.pending;
			if (contact === undefined || pending === undefined) return [false, false];
			trustPending(contact, pending);
			return [true, true];
		});
	}

	/** Marks the contact verified (safety numbers compared) or not; not while a change is pending. */
	setVerified(name: string, verified: boolean): void {
		this.#change([name], contacts => {
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
		return this.#change([name], contacts => {
			const contact = this.#existing(contacts, name);
			const counter = contact.sendCounter;
			if (counter >= Number.MAX_SAFE_INTEGER) throw new RangeError(`the counters to ${name} are exhausted`);
			contact.sendCounter = counter + 1;
			return [counter, true];
		});
	}

	/**
	 * Applies a counter received from `name` under the pinned record; on disk unless a replay. With
	 * `accepted`, what the envelope shows is kept in the same update, until settle() (see Accepted);
	 * without, as for a malformed payload, only the counter is spent.
	 */
	receive(name: string, counter: number, accepted?: AcceptedContent): CounterVerdict {
		return this.#change<CounterVerdict>([name], contacts => {
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
		this.#change(
			settlements.map(settlement => settlement.name),
			contacts => [undefined, applySettlements(contacts, settlements)],
		);
	}

	#existing(contacts: Map<string, StoredContact>, name: string): StoredContact {
		checkName(name);
		const contact = contacts.get(name);
		if (contact === undefined) throw new Error(`${name} is not a contact`);
		return contact;
	}

	/** Whether `record` is `name`'s pinned or pending record, byte for byte. */
	#holds(name: string, record: PublicIdentity): boolean {
		const contact = this.#contacts.get(name);
		if (contact === undefined) {
			const pin = this.#pins.get(name);
			return pin !== undefined && sameIdentity(pin, record);
		}
		return sameIdentity(contact.pinned, record) || (contact.pending !== undefined && sameIdentity(contact.pending, record));
	}

	/** A copy of the contact `name` as the files have it (without what was deferred); the pin's if only pinned. */
	#copy(name: string): StoredContact | undefined {
		const contact = this.#contacts.get(name);
		if (contact !== undefined) return structuredCopy(contact);
		const pin = this.#pins.get(name);
		return pin === undefined ? undefined : newContact(pin);
	}

	/**
	 * Re-reads the files, applies what was deferred and then `update` to copies of the contacts
	 * `names` (and those the deferred settlements name; `update` sees no others), and writes what
	 * changed. If `update` throws, nothing is written and the deferred stay for next time; if the
	 * contacts.json write fails after pins.json's, the new pins stay, which is harmless.
	 */
	#change<T>(names: readonly string[], update: (contacts: Map<string, StoredContact>) => [T, boolean]): T {
		mkdirSync(dirname(this.path), {recursive: true, mode: 0o700});
		return withLock(this.path, this.#lockTimeoutMs, () => {
			// contacts.json is read again each time: it is small, and no file stamp can miss a change.
			this.#loadContacts();
			if (stamp(this.pinsPath) !== this.#pinsSeen) this.#loadPins();
			const deferred = this.#deferred;
			const draft = new Map<string, StoredContact>();
			for (const name of [...names, ...deferred.map(settlement => settlement.name)]) {
				const contact = draft.has(name) ? undefined : this.#copy(name);
				if (contact !== undefined) draft.set(name, contact);
			}
			const carried = applySettlements(draft, deferred);
			const [result, changed] = update(draft);
			if (changed || carried) this.#write(draft);
			this.#deferred = this.#deferred.slice(deferred.length);
			return result;
		});
	}

	/**
	 * Writes the contacts of `draft`: one seen for the first time and no more goes to pins.json,
	 * with every other pin; any other, to contacts.json. Also moves contacts.json's bare pins (as
	 * files written before pins.json have them) to pins.json, pins.json first: a name in both files
	 * is read from contacts.json, so no step of the move loses it.
	 */
	#write(draft: ReadonlyMap<string, StoredContact>): void {
		const contacts = new Map(this.#contacts);
		const newPins = new Map<string, PublicIdentity>();
		const moved = new Set<string>();
		let contactsChanged = false;
		for (const [name, contact] of draft) {
			if (!contacts.has(name) && isFirstSight(contact)) {
				const pin = this.#pins.get(name);
				if (pin === undefined || !sameIdentity(pin, contact.pinned)) newPins.set(name, contact.pinned);
			} else if (!sameContact(contacts.get(name), contact)) {
				contacts.set(name, contact);
				contactsChanged = true;
			}
		}
		for (const [name, contact] of contacts) {
			if (!isFirstSight(contact)) continue;
			newPins.set(name, contact.pinned);
			moved.add(name);
			contacts.delete(name);
			contactsChanged = true;
		}
		if (newPins.size > 0) {
			// Read again under the lock before it is replaced: a pin another process just added must
			// stay, and is never replaced by a different first sight (only by a move from contacts.json).
			this.#loadPins();
			const pins = new Map(this.#pins);
			for (const [name, record] of newPins) if (moved.has(name) || !pins.has(name)) pins.set(name, record);
			writeFileAtomicSync(this.pinsPath, serialisePins(pins), {replace: true});
			this.#pins = pins;
			this.#pinsSeen = stamp(this.pinsPath);
		}
		if (contactsChanged) {
			writeFileAtomicSync(this.path, serialiseContacts(contacts), {replace: true});
			this.#contacts = contacts;
			this.#seen = stamp(this.path);
		}
	}

	/** The contacts (or only `only`) as the files have them, with what was deferred applied. */
	#view(only?: string): Map<string, StoredContact> {
		this.#refresh();
		// Bare pins owe nothing and hold no messages: the ledger queries need contacts.json only.
		if (this.#deferred.length === 0) return this.#contacts;
		const contacts = only === undefined ? new Map(this.#contacts) : new Map<string, StoredContact>();
		for (const name of only === undefined ? this.#deferred.map(settlement => settlement.name) : [only]) {
			const contact = this.#copy(name);
			if (contact !== undefined) contacts.set(name, contact);
		}
		applySettlements(contacts, this.#deferred);
		return contacts;
	}

	#refresh(): void {
		if (stamp(this.path) !== this.#seen) this.#loadContacts();
		if (stamp(this.pinsPath) !== this.#pinsSeen) this.#loadPins();
	}

	#loadContacts(): void {
		const seen = stamp(this.path);
		const text = readPrivateFile(this.path);
		this.#contacts = text === undefined ? new Map() : parseContacts(this.path, text);
		this.#seen = seen;
	}

	#loadPins(): void {
		const seen = stamp(this.pinsPath);
		const text = readPrivateFile(this.pinsPath);
		this.#pins = text === undefined ? new Map() : parsePins(this.pinsPath, text);
		this.#pinsSeen = seen;
	}
}

/** Whether two stored contacts would be written the same. */
function sameContact(a: StoredContact | undefined, b: StoredContact): boolean {
	return a !== undefined && serialiseContacts(new Map([['x', a]])) === serialiseContacts(new Map([['x', b]]));
}

/** Changes whenever the file is replaced or written (a rename gives a new inode and ctime). */
function stamp(path: string): string | undefined {
	const stats: BigIntStats | undefined = statSync(path, {bigint: true, throwIfNoEntry: false});
	return stats === undefined ? undefined : `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

function checkName(name: string): void {
	if (!isValidUsername(name)) throw new TypeError('a contact is a folded, unreserved username');
}
