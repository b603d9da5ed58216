import {randomBytes} from 'node:crypto';
import {closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, type BigIntStats} from 'node:fs';
import {dirname, join} from 'node:path';
import {fromBase64Url, toBase64Url} from '../crypto/base64url.js';
import {sameIdentity, verifyBinding, type PublicIdentity} from '../crypto/identity.js';
import type {EnvelopeKind} from '../net/messages.js';
import {maxReceiptIds, maxTextBytes} from '../net/e2e-payload.js';
import {isValidUsername} from '../net/usernames.js';
import {accountDirectory, readPrivateFile, writeFileAtomicSync} from './identity-store.js';
import {acceptCounter, maxMissingCounters, newCounterState, type CounterState, type CounterVerdict} from './receive-counter.js';

export const contactsFileName = 'contacts.json';

export function contactsPath(dataDir: string, relayFingerprint: string, username: string): string {
	return join(accountDirectory(dataDir, relayFingerprint, username), contactsFileName);
}

/** What this client knows of one contact (PROTOCOL.md sections 10 and 12). */
export type Contact = {
	/** The record messages are opened with and sent to. */
	pinned: PublicIdentity;
	/** A different record the relay served since, held until the user runs /trust. */
	pending?: PublicIdentity;
	verified: boolean;
	/** The counter the next envelope to this contact uses. */
	sendCounter: number;
	/** Replay and gap state of the envelopes from this contact under `pinned`. */
	receive: CounterState;
};

/**
 * What an accepted envelope has the client show: a text, or a receipt for texts it sent. It is
 * written in the same file update that spends the envelope's counter, so a client killed after
 * that update and before it showed the envelope still has it (the relay's copy is now a replay).
 */
export type AcceptedContent =
	| {type: 'text'; id: string; kind: EnvelopeKind; text: string; sent: number; time: number}
	| {type: 'receipt'; id: string; ids: string[]; time: number};

/** An AcceptedContent with the number of envelopes skipped before it (section 10; 0 for a late one). */
export type Accepted = AcceptedContent & {gap: number};

/** Which stored Accepted entry of one contact a settle() removes: the first one that matches. */
export type AcceptedKey = {type: Accepted['type']; id: string};

/** What became of what was accepted from one contact (see settle() and defer()). */
export type Settlement = {
	name: string;
	/** Inbox entries that were shown: forgotten. */
	shown: AcceptedKey[];
	/** Ids of texts shown whose receipt is owed to the pinned keys until it is sealed. */
	owe: string[];
	/** Owed receipt ids whose receipt is sealed and saved in the outbox: forgotten. */
	paid: string[];
};

/**
 * The counters of a record that was pinned before. Counters are per key pair (the envelope key
 * depends on both sides' keys), so re-trusting a record that was pinned earlier resumes its
 * counters instead of starting over, which would reopen replays of its old envelopes. The receipts
 * still owed to that key pair go with it: they are for texts its holder sent, and nobody else.
 */
type RetiredPin = {identity: Buffer; x25519: Buffer; sendCounter: number; receiveNext: number; owed: string[]};
type StoredContact = Contact & {
	retired: RetiredPin[];
	/** Accepted from this contact and not known to be shown yet, oldest first. */
	inbox: Accepted[];
	/**
	 * Ids of texts from the pinned keys, shown, whose receipt is not sealed yet: until the end of
	 * the turn, or, while a key change is pending, until these keys are trusted again.
	 */
	owed: string[];
};

/** Re-trusting a record retired longer ago than this many key changes starts its counters over. */
export const maxRetiredPins = 32;
/**
 * Inbox entries kept per contact. The client marks each one shown in its next write, so only
 * repeated failures to write come near it; past it, receive() refuses the envelope, which then
 * stays unacknowledged on the relay.
 */
export const maxInboxEntries = 1024;
/**
 * Receipts owed per key pair (more than one turn of the event loop can show: a frame holds at most
 * 1,024 messages); the oldest are forgotten past it, and their senders just see no tick.
 */
export const maxOwedReceipts = 4096;

