import {Buffer} from 'node:buffer';
import {diffieHellman, sign, verify} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {generateRawKeyPair, keyPairFromPrivate, privateRaw, publicKeyFromRaw} from '../../source/crypto/raw-keys.js';

const hex = (text: string) => Buffer.from(text, 'hex');

describe('raw keys through JWK', () => {
	it('derives the Ed25519 public key of RFC 8032 section 7.1, test 1, and signs as it says', () => {
		const pair = keyPairFromPrivate('ed25519', hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'));
		expect(pair.publicRaw.toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
		expect(sign(null, Buffer.alloc(0), pair.privateKey).toString('hex')).toBe(
			'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
		);
	});

	it('derives the X25519 public keys of RFC 7748 section 6.1 and their shared secret', () => {
		const alice = keyPairFromPrivate('x25519', hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
		const bob = keyPairFromPrivate('x25519', hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'));
		expect(alice.publicRaw.toString('hex')).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
		expect(bob.publicRaw.toString('hex')).toBe('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
		const shared = diffieHellman({privateKey: alice.privateKey, publicKey: publicKeyFromRaw('x25519', bob.publicRaw)});
		expect(shared.toString('hex')).toBe('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
	});

	it('gives back the private bytes it was made from', () => {
		const secret = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
		expect(privateRaw(keyPairFromPrivate('ed25519', secret).privateKey)).toEqual(secret);
	});

	it('makes fresh pairs that agree with themselves and differ from each other', () => {
		const a = generateRawKeyPair('x25519');
		const b = generateRawKeyPair('x25519');
		expect(a.publicRaw).not.toEqual(b.publicRaw);
		expect(diffieHellman({privateKey: a.privateKey, publicKey: b.publicKey})).toEqual(
			diffieHellman({privateKey: b.privateKey, publicKey: publicKeyFromRaw('x25519', a.publicRaw)}),
		);
		const identity = generateRawKeyPair('ed25519');
		const signature = sign(null, Buffer.from('hello'), identity.privateKey);
		expect(verify(null, Buffer.from('hello'), publicKeyFromRaw('ed25519', identity.publicRaw), signature)).toBe(true);
	});

	it('rejects keys that are not 32 bytes', () => {
		expect(() => keyPairFromPrivate('x25519', new Uint8Array(31))).toThrow('a x25519 private key is 32 bytes');
		expect(() => publicKeyFromRaw('ed25519', new Uint8Array(33))).toThrow('a ed25519 public key is 32 bytes');
	});
});
