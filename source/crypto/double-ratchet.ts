import {Buffer} from 'node:buffer';
import {createHmac, hkdfSync, randomFillSync, type KeyObject} from 'node:crypto';
import {fromBase64Url, toBase64Url} from './base64url.js';
import {EnvelopeError} from './envelope.js';
import {isPrekeyId} from './prekeys.js';
import {keyPairFromPrivate, privateKeyFromRaw, publicKeyFromRaw, type RawKeyPair} from './raw-keys.js';
import type {RatchetHeader} from './ratchet-header.js';
import {isBytes, isPrivateKey, ownedCopy, sameKey, x25519} from './x25519.js';

export {encodeHeader, parseHeader, type RatchetHeader} from './ratchet-header.js';

/**
 * Signal's Double Ratchet with HKDF/HMAC-SHA256 (design of issue 14, section 3). A state is a
 * value: every function returns a new one and leaves its input as it was, so a caller can keep
 * the old state until the new one is stored. Secrets: never log them.
 */
export type RatchetState = Readonly<{
	/** Raw X25519 private key of DHs. */
	dhSecret: Buffer;
	dhPublic: Buffer;
	dhRemote: Buffer | null;
	rootKey: Buffer;
	sendChain: Buffer | null;
	recvChain: Buffer | null;
	sendN: number;
	recvN: number;
	previousN: number;
	/** The last remote ratchet keys before dhRemote, newest last. */
	previousRemotes: readonly Buffer[];
}>;

export type SkippedLookup = (dh: Buffer, n: number) => Buffer | undefined;
export type SkippedKey = {dh: Buffer; n: number; key: Buffer};

export type RatchetDecryption = {
	state: RatchetState;
	messageKey: Buffer;
	/** The stored skipped key that was used: the caller deletes it once the message is accepted. */
	usedSkipped?: {dh: Buffer; n: number};
	/** Keys skipped on the way, for the caller to store. */
	newSkipped: SkippedKey[];
};

export const maxSkip = 1000;
export const maxPreviousRemotes = 16;
const maxCounter = 0xff_ff_ff_ff;
const rootInfo = Buffer.from('im-tui/3 ratchet');
const messageKeyInput = Buffer.from([0x01]);
const chainKeyInput = Buffer.from([0x02]);

/** KDF_RK: HKDF-SHA256(IKM = dhOut, salt = rootKey, info = "im-tui/3 ratchet", L = 64). */
export function kdfRoot(rootKey: Buffer, dhOut: Buffer): {rootKey: Buffer; chainKey: Buffer} {
	const output = Buffer.from(hkdfSync('sha256', dhOut, rootKey, rootInfo, 64));
	return {rootKey: output.subarray(0, 32), chainKey: output.subarray(32)};
}

/** KDF_CK: message key HMAC-SHA256(ck, 0x01), next chain key HMAC-SHA256(ck, 0x02). */
export function kdfChain(chainKey: Buffer): {messageKey: Buffer; chainKey: Buffer} {
	return {
		messageKey: createHmac('sha256', chainKey).update(messageKeyInput).digest(),
		chainKey: createHmac('sha256', chainKey).update(chainKeyInput).digest(),
	};
}

/** Alice's state after X3DH: `remote` is Bob's signed prekey; `dhPair` only for tests and the worked example. */
export function initRatchetInitiator(options: {sharedSecret: Buffer; remote: Buffer; dhPair?: RawKeyPair}): RatchetState {
	const {sharedSecret, remote} = options;
	if (!isBytes(sharedSecret, 32) || !isBytes(remote, 32)) throw new TypeError('a ratchet starts from a 32-byte secret and a 32-byte key');
	const pair = ratchetPair(options.dhPair);
	const shared = exchange(pair.privateKey, publicKeyFromRaw('x25519', remote));
	const {rootKey, chainKey} = kdfRoot(sharedSecret, shared);
	shared.fill(0);
	const state = {dhSecret: pair.secret, dhPublic: pair.publicRaw, dhRemote: ownedCopy(remote), rootKey, sendChain: chainKey, recvChain: null};
	return {...state, sendN: 0, recvN: 0, previousN: 0, previousRemotes: []};
}

/** Bob's state after X3DH: his ratchet key starts as the signed prekey the initiator used. */
export function initRatchetResponder(options: {sharedSecret: Buffer; signedPrekey: RawKeyPair}): RatchetState {
	const {sharedSecret, signedPrekey} = options;
	if (!isBytes(sharedSecret, 32)) throw new TypeError('a ratchet starts from a 32-byte secret');
	const pair = ratchetPair(signedPrekey);
	const state = {dhSecret: pair.secret, dhPublic: pair.publicRaw, dhRemote: null, rootKey: ownedCopy(sharedSecret), sendChain: null, recvChain: null};
	return {...state, sendN: 0, recvN: 0, previousN: 0, previousRemotes: []};
}

