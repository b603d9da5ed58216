import {Buffer} from 'node:buffer';
import {sign, verify} from 'node:crypto';
import {isWeakEd25519Key, isWeakX25519Key} from './identity.js';
import {lp} from './length-prefix.js';
import {isValidUsername} from './username-rule.js';
import {publicKeyFromRaw, type RawKeyPair} from './raw-keys.js';

// TEMPORARY (branch relay14): a stand-in for the crypto branch's prekeys.ts, to the design's
// section 1, so the relay can verify signed prekeys until that branch lands; dropped at merge.

const signedPrekeyLabel = Buffer.from('im-tui/3 signed prekey');

function isPrekeyId(id: unknown): id is number {
	return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 0xff_ff_ff_ff;
}

function isBytes(value: unknown, length: number): value is Uint8Array {
	return value instanceof Uint8Array && value.byteLength === length;
}

function signedMessage(username: string, id: number, publicKey: Uint8Array): Buffer {
	const idBytes = Buffer.alloc(4);
	idBytes.writeUInt32BE(id, 0);
	return Buffer.concat([signedPrekeyLabel, lp(username), idBytes, publicKey]);
}

/** The identity's signature of a signed prekey: Ed25519 over the label, lp(username), u32be(id) and the X25519 public key. */
export function signPrekey(identity: RawKeyPair, username: string, id: number, publicKey: Buffer): Buffer {
	if (!isValidUsername(username)) throw new TypeError('a prekey is signed for a folded, unreserved username');
	if (!isPrekeyId(id)) throw new TypeError('a prekey id is an integer from 0 to 2^32 - 1');
	if (!isBytes(publicKey, 32)) throw new TypeError('a prekey is 32 bytes');
	return sign(null, signedMessage(username, id, publicKey), identity.privateKey);
}

/** Whether `signature` is `identity`'s signature of this prekey; false on any malformed input or small-order key. */
export function verifyPrekey(identity: Buffer, username: string, id: number, publicKey: Buffer, signature: Buffer): boolean {
	try {
		if (!isValidUsername(username) || !isPrekeyId(id)) return false;
		if (!isBytes(identity, 32) || !isBytes(publicKey, 32) || !isBytes(signature, 64)) return false;
		if (isWeakEd25519Key(identity) || isWeakX25519Key(publicKey)) return false;
		return verify(null, signedMessage(username, id, publicKey), publicKeyFromRaw('ed25519', identity), signature);
	} catch {
		return false;
	}
}
