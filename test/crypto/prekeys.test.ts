import {Buffer} from 'node:buffer';
import {sign, verify} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {generateIdentity} from '../../source/crypto/identity.js';
import {lp} from '../../source/crypto/length-prefix.js';
import {generateOneTimePrekeys, generateSignedPrekey, isPrekeyId, signPrekey, verifyPrekey} from '../../source/crypto/prekeys.js';
import {generateRawKeyPair, publicKeyFromRaw} from '../../source/crypto/raw-keys.js';

const bob = generateIdentity();
const identity = bob.identity.publicRaw;
const prekey = generateRawKeyPair('x25519').publicRaw;
const signature = signPrekey(bob.identity, 'bob', 7, prekey);

function flip(bytes: Buffer, index: number): Buffer {
	const copy = Buffer.from(bytes);
	copy[index]! ^= 1;
	return copy;
}

describe('signed prekeys', () => {
	it('signs exactly "im-tui/3 signed prekey" || lp(username) || u32be(id) || key', () => {
		expect(signature).toHaveLength(64);
		const message = Buffer.concat([Buffer.from('im-tui/3 signed prekey'), lp('bob'), Buffer.from([0, 0, 0, 7]), prekey]);
		expect(verify(null, message, publicKeyFromRaw('ed25519', identity), signature)).toBe(true);
		expect(verifyPrekey(identity, 'bob', 7, prekey, signature)).toBe(true);
	});

	it('takes the whole id range', () => {
		for (const id of [0, 0xff_ff_ff_ff]) {
			expect(verifyPrekey(identity, 'bob', id, prekey, signPrekey(bob.identity, 'bob', id, prekey))).toBe(true);
		}
	});

	it('refuses another name, id, key, identity or signature', () => {
		expect(verifyPrekey(identity, 'bobby', 7, prekey, signature)).toBe(false);
		expect(verifyPrekey(identity, 'bob', 8, prekey, signature)).toBe(false);
		expect(verifyPrekey(identity, 'bob', 7 + 2 ** 32, prekey, signature)).toBe(false);
		expect(verifyPrekey(identity, 'bob', 7, flip(prekey, 0), signature)).toBe(false);
		expect(verifyPrekey(generateIdentity().identity.publicRaw, 'bob', 7, prekey, signature)).toBe(false);
		for (const index of [0, 31, 32, 63]) expect(verifyPrekey(identity, 'bob', 7, prekey, flip(signature, index))).toBe(false);
	});

	it('is false, never a throw, on malformed input', () => {
		const bad: Array<Parameters<typeof verifyPrekey>> = [
			[identity.subarray(0, 31), 'bob', 7, prekey, signature],
			[identity, 'bob', 7, prekey.subarray(1), signature],
			[identity, 'bob', 7, prekey, signature.subarray(1)],
			[identity, 'Bob', 7, prekey, signature],
			[identity, 'everyone', 7, prekey, signature],
			[identity, 'bob', -1, prekey, signature],
			[identity, 'bob', 7.5, prekey, signature],
			[identity, 'bob', Number.NaN, prekey, signature],
			[null as unknown as Buffer, 'bob', 7, prekey, signature],
			[identity, 7 as unknown as string, 7, prekey, signature],
			[identity, 'bob', '7' as unknown as number, prekey, signature],
			[identity, 'bob', 7, 'key' as unknown as Buffer, signature],
		];
		for (const args of bad) expect(verifyPrekey(...args)).toBe(false);
	});

	it('refuses weak identities and weak prekeys', () => {
		const zero = Buffer.alloc(32);
		const one = Buffer.from('01'.padEnd(64, '0'), 'hex');
		// signPrekey refuses small-order keys, so these genuine signatures are made by hand.
		for (const weak of [zero, one]) {
			const genuine = sign(null, Buffer.concat([Buffer.from('im-tui/3 signed prekey'), lp('bob'), Buffer.from([0, 0, 0, 7]), weak]), bob.identity.privateKey);
			expect(verifyPrekey(identity, 'bob', 7, weak, genuine)).toBe(false);
		}
		expect(() => signPrekey(bob.identity, 'bob', 7, zero)).toThrow(TypeError);
		// The Ed25519 identity point verifies some signatures of every message under cofactorless checks.
		const identityPoint = Buffer.from('01'.padEnd(64, '0'), 'hex');
		expect(verifyPrekey(identityPoint, 'bob', 7, prekey, Buffer.concat([identityPoint, Buffer.alloc(32)]))).toBe(false);
	});

	it('signs only well-formed prekeys, with an Ed25519 key', () => {
		expect(() => signPrekey(bob.identity, 'Bob', 7, prekey)).toThrow(TypeError);
		expect(() => signPrekey(bob.identity, 'bob', -1, prekey)).toThrow(TypeError);
		expect(() => signPrekey(bob.identity, 'bob', 2 ** 32, prekey)).toThrow(TypeError);
		expect(() => signPrekey(bob.identity, 'bob', 7, prekey.subarray(1))).toThrow(TypeError);
		expect(() => signPrekey(bob.x25519, 'bob', 7, prekey)).toThrow(TypeError);
	});

	it('generates signed and one-time prekeys with their ids', () => {
		const signed = generateSignedPrekey(bob.identity, 'bob', 3);
		expect(signed.id).toBe(3);
		expect(verifyPrekey(identity, 'bob', 3, signed.keyPair.publicRaw, signed.signature)).toBe(true);
		const oneTime = generateOneTimePrekeys(0xff_ff_ff_fd, 3);
		expect(oneTime.map(key => key.id)).toEqual([0xff_ff_ff_fd, 0xff_ff_ff_fe, 0xff_ff_ff_ff]);
		expect(new Set(oneTime.map(key => key.keyPair.publicRaw.toString('hex'))).size).toBe(3);
		expect(() => generateOneTimePrekeys(0xff_ff_ff_fe, 3)).toThrow(TypeError);
		expect(generateOneTimePrekeys(5, 0)).toEqual([]);
		expect(isPrekeyId(0)).toBe(true);
		expect(isPrekeyId(2 ** 32)).toBe(false);
	});
});