const twoTo53 = 2 ** 53;
const messageIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

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
					contacts.set(name, {
						pinned: copyIdentity(record),
						verified: false,
						sendCounter: 0,
						receive: newCounterState(),
						retired: [],
						inbox: [],
						owed: [],
					});
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
			if (!sameKeys(contact.pinned, pending)) {
				const retired = contact.retired.filter(entry => !sameKeys(entry, contact.pinned));
				retired.push({
					identity: contact.pinned.identity,
					x25519: contact.pinned.x25519,
					sendCounter: contact.sendCounter,
					// The skipped counters are not kept: late envelopes of a retired pin count as replays.
					receiveNext: contact.receive.next,
					// Never sent to other keys: their holder did not send those texts.
					owed: contact.owed,
				});
				const earlier = retired.find(entry => sameKeys(entry, pending));
				contact.retired = retired.filter(entry => entry !== earlier).slice(-maxRetiredPins);
				contact.sendCounter = earlier?.sendCounter ?? 0;
				contact.receive = earlier === undefined ? newCounterState() : {next: earlier.receiveNext, missing: []};
				contact.owed = earlier?.owed ?? [];
			}
			// Same keys under another binding signature: the same counter space, kept as it is.
			contact.pinned = pending;
			delete contact.pending;
			contact.verified = false;
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
				writeFileAtomicSync(this.path, serialise(contacts), {replace: true});
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
		this.#contacts = text === undefined ? new Map() : parse(this.path, text);
		this.#seen = seen;
	}
}

export const lockTimeoutMs = 10_000;
/** A lock is held for one read and one write; one this old was left by a process that hung or died. */
export const staleLockMs = 30_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `action` holding `<path>.lock`, a file that holds our pid from the moment it exists. A lock
 * whose process is gone, or older than staleLockMs, is broken; after lockTimeoutMs we give up.
 */
export function withLock<T>(path: string, timeoutMs: number, action: () => T): T {
	const lockPath = `${path}.lock`;
	const deadline = Date.now() + timeoutMs;
	for (let attempt = 0; ; attempt++) {
		if (createLock(lockPath)) break;
		if (breakStaleLock(lockPath)) continue;
		if (Date.now() > deadline) {
			throw new Error(`${path} stays locked by another im-tui process; if none is running, remove ${lockPath}`);
		}
		Atomics.wait(sleeper, 0, 0, Math.min(1 + attempt, 20));
	}
	try {
		return action();
	} finally {
		unlinkSync(lockPath);
	}
}

/**
 * Creates the lock with our pid already in it (written to a temporary file, then linked, which
 * fails if the lock exists): a process killed while taking the lock leaves none, or one with its
 * pid, broken at once; never an empty one, which only age could break. False when it is held.
 */
function createLock(lockPath: string): boolean {
	const temporary = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
	const fd = openSync(temporary, 'wx', 0o600);
	try {
		try {
			writeSync(fd, `${process.pid}\n`);
		} finally {
			closeSync(fd);
		}
		linkSync(temporary, lockPath);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
		throw error;
	} finally {
		unlinkSync(temporary);
	}
}

/** Removes the lock if it is stale; true when the caller should try to take it again at once. */
function breakStaleLock(lockPath: string): boolean {
	let inode: number;
	let old: boolean;
	let pid: number;
	try {
		const stats = statSync(lockPath);
		inode = stats.ino;
		old = Date.now() - stats.mtimeMs > staleLockMs;
		// Empty only when an older version was writing its pid: then only its age can make it stale.
		pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
		throw error;
	}
	if (!old && !(Number.isSafeInteger(pid) && pid > 0 && !isRunning(pid))) return false;
	// Move it aside first: if someone replaced the stale lock in the meantime, put theirs back.
	const aside = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
	try {
		renameSync(lockPath, aside);
	} catch {
		return true;
	}
	if (statSync(aside).ino !== inode) {
		try {
			linkSync(aside, lockPath);
		} catch {
			// Someone else holds it now; theirs stands.
		}
	}
	unlinkSync(aside);
	return true;
}

