import {Buffer} from 'node:buffer';
import {diffieHellman, KeyObject, timingSafeEqual} from 'node:crypto';

/**
 * X25519(privateKey, publicKey), or undefined when the exchange fails or gives all zeros: OpenSSL
 * refuses to derive an all-zero secret, so a small-order key usually fails, and the zero check
 * covers a library that does not refuse.
 */
export function x25519(privateKey: KeyObject, publicKey: KeyObject): Buffer | undefined {
	let shared: Buffer;
	try {
		shared = diffieHellman({privateKey, publicKey});
	} catch {
		return undefined;
	}
	let bits = 0;
	for (const byte of shared) bits |= byte;
	return bits === 0 ? undefined : shared;
}

/** Constant-time equality of two keys; lengths are public and fixed by the protocol. */
export function sameKey(a: Uint8Array, b: Uint8Array): boolean {
	return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

export function isBytes(value: unknown, length: number): value is Buffer {
	return value instanceof Uint8Array && value.byteLength === length;
}

export function isPrivateKey(value: unknown, curve: 'x25519' | 'ed25519'): value is KeyObject {
	return value instanceof KeyObject && value.type === 'private' && value.asymmetricKeyType === curve;
}

/**
 * A copy in memory of its own: small Buffer.from copies are slices of Node's shared 8 KiB pool,
 * and a key kept in a long-lived state would keep its whole pool block alive.
 */
export function ownedCopy(bytes: Uint8Array): Buffer {
	const copy = Buffer.alloc(bytes.byteLength);
	copy.set(bytes);
	return copy;
}
