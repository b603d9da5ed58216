import {sameIdentity, verifyBinding, type PublicIdentity} from '../crypto/identity.js';
import {isValidUsername} from '../net/usernames.js';
import {parseContact, serialiseContact} from './contact-json.js';
import {copyIdentity, isFirstSight, newContact, publicCopy, structuredCopy, trustPending, type Contact, type StoredContact} from './contact-record.js';
import {applySettlements, copyAccepted, copySettlement, maxInboxEntries, type Accepted, type AcceptedContent, type Settlement} from './inbox-ledger.js';
import {acceptCounter, type CounterVerdict} from './receive-counter.js';
import type {SqliteDatabase} from './store/account-database.js';

/**
 * Contacts of one account: every user seen, with the pin, counters and inbox ledger, one row each
 * in the account's database. Every change is committed before the method returns, so the client
 * can acknowledge a message right after. The database is this process's alone (its exclusive
 * lock), so the rows are read once, at open, and memory follows each commit. A damaged row is an
 * error at open, never silently replaced.
 */
export class ContactStore {
	#contacts = new Map<string, StoredContact>();
	/** Settlements the next write carries (see defer()). */
	#deferred: Settlement[] = [];
	/** Inside atomically(): the rows written so far, which memory takes only once the whole transaction commits. */
	#staged: Map<string, StoredContact> | undefined;
	readonly #upsert;

	constructor(private readonly db: SqliteDatabase) {
		this.#upsert = db.prepare('INSERT INTO contacts (name, contact) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET contact = excluded.contact');
		for (const {name, contact} of db.prepare('SELECT name, contact FROM contacts').iterate() as Iterable<{name: string; contact: string}>) {
			this.#contacts.set(name, readRow(name, contact));
		}
	}

	get(name: string): Contact | undefined {
		const contact = this.#contacts.get(name);
		return contact === undefined ? undefined : publicCopy(contact);
	}

	/** Who is verified and who has a key change pending, in one read: a pin alone is neither. */
	marks(): {verified: Set<string>; keyChanged: Set<string>} {
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
		return [...this.#contacts].filter(([, contact]) => !isFirstSight(contact)).map(([name]) => name).sort();
	}

	names(): string[] {
		return [...this.#contacts.keys()].sort();
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
	 * observe() for many records in one transaction. A record whose binding fails is 'invalid' and
	 * changes nothing. A record held already (pinned or pending), byte for byte, was checked when
	 * it was stored and is not checked again: a login costs no signature checks for users seen before.
	 */
	observeAll(records: ReadonlyArray<{name: string; record: PublicIdentity}>): Array<'pinned' | 'same' | 'changed' | 'invalid'> {
		for (const {name} of records) checkName(name);
		const verdicts: Array<'pinned' | 'same' | 'changed' | 'invalid'> = records.map(() => 'invalid');
		const valid = [...records.entries()].filter(([, {name, record}]) => this.#holds(name, record) || verifyBinding(name, record));
		if (valid.length === 0) return verdicts;
		this.#change(
			valid.map(([, {name}]) => name),
			contacts => {
				const changed = new Set<string>();
				for (const [index, {name, record}] of valid) {
					const contact = contacts.get(name);
					if (contact === undefined) {
						contacts.set(name, newContact(record));
						changed.add(name);
						verdicts[index] = 'pinned';
					} else if (sameIdentity(contact.pinned, record)) {
						verdicts[index] = 'same';
					} else {
						if (contact.pending === undefined || !sameIdentity(contact.pending, record)) {
							contact.pending = copyIdentity(record);
							contact.verified = false;
							changed.add(name);
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
			if (contact === undefined || pending === undefined) return [false, none];
			trustPending(contact, pending);
			return [true, new Set([name])];
		});
	}

	/** Marks the contact verified (safety numbers compared) or not; not while a change is pending. */
	setVerified(name: string, verified: boolean): void {
		this.#change([name], contacts => {
			const contact = existing(contacts, name);
			if (verified && contact.pending !== undefined) {
				throw new Error(`${name}'s key changed; accept the new key with /trust before verifying it`);
			}
			if (contact.verified === verified) return [undefined, none];
			contact.verified = verified;
			return [undefined, new Set([name])];
		});
	}

	/** The counter for the next envelope to `name`; the one after it is committed before this returns. */
	nextSendCounter(name: string): number {
		return this.#change([name], contacts => {
			const contact = existing(contacts, name);
			const counter = contact.sendCounter;
			if (counter >= Number.MAX_SAFE_INTEGER) throw new RangeError(`the counters to ${name} are exhausted`);
			contact.sendCounter = counter + 1;
			return [counter, new Set([name])];
		});
	}

	/**
	 * Applies a counter received from `name` under the pinned record; committed unless a replay.
	 * With `accepted`, what the envelope shows is kept in the same commit, until settle() (see
	 * Accepted); without, as for a malformed payload, only the counter is spent.
	 */
	receive(name: string, counter: number, accepted?: AcceptedContent): CounterVerdict {
		return this.#change<CounterVerdict>([name], contacts => {
			const contact = existing(contacts, name);
			const verdict = acceptCounter(contact.receive, counter);
			if (verdict.verdict === 'replay') return [verdict, none];
			if (accepted !== undefined) keepInInbox(contact, name, accepted, verdict.verdict === 'new' ? verdict.gap : 0);
			contact.receive = verdict.state;
			return [verdict, new Set([name])];
		});
	}

