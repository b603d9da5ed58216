import {Buffer} from 'node:buffer';
import {createPublicKey, hkdfSync, type KeyObject} from 'node:crypto';
import {isValidUsername} from './username-rule.js';
import {Fernet} from './fernet.js';
import {lp} from './length-prefix.js';
import {generateRawKeyPair, publicKeyFromRaw, publicRaw, type RawKeyPair} from './raw-keys.js';
import {isBytes, isPrivateKey, sameKey, x25519} from './x25519.js';

/** End-to-end envelopes, PROTOCOL.md section 10. Pure: no I/O, no logging. */
export type Party = {name: string; identity: Buffer; x25519: Buffer};
export type EnvelopeKind = 'direct' | 'everyone';

/**
 * - `malformed`: a name, id, kind, key or body has the wrong form;
 * - `key_exchange`: a key exchange failed or gave all zeros (a small-order key);
 * - `authentication`: the MAC failed: another key, recipient, sender, id, kind or an altered body;
 * - `payload`: the plaintext is not a valid payload (source/net/e2e-payload.ts);
 * - `replay`: a ratchet message whose key was already used (source/crypto/ratchet-envelope.ts);
 * - `too_many_skipped`: a ratchet header that would skip more message keys than the bound.
 */
export type EnvelopeErrorCode = 'malformed' | 'key_exchange' | 'authentication' | 'payload' | 'replay' | 'too_many_skipped';

/** Every failure to open an envelope, or to parse its payload. */
export class EnvelopeError extends Error {
	override readonly name = 'EnvelopeError';

	constructor(
		message: string,
		readonly code: EnvelopeErrorCode = 'malformed',
	) {
		super(message);
	}
}

const messageLabel = 'im-tui/1 message';
const idPattern = /^[A-Za-z0-9_-]{1,64}$/;
const kinds: ReadonlySet<string> = new Set<EnvelopeKind>(['direct', 'everyone']);

export type SealOptions = {
	sender: Party & {x25519Secret: KeyObject};
	recipient: Party;
	id: string;
	kind: EnvelopeKind;
	payload: Uint8Array | string;
	/** Only the worked example and tests pass these; otherwise fresh and random. */
	ephemeral?: RawKeyPair;
	iv?: Buffer;
	timeSeconds?: number;
};

export type OpenOptions = {
	recipient: Party & {x25519Secret: KeyObject};
	/** The sender as pinned by the recipient (section 12), never keys taken from the envelope. */
	sender: Party;
	id: string;
	kind: EnvelopeKind;
	ephemeral: Buffer;
	body: string;
};

export function sealEnvelope(options: SealOptions): {ephemeral: Buffer; body: string} {
	const {sender, recipient, id, kind} = options;
	const problem = headerProblem(sender, recipient, id, kind) ?? secretProblem(sender, 'sender');
	if (problem !== undefined) throw new TypeError(`cannot seal: ${problem}`);
	const ephemeral = options.ephemeral ?? generateRawKeyPair('x25519');
	const ephemeralPublic = publicRaw(createPublicKey(ephemeral.privateKey));
	const dh1 = exchange(ephemeral.privateKey, recipient.x25519, 'the recipient key');
	const dh2 = exchange(sender.x25519Secret, recipient.x25519, 'the recipient key');
	const key = messageKey(dh1, dh2, sender, recipient, ephemeralPublic, id, kind);
	const fernet = new Fernet(key);
	try {
		const body = fernet.encrypt(options.payload, {iv: options.iv, timeSeconds: options.timeSeconds});
		return {ephemeral: ephemeralPublic, body};
	} finally {
		fernet.dispose();
		key.fill(0);
	}
}

/** The payload bytes of an envelope, or an EnvelopeError. */
export function openEnvelope(options: OpenOptions): Buffer {
	try {
		return open(options);
	} catch (error) {
		if (error instanceof EnvelopeError) throw error;
		throw new EnvelopeError(`cannot open: ${(error as Error)?.message ?? String(error)}`);
	}
}

function open({recipient, sender, id, kind, ephemeral, body}: OpenOptions): Buffer {
	const problem = headerProblem(sender, recipient, id, kind) ?? secretProblem(recipient, 'recipient');
	if (problem !== undefined) throw new EnvelopeError(`cannot open: ${problem}`);
	if (!isBytes(ephemeral, 32)) throw new EnvelopeError('cannot open: the ephemeral key is not 32 bytes');
	if (typeof body !== 'string') throw new EnvelopeError('cannot open: the body is not a string');
	const dh1 = exchange(recipient.x25519Secret, ephemeral, 'the ephemeral key');
	const dh2 = exchange(recipient.x25519Secret, sender.x25519, "the sender's key");
	const key = messageKey(dh1, dh2, sender, recipient, ephemeral, id, kind);
	const fernet = new Fernet(key);
	try {
		return fernet.decrypt(body);
	} catch {
		throw new EnvelopeError(
			`cannot open message ${id} from ${sender.name}: authentication failed (another key, sender, recipient, id or kind, or an altered body)`,
			'authentication',
		);
	} finally {
		fernet.dispose();
		key.fill(0);
	}
}

function messageKey(dh1: Buffer, dh2: Buffer, sender: Party, recipient: Party, ephemeral: Buffer, id: string, kind: EnvelopeKind): Buffer {
	const ikm = Buffer.concat([dh1, dh2]);
	dh1.fill(0);
	dh2.fill(0);
	const info = lp(messageLabel, sender.name, recipient.name, sender.identity, sender.x25519, recipient.identity, recipient.x25519, ephemeral, id, kind);
	const key = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), info, 32));
	ikm.fill(0);
	return key;
}

function exchange(secret: KeyObject, publicKey: Buffer, what: string): Buffer {
	const shared = x25519(secret, publicKeyFromRaw('x25519', publicKey));
	if (shared === undefined) throw new EnvelopeError(`the key exchange with ${what} failed (a small-order or invalid key)`, 'key_exchange');
	return shared;
}

/** What is wrong with the parties, id or kind of an envelope, or undefined. */
export function headerProblem(sender: Party, recipient: Party, id: string, kind: string): string | undefined {
	const problem = partyProblem(sender, 'sender') ?? partyProblem(recipient, 'recipient');
	if (problem !== undefined) return problem;
	if (typeof id !== 'string' || !idPattern.test(id)) return 'the message id is not 1 to 64 of A-Z a-z 0-9 _ -';
	if (typeof kind !== 'string' || !kinds.has(kind)) return 'the kind is neither "direct" nor "everyone"';
	return undefined;
}

export function partyProblem(party: Party, role: string): string | undefined {
	if (typeof party !== 'object' || party === null) return `the ${role} is missing`;
	if (typeof party.name !== 'string' || !isValidUsername(party.name)) return `the ${role}'s name is not a folded username`;
	if (!isBytes(party.identity, 32) || !isBytes(party.x25519, 32)) return `the ${role}'s keys are not 32 bytes each`;
	return undefined;
}

/** The secret must be the private half of the party's X25519 key, or nothing could be opened. */
export function secretProblem(party: Party & {x25519Secret: KeyObject}, role: string): string | undefined {
	const secret: unknown = party.x25519Secret;
	let matches = false;
	if (isPrivateKey(secret, 'x25519')) matches = sameKey(publicRaw(createPublicKey(secret)), party.x25519);
	return matches ? undefined : `the ${role}'s X25519 secret is not the private half of its public key`;
}