/** The next sending message key and the header fields that go with it. */
export function ratchetEncrypt(state: RatchetState): {state: RatchetState; messageKey: Buffer; dh: Buffer; previousN: number; n: number} {
	if (state.sendChain === null) throw new TypeError('this session cannot send before it has received a message');
	if (state.sendN >= maxCounter) throw new TypeError('this sending chain is exhausted');
	const {messageKey, chainKey} = kdfChain(state.sendChain);
	return {state: {...state, sendChain: chainKey, sendN: state.sendN + 1}, messageKey, dh: state.dhPublic, previousN: state.previousN, n: state.sendN};
}

/**
 * Signal's RatchetDecrypt with skipped message keys, up to (not including) the message's
 * authentication, which the caller does with the message key: until it succeeds, the caller keeps
 * its state, and should pass the returned state to discardRatchet if it fails.
 */
export function ratchetDecrypt(state: RatchetState, header: RatchetHeader, skipped: SkippedLookup, nextDhPair?: RawKeyPair): RatchetDecryption {
	// ratchetEncrypt never sends n = 2^32 - 1: taking it would leave recvN = 2^32, a state that no
	// longer parses (parseRatchet), so the session could never be read from storage again.
	if (header.n >= maxCounter) throw new EnvelopeError(`a ratchet header's n is at most ${maxCounter - 1}`, 'too_many_skipped');
	const current = state.dhRemote !== null && sameKey(header.dh, state.dhRemote);
	// Keys of the current chain from recvN on were never skipped, so they are not looked up.
	if (!current || header.n < state.recvN) {
		const key = skipped(header.dh, header.n);
		if (key !== undefined) {
			if (!isBytes(key, 32)) throw new TypeError('a skipped message key is 32 bytes');
			return {state, messageKey: Buffer.from(key), usedSkipped: {dh: Buffer.from(header.dh), n: header.n}, newSkipped: []};
		}
		// Every unused key of an old chain was skipped (and stored) when the chain ended.
		if (current || state.previousRemotes.some(remote => sameKey(remote, header.dh))) {
			throw new EnvelopeError(`ratchet message ${header.n} was already received (a replay)`, 'replay');
		}
	}
	if (current && state.recvChain === null) {
		throw new EnvelopeError('no message can come on the ratchet key this session started with', 'authentication');
	}
	const skipOld = current || state.recvChain === null ? 0 : Math.max(0, header.previousN - state.recvN);
	const skipNew = current ? header.n - state.recvN : header.n;
	if (skipOld > maxSkip || skipNew > maxSkip) {
		throw new EnvelopeError(`a ratchet header would skip more than ${maxSkip} message keys`, 'too_many_skipped');
	}
	const newSkipped: SkippedKey[] = [];
	let work = state;
	try {
		if (!current) {
			work = skip(work, state, header.previousN, newSkipped);
			work = dhStep(work, state, header.dh, nextDhPair);
		}
		work = skip(work, state, header.n, newSkipped);
		const {messageKey, chainKey} = kdfChain(work.recvChain!);
		forget(work.recvChain, state);
		return {state: {...work, recvChain: chainKey, recvN: work.recvN + 1}, messageKey, newSkipped};
	} catch (error) {
		for (const entry of newSkipped) entry.key.fill(0);
		discardRatchet(work, state);
		throw error;
	}
}

/** Zeroes the secrets of `next` that `previous` does not share: for a state that will not be kept. */
export function discardRatchet(next: RatchetState, previous: RatchetState): void {
	for (const field of ['dhSecret', 'rootKey', 'sendChain', 'recvChain'] as const) forget(next[field], previous);
}

function forget(buffer: Buffer | null, keep: RatchetState): void {
	if (buffer === null || buffer === keep.dhSecret || buffer === keep.rootKey || buffer === keep.sendChain || buffer === keep.recvChain) return;
	buffer.fill(0);
}

function skip(state: RatchetState, original: RatchetState, until: number, into: SkippedKey[]): RatchetState {
	if (state.recvChain === null || state.dhRemote === null || state.recvN >= until) return state;
	let chain = state.recvChain;
	for (let n = state.recvN; n < until; n++) {
		const next = kdfChain(chain);
		into.push({dh: state.dhRemote, n, key: next.messageKey});
		forget(chain, original);
		chain = next.chainKey;
	}
	return {...state, recvChain: chain, recvN: until};
}

function dhStep(state: RatchetState, original: RatchetState, remote: Buffer, nextDhPair: RawKeyPair | undefined): RatchetState {
	const remoteKey = publicKeyFromRaw('x25519', remote);
	const received = exchange(privateKeyFromRaw('x25519', state.dhSecret), remoteKey);
	const first = kdfRoot(state.rootKey, received);
	received.fill(0);
	const pair = ratchetPair(nextDhPair);
	let sent: Buffer;
	try {
		sent = exchange(pair.privateKey, remoteKey);
	} catch (error) {
		pair.secret.fill(0);
		first.rootKey.fill(0);
		first.chainKey.fill(0);
		throw error;
	}
	const second = kdfRoot(first.rootKey, sent);
	sent.fill(0);
	first.rootKey.fill(0);
	forget(state.recvChain, original);
	const previousRemotes = state.dhRemote === null ? state.previousRemotes : [...state.previousRemotes, state.dhRemote].slice(-maxPreviousRemotes);
	return {
		dhSecret: pair.secret,
		dhPublic: pair.publicRaw,
		dhRemote: ownedCopy(remote),
		rootKey: second.rootKey,
		sendChain: second.chainKey,
		recvChain: first.chainKey,
		sendN: 0,
		recvN: 0,
		previousN: state.sendN,
		previousRemotes,
	};
}

