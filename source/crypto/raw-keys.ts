import {createPrivateKey, createPublicKey, randomBytes, type KeyObject} from 'node:crypto';

/**
 * Raw 32-byte X25519/Ed25519 keys <-> node KeyObjects, through JWK (RFC 8037) rather than DER:
 * on Node 20 with OpenSSL 3 the DER encoder and decoder cost 0.1 to 0.5 ms a key, JWK about 15 µs.
 */
type Curve = 'x25519' | 'ed25519';

const jwkCurve: Record<Curve, string> = {x25519: 'X25519', ed25519: 'Ed25519'};

/** The fixed PKCS#8 header of RFC 8410 before the 32 key bytes. */
const pkcs8Prefix: Record<Curve, Buffer> = {
	x25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
	ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
};
const pkcs8PrefixLength = 16;

export type RawKeyPair = {privateKey: KeyObject; publicKey: KeyObject; publicRaw: Buffer};

export function privateKeyFromRaw(curve: Curve, raw: Uint8Array): KeyObject {
	if (raw.length !== 32) throw new TypeError(`a ${curve} private key is 32 bytes`);
	if (!jwkPrivateImport()) {
		return createPrivateKey({key: Buffer.concat([pkcs8Prefix[curve], raw]), format: 'der', type: 'pkcs8'});
	}
	// Node 20 reads only `d` of a private OKP key; `x` must be a string but is not used: the public
	// key is always derived from `d` (keyPairFromPrivate, and a test holds this to RFC 8032/7748).
	return createPrivateKey({key: {kty: 'OKP', crv: jwkCurve[curve], d: Buffer.from(raw).toString('base64url'), x: ''}, format: 'jwk'});
}

let jwkPrivateWorks: boolean | undefined;

/**
 * Whether this Node takes a private OKP JWK without its public half, and derives the right one
 * (RFC 8032 section 7.1, test 1). Newer versions may check `x` against `d`: then PKCS#8 DER,
 * slower but the same keys.
 */
function jwkPrivateImport(): boolean {
	if (jwkPrivateWorks === undefined) {
		try {
			const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
			const key = createPrivateKey({key: {kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: ''}, format: 'jwk'});
			jwkPrivateWorks = publicRaw(createPublicKey(key)).toString('hex') === 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
		} catch {
			jwkPrivateWorks = false;
		}
	}
	return jwkPrivateWorks;
}

export function publicKeyFromRaw(curve: Curve, raw: Uint8Array): KeyObject {
	if (raw.length !== 32) throw new TypeError(`a ${curve} public key is 32 bytes`);
	return createPublicKey({key: {kty: 'OKP', crv: jwkCurve[curve], x: Buffer.from(raw).toString('base64url')}, format: 'jwk'});
}

export function publicRaw(key: KeyObject): Buffer {
	return Buffer.from(key.export({format: 'jwk'}).x!, 'base64url');
}

/** For saving a key to disk, where its cost does not matter: PKCS#8 DER, as before. */
export function privateRaw(key: KeyObject): Buffer {
	return key.export({format: 'der', type: 'pkcs8'}).subarray(pkcs8PrefixLength);
}

export function keyPairFromPrivate(curve: Curve, raw: Uint8Array): RawKeyPair {
	const privateKey = privateKeyFromRaw(curve, raw);
	const publicKey = createPublicKey(privateKey);
	return {privateKey, publicKey, publicRaw: publicRaw(publicKey)};
}

/**
 * A fresh key pair from 32 random bytes, which is all OpenSSL's own key generation does for these
 * two curves. Not generateKeyPairSync: on Node 20.20.2 a JWK export of a key it made can deadlock
 * when the garbage collector frees the key's generation job during the export (seen here).
 */
export function generateRawKeyPair(curve: Curve): RawKeyPair {
	const secret = randomBytes(32);
	const pair = keyPairFromPrivate(curve, secret);
	secret.fill(0);
	return pair;
}
