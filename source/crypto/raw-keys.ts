import {createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject} from 'node:crypto';

/**
 * Raw 32-byte X25519/Ed25519 keys <-> node KeyObjects. node:crypto has no raw import: private keys
 * get the fixed PKCS#8 prefix of RFC 8410, public keys go in as JWK (RFC 8037).
 */
type Curve = 'x25519' | 'ed25519';

const pkcs8Prefix: Record<Curve, Buffer> = {
	x25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
	ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
};

const jwkCurve: Record<Curve, string> = {x25519: 'X25519', ed25519: 'Ed25519'};

export type RawKeyPair = {privateKey: KeyObject; publicKey: KeyObject; publicRaw: Buffer};

export function privateKeyFromRaw(curve: Curve, raw: Uint8Array): KeyObject {
	if (raw.length !== 32) throw new TypeError(`a ${curve} private key is 32 bytes`);
	return createPrivateKey({key: Buffer.concat([pkcs8Prefix[curve], raw]), format: 'der', type: 'pkcs8'});
}

export function publicKeyFromRaw(curve: Curve, raw: Uint8Array): KeyObject {
	if (raw.length !== 32) throw new TypeError(`a ${curve} public key is 32 bytes`);
	// Imported as JWK: on Node 20 with OpenSSL 3 a DER import costs about ten times as much (175 µs).
	return createPublicKey({key: {kty: 'OKP', crv: jwkCurve[curve], x: Buffer.from(raw).toString('base64url')}, format: 'jwk'});
}

export function publicRaw(key: KeyObject): Buffer {
	return key.export({format: 'der', type: 'spki'}).subarray(12);
}

export function privateRaw(key: KeyObject): Buffer {
	return key.export({format: 'der', type: 'pkcs8'}).subarray(16);
}

export function keyPairFromPrivate(curve: Curve, raw: Uint8Array): RawKeyPair {
	const privateKey = privateKeyFromRaw(curve, raw);
	const publicKey = createPublicKey(privateKey);
	return {privateKey, publicKey, publicRaw: publicRaw(publicKey)};
}

export function generateRawKeyPair(curve: Curve): RawKeyPair {
	const {privateKey, publicKey} = generateKeyPairSync(curve as 'x25519');
	return {privateKey, publicKey, publicRaw: publicRaw(publicKey)};
}
