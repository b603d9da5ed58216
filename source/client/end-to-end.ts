import {randomBytes} from 'node:crypto';
import {fromBase64Url, toBase64Url} from '../crypto/base64url.js';
import {EnvelopeError, openEnvelope, sealEnvelope, type Party} from '../crypto/envelope.js';
import {publicIdentity, type IdentityKeys, type PublicIdentity} from '../crypto/identity.js';
import {safetyNumber} from '../crypto/safety-number.js';
import {encodePayload, maxTextBytes, parsePayload, payloadCounter} from '../net/e2e-payload.js';
import type {RejectionCode} from './client-events.js';
import {isValidUsername} from '../net/usernames.js';
import type {DeliveredEnvelope, Envelope, EnvelopeKind, UserRecord} from '../net/messages.js';
import type {ContactStore} from './contact-store.js';
import type {Accepted, AcceptedContent, Settlement} from './inbox-ledger.js';

/**
 * The end-to-end layer of one logged-in user (PROTOCOL.md sections 10 and 12): seals and opens
 * envelopes with the pinned keys, keeps counters, and decides what a received envelope is. No
 * sockets: ChatClient moves envelopes, this decides what they mean.
 */
export type Opened =
	| {type: 'text'; from: string; id: string; kind: EnvelopeKind; text: string; sent: number; gap: number}
	| {type: 'receipt'; from: string; ids: string[]; gap: number}
	| {type: 'held'; from: string}
	/**
	 * `gap` only for a malformed payload whose counter could be read and was spent: the counters it
	 * skipped, withheld or lost like those before any new counter.
	 */
	| {type: 'rejected'; from: string; code: RejectionCode; reason: string; gap?: number};

export class KeyChangedError extends Error {
	constructor(readonly username: string) {
		super(`${username}'s identity key changed: compare safety numbers (/verify ${username}), then /trust ${username}`);
		this.name = 'KeyChangedError';
	}
}

export function newMessageId(): string {
	return randomBytes(16).toString('base64url');
}

function replayed(from: string): Opened {
	return {type: 'rejected', from, code: 'replay', reason: 'it repeats a message already received'};
}

function recordKeys(record: UserRecord): PublicIdentity {
	return {
		identity: fromBase64Url(record.identity, 32),
		x25519: fromBase64Url(record.x25519, 32),
		binding: fromBase64Url(record.binding, 64),
	};
}

export class EndToEnd {
	private readonly me: Party & {x25519Secret: IdentityKeys['x25519']['privateKey']};

	constructor(
		readonly username: string,
		private readonly keys: IdentityKeys,
		private readonly contacts: ContactStore,
		private readonly clock: () => number = Date.now,
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

	/** The contacts with more than a pin: those this account has a conversation with. */
	talkedWith(): string[] {
		return this.contacts.talkedWith();
	}

	knows(username: string): boolean {
		return this.contacts.get(username) !== undefined;
	}

	seal(to: string, kind: EnvelopeKind, id: string, text: string): Envelope {
		// Checked before a counter is spent on it: a refused message must not look like a gap.
		if (Buffer.byteLength(text) > maxTextBytes) throw new Error(`a message is at most ${maxTextBytes} bytes`);
		return this.sealPayload(to, kind, id, counter => ({v: 1, counter, type: 'text', text, sent: this.clock()}));
	}

	receipt(to: string, ids: string[]): Envelope {
		return this.sealPayload(to, 'direct', newMessageId(), counter => ({v: 1, counter, type: 'receipt', ids}));
	}

	open(envelope: DeliveredEnvelope): Opened {
		const {from} = envelope;
		if (envelope.to !== this.username) {
			return {type: 'rejected', from, code: 'misaddressed', reason: `it was addressed to ${envelope.to}`};
		}
		const contact = this.contacts.get(from);
		if (!contact) return {type: 'rejected', from, code: 'unknown_sender', reason: 'the sender is not a known user'};
		const plaintext = this.tryOpen(envelope, contact.pinned);
		if (plaintext === undefined) {
			if (contact.pending && this.tryOpen(envelope, contact.pending) !== undefined) return {type: 'held', from};
			return {type: 'rejected', from, code: 'unauthenticated', reason: 'it did not authenticate (forged, or damaged in transit)'};
		}
		let payload;
		try {
			payload = parsePayload(plaintext);
		} catch (error) {
			return this.malformed(from, plaintext, (error as Error).message);
		}
		const content: AcceptedContent =
			payload.type === 'receipt'
				? {type: 'receipt', id: envelope.id, ids: payload.ids, time: envelope.time}
				: {type: 'text', id: envelope.id, kind: envelope.kind, text: payload.text, sent: payload.sent, time: envelope.time};
		// The counter and what the envelope shows are saved together: see ChatSession for why.
		const verdict = this.contacts.receive(from, payload.counter, content);
		if (verdict.verdict === 'replay') return replayed(from);
		const gap = verdict.verdict === 'new' ? verdict.gap : 0;
		if (payload.type === 'receipt') return {type: 'receipt', from, ids: payload.ids, gap};
		return {type: 'text', from, id: envelope.id, kind: envelope.kind, text: payload.text, sent: payload.sent, gap};
	}

	/**
	 * An authenticated plaintext that is not a valid payload. Its counter, when it can be read, is
	 * spent like a good one's (on disk, nothing to show), so the next envelope does not report it as
	 * withheld; the counters it skipped are a gap all the same. A counter spent already is a replay.
	 */
	private malformed(from: string, plaintext: Buffer, reason: string): Opened {
		const counter = payloadCounter(plaintext);
		if (counter === undefined) return {type: 'rejected', from, code: 'malformed', reason};
		const verdict = this.contacts.receive(from, counter);
		if (verdict.verdict === 'replay') return replayed(from);
		return {type: 'rejected', from, code: 'malformed', reason, gap: verdict.verdict === 'new' ? verdict.gap : 0};
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

	private sealPayload(to: string, kind: EnvelopeKind, id: string, payload: (counter: number) => Parameters<typeof encodePayload>[0]): Envelope {
		const contact = this.contacts.get(to);
		if (!contact) throw new Error(`${to} is not a registered user`);
		if (contact.pending) throw new KeyChangedError(to);
		const counter = this.contacts.nextSendCounter(to);
		const {ephemeral, body} = sealEnvelope({
			sender: this.me,
			recipient: {name: to, identity: contact.pinned.identity, x25519: contact.pinned.x25519},
			id,
			kind,
			payload: encodePayload(payload(counter)),
		});
		return {id, to, kind, ephemeral: toBase64Url(ephemeral), body};
	}

	private tryOpen(envelope: DeliveredEnvelope, keys: PublicIdentity): Buffer | undefined {
		try {
			return openEnvelope({
				recipient: this.me,
				sender: {name: envelope.from, identity: keys.identity, x25519: keys.x25519},
				id: envelope.id,
				kind: envelope.kind,
				// a ratchet envelope has none: it does not open here (the throw below)
				ephemeral: fromBase64Url(envelope.ephemeral ?? '', 32),
				body: envelope.body,
			});
		} catch (error) {
			if (error instanceof EnvelopeError || error instanceof TypeError) return undefined;
			throw error;
		}
	}
}