	/**
	 * Keeps what a ratchet envelope from `name` shows (its session keeps the counters) until
	 * settle(), and marks the switch from the version 2 scheme at its first such envelope.
	 */
	accept(name: string, accepted: AcceptedContent | undefined, gap: number): void {
		this.#change([name], contacts => {
			const contact = existing(contacts, name);
			const changed = contact.staticBelow === undefined || accepted !== undefined;
			contact.staticBelow ??= contact.receive.next;
			if (accepted !== undefined) keepInInbox(contact, name, accepted, gap);
			return [undefined, changed ? new Set([name]) : none];
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
	 * Settles later: the next commit, whatever it is for, carries `settlement` (inbox(), owed() and
	 * owing() count it at once). What was shown is so marked at no cost of its own, in the next
	 * write, the one for the next envelope in a busy turn.
	 */
	defer(settlement: Settlement): void {
		this.#deferred.push(copySettlement(settlement));
	}

	/**
	 * Forgets what was shown, records receipts that must wait and forgets those that went out, for
	 * many contacts, with whatever was deferred, in one commit. An owed receipt belongs to the keys
	 * pinned when it is recorded.
	 */
	settle(settlements: readonly Settlement[]): void {
		if (settlements.length === 0 && this.#deferred.length === 0) return;
		this.#change(
			settlements.map(settlement => settlement.name),
			contacts => [undefined, applySettlements(contacts, settlements) ? new Set(settlements.map(settlement => settlement.name)) : none],
		);
	}

	/**
	 * Runs `work`, which may change contacts and write other tables of the same database, in one
	 * transaction: memory takes the contacts' changes only once it has committed, and keeps none of
	 * them (nor loses a deferred settlement) when it throws.
	 */
	atomically<T>(work: () => T): T {
		if (this.#staged !== undefined) return work();
		const staged = new Map<string, StoredContact>();
		const deferred = this.#deferred;
		this.#staged = staged;
		try {
			const result = this.db.transaction(work)();
			for (const [name, contact] of staged) this.#contacts.set(name, contact);
			return result;
		} catch (error) {
			this.#deferred = deferred;
			throw error;
		} finally {
			this.#staged = undefined;
		}
	}

	/** Whether `record` is `name`'s pinned or pending record, byte for byte. */
	#holds(name: string, record: PublicIdentity): boolean {
		const contact = this.#contacts.get(name);
		if (contact === undefined) return false;
		return sameIdentity(contact.pinned, record) || (contact.pending !== undefined && sameIdentity(contact.pending, record));
	}

	/**
	 * Applies what was deferred and then `update` to copies of the contacts `names` (and those the
	 * deferred settlements name; `update` sees no others), and commits the rows `update` says it
	 * changed, with those the settlements changed, in one transaction. If `update` or the commit
	 * throws, nothing changes, in memory or on disk, and the deferred stay for next time. Inside
	 * atomically(), memory waits for the outer transaction.
	 */
	#change<T>(names: readonly string[], update: (contacts: Map<string, StoredContact>) => [T, ReadonlySet<string>]): T {
		const deferred = this.#deferred;
		const draft = new Map<string, StoredContact>();
		for (const name of [...names, ...deferred.map(settlement => settlement.name)]) {
			const contact = this.#staged?.get(name) ?? this.#contacts.get(name);
			if (contact !== undefined && !draft.has(name)) draft.set(name, structuredCopy(contact));
		}
		const carried = applySettlements(draft, deferred) ? deferred.map(settlement => settlement.name) : [];
		const [result, changed] = update(draft);
		const written = [...new Set([...changed, ...carried])].filter(name => draft.has(name));
		if (written.length > 0) {
			this.db.transaction(() => {
				for (const name of written) this.#upsert.run(name, JSON.stringify(serialiseContact(draft.get(name)!)));
			})();
			for (const name of written) (this.#staged ?? this.#contacts).set(name, draft.get(name)!);
		}
		this.#deferred = this.#deferred.slice(deferred.length);
		return result;
	}

	/** The contacts (or only `only`) with what was deferred applied. */
	#view(only?: string): Map<string, StoredContact> {
		if (this.#deferred.length === 0) return this.#contacts;
		const contacts = only === undefined ? new Map(this.#contacts) : new Map<string, StoredContact>();
		for (const name of only === undefined ? this.#deferred.map(settlement => settlement.name) : [only]) {
			const contact = this.#contacts.get(name);
			if (contact !== undefined) contacts.set(name, structuredCopy(contact));
		}
		applySettlements(contacts, this.#deferred);
		return contacts;
	}
}

const none: ReadonlySet<string> = new Set();

function existing(contacts: Map<string, StoredContact>, name: string): StoredContact {
	checkName(name);
	const contact = contacts.get(name);
	if (contact === undefined) throw new Error(`${name} is not a contact`);
	return contact;
}

function keepInInbox(contact: StoredContact, name: string, accepted: AcceptedContent, gap: number): void {
	if (contact.inbox.length >= maxInboxEntries) {
		throw new Error(`${maxInboxEntries} messages from ${name} wait to be shown; this device is not saving them`);
	}
	contact.inbox.push({...accepted, gap});
}

function readRow(name: string, text: string): StoredContact {
	let parsed: StoredContact | string;
	try {
		parsed = isValidUsername(name) ? parseContact(JSON.parse(text)) : 'not a username';
	} catch {
		parsed = 'not JSON';
	}
	if (typeof parsed === 'string') throw new Error(`the contact ${JSON.stringify(name)} in this account's database is damaged (${parsed}): restore the database from a backup`);
	return parsed;
}

function checkName(name: string): void {
	if (!isValidUsername(name)) throw new TypeError('a contact is a folded, unreserved username');
}
