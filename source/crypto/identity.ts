import {Buffer} from 'node:buffer';
import {sign, verify} from 'node:crypto';
import {isValidUsername} from './username-rule.js';
import {lp} from './length-prefix.js';
import {generateRawKeyPair, publicKeyFromRaw, type RawKeyPair} from './raw-keys.js';
import {isBytes, sameKey} from './x25519.js';

/** A user's long-term keys (PROTOCOL.md section 9). Secrets: never log or send them. */
export type IdentityKeys = {identity: RawKeyPair; x25519: RawKeyPair};

/** The user record's keys, as the relay serves them: Ed25519 32, X25519 32, binding signature 64. */
export type PublicIdentity = {identity: Buffer; x25519: Buffer; binding: Buffer};

const bindingLabel = Buffer.from('im-tui/1 x25519 binding');
const loginLabel = Buffer.from('im-tui/4 login');

export function generateIdentity(): IdentityKeys {
	return {identity: generateRawKeyPair('ed25519'), x25519: generateRawKeyPair('x25519')};
}

/** The record to register under the folded `username`, with its binding signature. */
export function publicIdentity(keys: IdentityKeys, username: string): PublicIdentity {
	requireUsername(username);
	const x25519 = Buffer.from(keys.x25519.publicRaw);
	const binding = sign(null, bindingMessage(username, x25519), keys.identity.privateKey);
	return {identity: Buffer.from(keys.identity.publicRaw), x25519, binding};
}

/** Whether `record.binding` is `record.identity`'s signature of `record.x25519` for `username`. */
export function verifyBinding(username: string, record: PublicIdentity): boolean {
	try {
		if (!isValidUsername(username) || typeof record !== 'object' || record === null) return false;
		const {identity, x25519, binding} = record;
		if (!isBytes(identity, 32) || !isBytes(x25519, 32) || !isBytes(binding, 64)) return false;
		if (isWeakEd25519Key(identity) || isWeakX25519Key(x25519)) return false;
		return verify(null, bindingMessage(username, x25519), publicKeyFromRaw('ed25519', identity), binding);
	} catch {
		return false;
	}
}

/** Proves to the relay of `relayIdentity`, on the connection of `transcriptHash`, that we hold `keys`. */
export function loginProof(keys: IdentityKeys, relayIdentity: Buffer, transcriptHash: Buffer, username: string): Buffer {
	requireUsername(username);
	if (!isBytes(relayIdentity, 32)) throw new TypeError('the relay identity is 32 bytes');
	if (!isBytes(transcriptHash, 32)) throw new TypeError('the transcript hash is 32 bytes');
	return sign(null, loginMessage(relayIdentity, transcriptHash, username), keys.identity.privateKey);
}

export function verifyLoginProof(identity: Buffer, proof: Buffer, relayIdentity: Buffer, transcriptHash: Buffer, username: string): boolean {
	try {
		if (!isValidUsername(username) || !isBytes(identity, 32) || !isBytes(proof, 64)) return false;
		if (!isBytes(relayIdentity, 32) || !isBytes(transcriptHash, 32) || isWeakEd25519Key(identity)) return false;
		return verify(null, loginMessage(relayIdentity, transcriptHash, username), publicKeyFromRaw('ed25519', identity), proof);
	} catch {
		return false;
	}
}

/** Whole-record comparison in constant time: all three fields are always compared. */
export function sameIdentity(a: PublicIdentity, b: PublicIdentity): boolean {
	const identity = sameKey(a.identity, b.identity);
	const x25519 = sameKey(a.x25519, b.x25519);
	const binding = sameKey(a.binding, b.binding);
	return identity && x25519 && binding;
}

function bindingMessage(username: string, x25519: Buffer): Buffer {
	return Buffer.concat([bindingLabel, lp(username), x25519]);
}

function loginMessage(relayIdentity: Buffer, transcriptHash: Buffer, username: string): Buffer {
	return Buffer.concat([loginLabel, relayIdentity, transcriptHash, lp(username)]);
}

function requireUsername(username: string): void {
	if (!isValidUsername(username)) {
		throw new TypeError('an identity is bound to a folded, unreserved username (1 to 32 of a-z, 0-9, _ and -)');
	}
}

// Ed25519 points of small order. OpenSSL's verification is cofactorless and accepts such public
// keys, for which signatures can be forged without any secret (for the identity point, one
// signature verifies every message). Listed by y coordinate, with the non-canonical y + p
// encodings where they fit in 255 bits; the sign bit of x is ignored.
const p = 2n ** 255n - 19n;
const order8Y = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;
const smallOrderYs = [0n, 1n, p - 1n, order8Y, p - order8Y, p, p + 1n].map(y => littleEndian32(y));

/** Whether a 32-byte Ed25519 public key is a point of small order, which no honest key is. */
export function isWeakEd25519Key(key: Uint8Array): boolean {
	const y = Buffer.from(key);
	y[31] = y[31]! & 0x7f;
	return smallOrderYs.some(candidate => candidate.equals(y));
}

// X25519 u-coordinates of points of small order, on the curve or its twist (the list libsodium
// checks): 0, 1, the two of order 8, p - 1, and p and p + 1, the non-canonical encodings of 0 and 1.
// X25519 ignores the top bit of u, so it is ignored here too. Every key exchange with such a key
// gives zero; the test holds this list to that.
const smallOrderUs = [
	0n,
	1n,
	325606250916557431795983626356110631294008115727848805560023387167927233504n,
	39382357235489614581723060781553021112529911719440698176882885853963445705823n,
	p - 1n,
	p,
	p + 1n,
].map(u => littleEndian32(u));

/** Whether a 32-byte X25519 public key is of small order: every key exchange with it is all zero. */
export function isWeakX25519Key(key: Uint8Array): boolean {
	const u = Buffer.from(key);
	u[31] = u[31]! & 0x7f;
	return smallOrderUs.some(candidate => candidate.equals(u));
}

function littleEndian32(value: bigint): Buffer {
	const bytes = Buffer.alloc(32);
	let rest = value;
	for (let index = 0; index < 32; index++) {
		bytes[index] = Number(rest & 0xffn);
		rest >>= 8n;
	}
	return bytes;
}