function isRunning(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
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

function sameKeys(a: {identity: Buffer; x25519: Buffer}, b: {identity: Buffer; x25519: Buffer}): boolean {
	return sameIdentity({...a, binding: Buffer.alloc(0)}, {...b, binding: Buffer.alloc(0)});
}

function copyIdentity(record: PublicIdentity): PublicIdentity {
	return {identity: Buffer.from(record.identity), x25519: Buffer.from(record.x25519), binding: Buffer.from(record.binding)};
}

function publicCopy(contact: StoredContact): Contact {
	const copy: Contact = {
		pinned: copyIdentity(contact.pinned),
		verified: contact.verified,
		sendCounter: contact.sendCounter,
		receive: {next: contact.receive.next, missing: [...contact.receive.missing]},
	};
	if (contact.pending !== undefined) copy.pending = copyIdentity(contact.pending);
	return copy;
}

function structuredCopy(contact: StoredContact): StoredContact {
	return {
		...publicCopy(contact),
		retired: contact.retired.map(entry => ({...entry, identity: Buffer.from(entry.identity), x25519: Buffer.from(entry.x25519), owed: [...entry.owed]})),
		inbox: contact.inbox.map(entry => copyAccepted(entry)),
		owed: [...contact.owed],
	};
}

/** Applies settlements to `contacts` (unknown names are skipped); whether anything changed. */
function applySettlements(contacts: Map<string, StoredContact>, settlements: readonly Settlement[]): boolean {
	let changed = false;
	for (const {name, shown, owe, paid} of settlements) {
		const contact = contacts.get(name);
		if (contact === undefined) continue;
		for (const key of shown) {
			const index = contact.inbox.findIndex(entry => entry.type === key.type && entry.id === key.id);
			if (index === -1) continue;
			contact.inbox.splice(index, 1);
			changed = true;
		}
		const gone = new Set(paid);
		const owed = new Set(contact.owed.filter(id => !gone.has(id)));
		for (const id of owe) owed.add(id);
		const next = [...owed].slice(-maxOwedReceipts);
		if (next.length !== contact.owed.length || next.some((id, index) => id !== contact.owed[index])) {
			contact.owed = next;
			changed = true;
		}
	}
	return changed;
}

function copySettlement(settlement: Settlement): Settlement {
	return {name: settlement.name, shown: settlement.shown.map(({type, id}) => ({type, id})), owe: [...settlement.owe], paid: [...settlement.paid]};
}

function copyAccepted(entry: Accepted): Accepted {
	return entry.type === 'receipt' ? {...entry, ids: [...entry.ids]} : {...entry};
}

function serialise(contacts: Map<string, StoredContact>): string {
	const record = (identity: PublicIdentity) => ({
		identity: toBase64Url(identity.identity),
		x25519: toBase64Url(identity.x25519),
		binding: toBase64Url(identity.binding),
	});
	// Object.fromEntries defines own properties, so even a user named "__proto__" is stored as data.
	const entries = [...contacts].map(([name, contact]) => [
		name,
		{
			pinned: record(contact.pinned),
			...(contact.pending === undefined ? {} : {pending: record(contact.pending)}),
			verified: contact.verified,
			sendCounter: contact.sendCounter,
			receive: contact.receive,
			retired: contact.retired.map(entry => ({
				identity: toBase64Url(entry.identity),
				x25519: toBase64Url(entry.x25519),
				sendCounter: entry.sendCounter,
				receiveNext: entry.receiveNext,
				...(entry.owed.length > 0 ? {owed: entry.owed} : {}),
			})),
			// Absent when empty, as in files written before they existed.
			...(contact.inbox.length > 0 ? {inbox: contact.inbox} : {}),
			...(contact.owed.length > 0 ? {owed: contact.owed} : {}),
		},
	]);
	return JSON.stringify({version: 1, contacts: Object.fromEntries(entries)}) + '\n';
}

function parse(path: string, text: string): Map<string, StoredContact> {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		throw damaged(path, 'not JSON');
	}
	const top = asRecord(value);
	if (top?.version !== 1 || asRecord(top.contacts) === undefined) throw damaged(path, 'not a version 1 contacts file');
	const contacts = new Map<string, StoredContact>();
	for (const [name, entry] of Object.entries(top.contacts as Record<string, unknown>)) {
		if (!isValidUsername(name)) throw damaged(path, 'a contact name is not a username');
		const contact = parseContact(entry);
		if (typeof contact === 'string') throw damaged(path, `${name}: ${contact}`);
		contacts.set(name, contact);
	}
	return contacts;
}

