import {Buffer} from 'node:buffer';
import {sign, verify} from 'node:crypto';
import {isWeakEd25519Key, isWeakX25519Key} from './identity.js';
import {lp, u32be} from './length-prefix.js';
import {generateRawKeyPair, publicKeyFromRaw, type RawKeyPair} from './raw-keys.js';
import {isValidUsername} from './username-rule.js';
import {isBytes, isPrivateKey} from './x25519.js';

/** Prekeys for X3DH (design of issue 14, section 1). Secrets: never log or send them. */
export type SignedPrekey = {id: number; keyPair: RawKeyPair; signature: Buffer};
export type OneTimePrekey = {id: number; keyPair: RawKeyPair};

const signedPrekeyLabel = Buffer.from('im-tui/3 signed prekey');

/** Whether `value` is a prekey id: an integer from 0 to 2^32 - 1. */
export function isPrekeyId(value: unknown): value is number {
	return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xff_ff_ff_ff;
}

/** Ed25519(identity secret, "im-tui/3 signed prekey" || lp(username) || u32be(id) || publicKey). */
export function signPrekey(identity: RawKeyPair, username: string, id: number, publicKey: Buffer): Buffer {
	if (!isValidUsername(username)) throw new TypeError('a prekey is signed for a folded, unreserved username');
	if (!isPrekeyId(id)) throw new TypeError('a prekey id is an integer from 0 to 2^32 - 1');
	if (!isBytes(publicKey, 32) || isWeakX25519Key(publicKey)) throw new TypeError('a prekey is a 32-byte X25519 key of large order');
	const secret: unknown = identity?.privateKey;
	if (!isPrivateKey(secret, 'ed25519')) throw new TypeError('a prekey is signed with an Ed25519 identity key');
	return sign(null, signedMessage(username, id, publicKey), secret);
}

/** False on any malformed input, a weak identity or prekey, or a signature that does not verify. */
export function verifyPrekey(identity: Buffer, username: string, id: number, publicKey: Buffer, signature: Buffer): boolean {
	try {
		if (typeof username !== 'string' || !isValidUsername(username) || !isPrekeyId(id)) return false;
		if (!isBytes(identity, 32) || !isBytes(publicKey, 32) || !isBytes(signature, 64)) return false;
		if (isWeakEd25519Key(identity) || isWeakX25519Key(publicKey)) return false;
		return verify(null, signedMessage(username, id, publicKey), publicKeyFromRaw('ed25519', identity), signature);
	} catch {
		return false;
	}
}

export function generateSignedPrekey(identity: RawKeyPair, username: string, id: number): SignedPrekey {
	const keyPair = generateRawKeyPair('x25519');
	return {id, keyPair, signature: signPrekey(identity, username, id, keyPair.publicRaw)};
}

/** `count` one-time prekeys with the ids firstId, firstId + 1, ... */
export function generateOneTimePrekeys(firstId: number, count: number): OneTimePrekey[] {
	if (!Number.isInteger(count) || count < 0 || !isPrekeyId(firstId) || (count > 0 && !isPrekeyId(firstId + count - 1))) {
		throw new TypeError('one-time prekey ids are integers from 0 to 2^32 - 1');
	}
	return Array.from({length: count}, (_, index) => ({id: firstId + index, keyPair: generateRawKeyPair('x25519')}));
}

function signedMessage(username: string, id: number, publicKey: Buffer): Buffer {
	return Buffer.concat([signedPrekeyLabel, lp(username), u32be(id), publicKey]);
}
