import {fromBase64Url, toBase64Url} from '../crypto/base64url.js';
import type {PublicIdentity} from '../crypto/identity.js';
import {maxReceiptIds, maxTextBytes} from '../net/e2e-payload.js';
import {isValidUsername} from '../net/usernames.js';
import {maxRetiredPins, type RetiredPin, type StoredContact} from './contact-record.js';
import {maxInboxEntries, maxOwedReceipts, type Accepted} from './inbox-ledger.js';
import {maxMissingCounters, type CounterState} from './receive-counter.js';

// One contact as JSON (a row of the database's contacts table, or an entry of the contacts.json
// of releases before 0.3, which the importer reads): what is written, and the checks on what is read back.

const twoTo53 = 2 ** 53;
const messageIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** A user record as both files keep it: its three keys in unpadded base64url. */
export function serialiseRecord(identity: PublicIdentity): {identity: string; x25519: string; binding: string} {
	return {
		identity: toBase64Url(identity.identity),
		x25519: toBase64Url(identity.x25519),
		binding: toBase64Url(identity.binding),
	};
}

/** One contact as a JSON value: a row of the contacts table, or an entry of contacts.json. */
export function serialiseContact(contact: StoredContact): object {
	return {
		pinned: serialiseRecord(contact.pinned),
		...(contact.pending === undefined ? {} : {pending: serialiseRecord(contact.pending)}),
		verified: contact.verified,
		sendCounter: contact.sendCounter,
		receive: contact.receive,
		...(contact.staticBelow === undefined ? {} : {staticBelow: contact.staticBelow}),
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
	};
}

/**
 * A file `{"version": 1, "<key>": {"<username>": entry, ...}}` (contacts.json, pins.json), each
 * entry read by `parseEntry` (a string says what is wrong with it); anything wrong throws
 * `damaged(why)`.
 */
export function parseNamedEntries<T>(text: string, key: string, parseEntry: (entry: unknown) => T | string, damaged: (why: string) => Error): Map<string, T> {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		throw damaged('not JSON');
	}
	const top = asRecord(value);
	const entries = asRecord(top?.[key]);
	if (top?.version !== 1 || entries === undefined) throw damaged(`not a version 1 ${key} file`);
	const parsed = new Map<string, T>();
	for (const [name, entry] of Object.entries(entries)) {
		if (!isValidUsername(name)) throw damaged('a name is not a username');
		const result = parseEntry(entry);
		if (typeof result === 'string') throw damaged(`${name}: ${result}`);
		parsed.set(name, result);
	}
	return parsed;
}

/** A contact, or what is wrong with it. */
export function parseContact(value: unknown): StoredContact | string {
	const fields = asRecord(value);
	if (fields === undefined) return 'not an object';
	const pinned = parseRecord(fields.pinned);
	if (pinned === undefined) return 'bad pinned record';
	const pending = fields.pending === undefined ? undefined : parseRecord(fields.pending);
	if (fields.pending !== undefined && pending === undefined) return 'bad pending record';
	if (typeof fields.verified !== 'boolean') return 'bad verified mark';
	if (!isCount(fields.sendCounter, Number.MAX_SAFE_INTEGER)) return 'bad send counter';
	const receive = parseCounterState(fields.receive);
	if (receive === undefined) return 'bad receive state';
	if (fields.staticBelow !== undefined && !isCount(fields.staticBelow, twoTo53)) return 'bad switch point';
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
	if (fields.staticBelow !== undefined) contact.staticBelow = fields.staticBelow as number;
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

export function parseRecord(value: unknown): PublicIdentity | undefined {
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
