import {Buffer} from 'node:buffer';
import {createPublicKey, hkdfSync, type KeyObject} from 'node:crypto';
import {partyProblem, secretProblem, type Party} from './envelope.js';
import {lp, u32be} from './length-prefix.js';
import {isPrekeyId, verifyPrekey} from './prekeys.js';
import {generateRawKeyPair, publicKeyFromRaw, publicRaw, type RawKeyPair} from './raw-keys.js';
import {isBytes, isPrivateKey, x25519} from './x25519.js';

/**
 * Signal's X3DH with the long-term X25519 key as IK (design of issue 14, section 2). Pure: no I/O,
 * no logging.
 * - `bad_signature`: the signed prekey is not signed by the responder's pinned identity;
 * - `key_exchange`: a key exchange failed or gave all zeros (a small-order key).
 */
export type X3dhErrorCode = 'bad_signature' | 'key_exchange';

export class X3dhError extends Error {
	override readonly name = 'X3dhError';

	constructor(
		message: string,
		readonly code: X3dhErrorCode,
	) {
		super(message);
	}
}

export type X3dhInitiateOptions = {
	initiator: Party & {x25519Secret: KeyObject};
	/** As pinned by the initiator, never keys taken from the bundle. */
	responder: Party;
	signed: {id: number; key: Buffer; signature: Buffer};
	oneTime?: {id: number; key: Buffer};
	/** EK_A; only the worked example and tests pass one. */
	baseKey?: RawKeyPair;
};

export type X3dhRespondOptions = {
	responder: Party & {x25519Secret: KeyObject};
	/** As pinned by the responder. */
	initiator: Party;
	signed: {id: number; secret: KeyObject};
	oneTime?: {id: number; secret: KeyObject};
	/** EK_A public, from the message header. */
	baseKey: Buffer;
};

const x3dhLabel = 'im-tui/3 x3dh';
const ikmPrefix = Buffer.alloc(32, 0xff);
const salt = Buffer.alloc(32);

export function x3dhInitiate(options: X3dhInitiateOptions): {sharedSecret: Buffer; baseKey: Buffer} {
	const {initiator, responder, signed, oneTime} = options;
	const problem = partyProblem(initiator, 'initiator') ?? partyProblem(responder, 'responder') ?? secretProblem(initiator, 'initiator');
	if (problem !== undefined) throw new TypeError(`cannot start X3DH: ${problem}`);
	if (typeof signed !== 'object' || signed === null) throw new TypeError('cannot start X3DH: no signed prekey');
	if (!verifyPrekey(responder.identity, responder.name, signed.id, signed.key, signed.signature)) {
		throw new X3dhError(`the signed prekey of ${responder.name} is not signed by their pinned identity`, 'bad_signature');
	}
	if (oneTime !== undefined && (!isPrekeyId(oneTime.id) || !isBytes(oneTime.key, 32))) {
		throw new TypeError('cannot start X3DH: a one-time prekey is an id and 32 bytes');
	}
	const base = options.baseKey ?? generateRawKeyPair('x25519');
	if (!isPrivateKey(base.privateKey, 'x25519')) throw new TypeError('cannot start X3DH: the base key is not an X25519 key pair');
	// An injected pair's public half is derived again rather than trusted.
	const basePublic = options.baseKey === undefined ? Buffer.from(base.publicRaw) : publicRaw(createPublicKey(base.privateKey));
	const signedKey = publicKeyFromRaw('x25519', signed.key);
	const secrets = [
		exchange(initiator.x25519Secret, signedKey, 'the signed prekey'),
		exchange(base.privateKey, publicKeyFromRaw('x25519', responder.x25519), "the responder's key"),
		exchange(base.privateKey, signedKey, 'the signed prekey'),
	];
	if (oneTime !== undefined) secrets.push(exchange(base.privateKey, publicKeyFromRaw('x25519', oneTime.key), 'the one-time prekey'));
	const sharedSecret = derive(secrets, initiator, responder, signed.id, oneTime?.id);
	return {sharedSecret, baseKey: basePublic};
}

export function x3dhRespond(options: X3dhRespondOptions): Buffer {
	const {responder, initiator, signed, oneTime, baseKey} = options;
	const problem = partyProblem(responder, 'responder') ?? partyProblem(initiator, 'initiator') ?? secretProblem(responder, 'responder');
	if (problem !== undefined) throw new TypeError(`cannot answer X3DH: ${problem}`);
	for (const prekey of oneTime === undefined ? [signed] : [signed, oneTime]) {
		if (typeof prekey !== 'object' || prekey === null || !isPrekeyId(prekey.id) || !isPrivateKey(prekey.secret, 'x25519')) {
			throw new TypeError('cannot answer X3DH: a prekey is an id and an X25519 private key');
		}
	}
	if (!isBytes(baseKey, 32)) throw new TypeError('cannot answer X3DH: the base key is 32 bytes');
	const base = publicKeyFromRaw('x25519', baseKey);
	const secrets = [
		exchange(signed.secret, publicKeyFromRaw('x25519', initiator.x25519), "the initiator's key"),
		exchange(responder.x25519Secret, base, 'the base key'),
		exchange(signed.secret, base, 'the base key'),
	];
	if (oneTime !== undefined) secrets.push(exchange(oneTime.secret, base, 'the base key'));
	return derive(secrets, initiator, responder, signed.id, oneTime?.id);
}

function derive(secrets: Buffer[], initiator: Party, responder: Party, signedId: number, oneTimeId: number | undefined): Buffer {
	const ikm = Buffer.concat([ikmPrefix, ...secrets]);
	for (const secret of secrets) secret.fill(0);
	const ids = oneTimeId === undefined ? [u32be(signedId)] : [u32be(signedId), u32be(oneTimeId)];
	const info = lp(x3dhLabel, initiator.name, initiator.identity, initiator.x25519, responder.name, responder.identity, responder.x25519, ...ids);
	const sharedSecret = Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
	ikm.fill(0);
	return sharedSecret;
}

function exchange(privateKey: KeyObject, publicKey: KeyObject, what: string): Buffer {
	const shared = x25519(privateKey, publicKey);
	if (shared === undefined) throw new X3dhError(`the key exchange with ${what} failed or gave all zeros (a small-order key)`, 'key_exchange');
	return shared;
}