/** A contact, or what is wrong with it. */
function parseContact(value: unknown): StoredContact | string {
	const fields = asRecord(value);
	if (fields === undefined) return 'not an object';
	const pinned = parseIdentity(fields.pinned);
	if (pinned === undefined) return 'bad pinned record';
	const pending = fields.pending === undefined ? undefined : parseIdentity(fields.pending);
	if (fields.pending !== undefined && pending === undefined) return 'bad pending record';
	if (typeof fields.verified !== 'boolean') return 'bad verified mark';
	if (!isCount(fields.sendCounter, Number.MAX_SAFE_INTEGER)) return 'bad send counter';
	const receive = parseCounterState(fields.receive);
	if (receive === undefined) return 'bad receive state';
	const retired = Array.isArray(fields.retired) && fields.retired.length <= maxRetiredPins ? fields.retired.map(parseRetired) : [undefined];
	if (retired.some(entry => entry === undefined)) return 'bad retired pins';
	const inbox = fields.inbox === undefined ? [] : Array.isArray(fields.inbox) && fields.inbox.length <= maxInboxEntries ? fields.inbox.map(parseAccepted) : [undefined];
	if (inbox.some(entry => entry === undefined)) return 'bad accepted messages';
	const owed = parseOwed(fields.owed);
	if (owed === undefined) return 'bad owed receipts';
	const contact: StoredContact = {
		pinned,
		verified: fields.verified,
		sendCounter: fields.sendCounter,
		receive,
		retired: retired as RetiredPin[],
		inbox: inbox as Accepted[],
		owed,
	};
	if (pending !== undefined) contact.pending = pending;
	return contact;
}

function parseCounterState(value: unknown): CounterState | undefined {
	const fields = asRecord(value);
	if (fields === undefined || !isCount(fields.next, twoTo53) || !Array.isArray(fields.missing)) return undefined;
	const {next, missing} = fields as {next: number; missing: unknown[]};
	if (missing.length > maxMissingCounters) return undefined;
	let previous = -1;
	for (const counter of missing) {
		if (!isCount(counter, next - 1) || counter <= previous) return undefined;
		previous = counter;
	}
	return {next, missing: missing as number[]};
}

function parseRetired(value: unknown): RetiredPin | undefined {
	const fields = asRecord(value);
	const identity = key(fields?.identity, 32);
	const x25519 = key(fields?.x25519, 32);
	if (fields === undefined || identity === undefined || x25519 === undefined) return undefined;
	if (!isCount(fields.sendCounter, Number.MAX_SAFE_INTEGER) || !isCount(fields.receiveNext, twoTo53)) return undefined;
	const owed = parseOwed(fields.owed);
	if (owed === undefined) return undefined;
	return {identity, x25519, sendCounter: fields.sendCounter, receiveNext: fields.receiveNext, owed};
}

/** A list of message ids, absent meaning empty. */
function parseOwed(value: unknown): string[] | undefined {
	if (value === undefined) return [];
	if (!Array.isArray(value) || value.length > maxOwedReceipts || !value.every(id => isMessageId(id))) return undefined;
	return value as string[];
}

function parseAccepted(value: unknown): Accepted | undefined {
	const fields = asRecord(value);
	if (fields === undefined || !isMessageId(fields.id) || !Number.isSafeInteger(fields.time) || !isCount(fields.gap, twoTo53)) return undefined;
	const {id, time, gap} = fields as {id: string; time: number; gap: number};
	if (fields.type === 'receipt') {
		const {ids} = fields;
		if (!Array.isArray(ids) || ids.length === 0 || ids.length > maxReceiptIds || !ids.every(entry => isMessageId(entry))) return undefined;
		return {type: 'receipt', id, ids: ids as string[], time, gap};
	}
	if (fields.type !== 'text' || (fields.kind !== 'direct' && fields.kind !== 'everyone')) return undefined;
	if (typeof fields.text !== 'string' || Buffer.byteLength(fields.text) > maxTextBytes || !Number.isSafeInteger(fields.sent)) return undefined;
	return {type: 'text', id, kind: fields.kind, text: fields.text, sent: fields.sent as number, time, gap};
}

function isMessageId(value: unknown): value is string {
	return typeof value === 'string' && messageIdPattern.test(value);
}

function parseIdentity(value: unknown): PublicIdentity | undefined {
	const fields = asRecord(value);
	const identity = key(fields?.identity, 32);
	const x25519 = key(fields?.x25519, 32);
	const binding = key(fields?.binding, 64);
	return identity && x25519 && binding ? {identity, x25519, binding} : undefined;
}

function key(value: unknown, length: number): Buffer | undefined {
	try {
		return fromBase64Url(value as string, length);
	} catch {
		return undefined;
	}
}

/** A whole number from 0 to `max`; 2^53 is allowed where a counter state can reach it. */
function isCount(value: unknown, max: number): value is number {
	return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
	return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function damaged(path: string, why: string): Error {
	return new Error(`${path} is damaged (${why}); fix or restore it (removing it forgets every pinned key and counter)`);
}