type RatchetPair = {secret: Buffer; publicRaw: Buffer; privateKey: KeyObject};

/** A fresh pair from 32 random bytes, or an injected one; the secret is kept raw. */
function ratchetPair(injected: RawKeyPair | undefined): RatchetPair {
	if (injected === undefined) {
		const secret = randomFillSync(Buffer.alloc(32));
		const pair = keyPairFromPrivate('x25519', secret);
		return {secret, publicRaw: ownedCopy(pair.publicRaw), privateKey: pair.privateKey};
	}
	if (!isPrivateKey(injected.privateKey, 'x25519')) throw new TypeError('a ratchet key pair is an X25519 key pair');
	// One JWK export gives both halves (the public one derived, not trusted from the pair).
	const jwk = injected.privateKey.export({format: 'jwk'});
	const secret = Buffer.alloc(32);
	secret.write(jwk.d!, 'base64url');
	return {secret, publicRaw: ownedCopy(Buffer.from(jwk.x!, 'base64url')), privateKey: injected.privateKey};
}

function exchange(privateKey: KeyObject, publicKey: KeyObject): Buffer {
	const shared = x25519(privateKey, publicKey);
	if (shared === undefined) throw new EnvelopeError('the ratchet key exchange failed or gave all zeros (a small-order key)', 'key_exchange');
	return shared;
}

/** A state as JSON: keys as B64U, counters as numbers. */
export type RatchetJson = {
	dhSecret: string;
	dhPublic: string;
	dhRemote: string | null;
	rootKey: string;
	sendChain: string | null;
	recvChain: string | null;
	sendN: number;
	recvN: number;
	previousN: number;
	previousRemotes: string[];
};

const jsonFields = ['dhSecret', 'dhPublic', 'dhRemote', 'rootKey', 'sendChain', 'recvChain', 'sendN', 'recvN', 'previousN', 'previousRemotes'];

export function serialiseRatchet(state: RatchetState): RatchetJson {
	const b64 = (key: Buffer): string => toBase64Url(key);
	const maybe = (key: Buffer | null): string | null => (key === null ? null : b64(key));
	return {
		dhSecret: b64(state.dhSecret),
		dhPublic: b64(state.dhPublic),
		dhRemote: maybe(state.dhRemote),
		rootKey: b64(state.rootKey),
		sendChain: maybe(state.sendChain),
		recvChain: maybe(state.recvChain),
		sendN: state.sendN,
		recvN: state.recvN,
		previousN: state.previousN,
		previousRemotes: state.previousRemotes.map(b64),
	};
}

/** Strict: a TypeError on a missing, extra or malformed field, or an inconsistent state. */
export function parseRatchet(json: unknown): RatchetState {
	if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TypeError('a ratchet state is a JSON object');
	const fields = json as Record<string, unknown>;
	const names = Object.keys(fields);
	if (names.length !== jsonFields.length || !jsonFields.every(name => Object.hasOwn(fields, name))) {
		throw new TypeError(`a ratchet state has exactly the fields ${jsonFields.join(', ')}`);
	}
	const key = (name: string, value = fields[name]): Buffer => {
		if (typeof value !== 'string') throw new TypeError(`ratchet state: ${name} is not a string`);
		const bytes = fromBase64Url(value, 32);
		const owned = ownedCopy(bytes);
		bytes.fill(0);
		return owned;
	};
	const maybe = (name: string): Buffer | null => (fields[name] === null ? null : key(name));
	const counter = (name: string): number => {
		if (!isPrekeyId(fields[name])) throw new TypeError(`ratchet state: ${name} is not an integer from 0 to 2^32 - 1`);
		return fields[name] as number;
	};
	const remotes = fields['previousRemotes'];
	if (!Array.isArray(remotes) || remotes.length > maxPreviousRemotes) {
		throw new TypeError(`ratchet state: previousRemotes is not a list of at most ${maxPreviousRemotes} keys`);
	}
	const state: RatchetState = {
		dhSecret: key('dhSecret'),
		dhPublic: key('dhPublic'),
		dhRemote: maybe('dhRemote'),
		rootKey: key('rootKey'),
		sendChain: maybe('sendChain'),
		recvChain: maybe('recvChain'),
		sendN: counter('sendN'),
		recvN: counter('recvN'),
		previousN: counter('previousN'),
		previousRemotes: remotes.map((remote: unknown) => key('previousRemotes', remote)),
	};
	if (state.dhRemote === null && (state.sendChain !== null || state.recvChain !== null || state.previousRemotes.length > 0)) {
		throw new TypeError('ratchet state: chains or past remote keys without a remote key');
	}
	if ((state.sendChain === null && state.sendN > 0) || (state.recvChain === null && state.recvN > 0)) {
		throw new TypeError('ratchet state: a message count without its chain');
	}
	return state;
}
