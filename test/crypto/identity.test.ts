import {Buffer} from 'node:buffer';
import {createPublicKey, diffieHellman, randomBytes, verify} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {
	generateIdentity,
	isWeakEd25519Key,
	isWeakX25519Key,
	loginProof,
	publicIdentity,
	sameIdentity,
	verifyBinding,
	verifyLoginProof,
	type PublicIdentity,
} from '../../source/crypto/identity.js';
import {lp} from '../../source/crypto/length-prefix.js';
import {generateRawKeyPair, publicKeyFromRaw} from '../../source/crypto/raw-keys.js';

const alice = generateIdentity();
const record = publicIdentity(alice, 'alice');
const relayIdentity = generateRawKeyPair('ed25519').publicRaw;
const hash = randomBytes(32);

function flip(bytes: Buffer, index: number): Buffer {
	const copy = Buffer.from(bytes);
	copy[index]! ^= 1;
	return copy;
}

// Small-order points (see source/crypto/identity.ts), in little-endian hex.
const p = 2n ** 255n - 19n;
const order8Y = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;
function encode(y: bigint, negative = false): Buffer {
	const hex = y.toString(16).padStart(64, '0');
	const bytes = Buffer.from(hex, 'hex').reverse();
	if (negative) bytes[31]! |= 0x80;
	return bytes;
}

describe('identities and bindings (PROTOCOL.md section 9)', () => {
	it('makes fresh Ed25519 and X25519 key pairs', () => {
		const other = generateIdentity();
		expect(alice.identity.publicKey.asymmetricKeyType).toBe('ed25519');
		expect(alice.x25519.publicKey.asymmetricKeyType).toBe('x25519');
		expect(alice.identity.publicRaw).toHaveLength(32);
		expect(other.identity.publicRaw.equals(alice.identity.publicRaw)).toBe(false);
		expect(other.x25519.publicRaw.equals(alice.x25519.publicRaw)).toBe(false);
	});

	it('serves the public halves and a 64-byte binding', () => {
		expect(record.identity.equals(alice.identity.publicRaw)).toBe(true);
		expect(record.x25519.equals(alice.x25519.publicRaw)).toBe(true);
		expect(record.binding).toHaveLength(64);
		expect(verifyBinding('alice', record)).toBe(true);
	});

	it('signs exactly the bytes the spec gives', () => {
		const message = Buffer.concat([Buffer.from('im-tui/1 x25519 binding'), lp('alice'), record.x25519]);
		expect(verify(null, message, alice.identity.publicKey, record.binding)).toBe(true);
	});

	it('fails for another username, x25519 key or identity key, or an altered signature', () => {
		expect(verifyBinding('bob', record)).toBe(false);
		expect(verifyBinding('alice', {...record, x25519: generateRawKeyPair('x25519').publicRaw})).toBe(false);
		expect(verifyBinding('alice', {...record, x25519: flip(record.x25519, 5)})).toBe(false);
		expect(verifyBinding('alice', {...record, identity: generateIdentity().identity.publicRaw})).toBe(false);
		for (const index of [0, 31, 32, 63]) {
			expect(verifyBinding('alice', {...record, binding: flip(record.binding, index)})).toBe(false);
		}
		const other = generateIdentity();
		expect(verifyBinding('alice', {...publicIdentity(other, 'alice'), x25519: record.x25519})).toBe(false);
	});

	it('binds folded, unreserved names only', () => {
		expect(() => publicIdentity(alice, 'Alice')).toThrow(TypeError);
		expect(() => publicIdentity(alice, 'everyone')).toThrow(TypeError);
		expect(() => publicIdentity(alice, '')).toThrow(TypeError);
		expect(verifyBinding('Alice', record)).toBe(false);
	});

	it('never throws on bad input', () => {
		const bad: unknown[] = [
			undefined,
			null,
			'record',
			{},
			{...record, identity: record.identity.subarray(0, 31)},
			{...record, x25519: Buffer.alloc(33)},
			{...record, binding: record.binding.subarray(1)},
			{...record, identity: record.identity.toString('hex')},
			{...record, binding: null},
		];
		for (const value of bad) {
			expect(verifyBinding('alice', value as PublicIdentity)).toBe(false);
		}
		expect(verifyBinding(42 as unknown as string, record)).toBe(false);
		expect(verifyBinding(undefined as unknown as string, record)).toBe(false);
	});

	it('refuses records with small-order keys', () => {
		// With the identity point as public key, (R = identity, S = 0) is a signature of every message.
		const universal = Buffer.concat([encode(1n), Buffer.alloc(32)]);
		const anything = Buffer.from('im-tui/1 x25519 binding anything');
		expect(verify(null, anything, publicKeyFromRaw('ed25519', encode(1n)), universal)).toBe(true);
		expect(verifyBinding('alice', {identity: encode(1n), x25519: record.x25519, binding: universal})).toBe(false);
		expect(verifyLoginProof(encode(1n), universal, relayIdentity, hash, 'alice')).toBe(false);
		// An X25519 key of small order makes every key exchange all zero.
		const weakX = publicIdentity(alice, 'alice');
		weakX.x25519 = Buffer.alloc(32);
		expect(verifyBinding('alice', weakX)).toBe(false);
	});
});

describe('small-order keys', () => {
	const canonical = [
		encode(0n),
		encode(0n, true),
		encode(1n),
		encode(p - 1n),
		encode(order8Y),
		encode(order8Y, true),
		encode(p - order8Y),
		encode(p - order8Y, true),
	];

	it('lists Ed25519 keys for which OpenSSL accepts forged signatures', () => {
		// A signature (R = identity point, S = 0) verifies whenever the hash is a multiple of the
		// key's order: for a key of order 8 or less, about one message in eight or more.
		const signature = Buffer.concat([encode(1n), Buffer.alloc(32)]);
		for (const key of canonical) {
			expect(isWeakEd25519Key(key), key.toString('hex')).toBe(true);
			const publicKey = publicKeyFromRaw('ed25519', key);
			const forged = Array.from({length: 200}, (_, index) => verify(null, Buffer.from(`m${index}`), publicKey, signature));
			expect(forged.some(Boolean), key.toString('hex')).toBe(true);
		}
		for (const key of [encode(1n, true), encode(p - 1n, true), encode(p), encode(p + 1n), encode(p, true)]) {
			expect(isWeakEd25519Key(key)).toBe(true);
		}
	});

	it('never lists real keys, on which that forgery fails', () => {
		for (let index = 0; index < 50; index++) {
			const key = generateRawKeyPair('ed25519').publicRaw;
			expect(isWeakEd25519Key(key)).toBe(false);
		}
		const publicKey = generateRawKeyPair('ed25519').publicKey;
		const signature = Buffer.concat([encode(1n), Buffer.alloc(32)]);
		expect(Array.from({length: 50}, (_, index) => verify(null, Buffer.from(`m${index}`), publicKey, signature)).some(Boolean)).toBe(false);
	});

	it('spots small-order X25519 keys', () => {
		const weak = [
			Buffer.alloc(32),
			encode(1n),
			Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex'),
			Buffer.from('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', 'hex'),
			encode(p - 1n),
			encode(p),
			encode(p + 1n),
		];
		const withTopBit = weak.map(key => Buffer.concat([key.subarray(0, 31), Buffer.from([key[31]! | 0x80])]));
		// The list is a lookup; a real key exchange is the judge: with each listed key it gives no secret.
		const exchangesToZero = (key: Buffer) => {
			try {
				return diffieHellman({privateKey: generateRawKeyPair('x25519').privateKey, publicKey: publicKeyFromRaw('x25519', key)}).every(byte => byte === 0);
			} catch {
				return true; // OpenSSL refuses to derive an all-zero secret
			}
		};
		for (const key of [...weak, ...withTopBit]) {
			expect(isWeakX25519Key(key), key.toString('hex')).toBe(true);
			expect(exchangesToZero(key), key.toString('hex')).toBe(true);
		}
		for (let index = 0; index < 20; index++) {
			const key = generateRawKeyPair('x25519').publicRaw;
			expect(isWeakX25519Key(key)).toBe(false);
			expect(exchangesToZero(key)).toBe(false);
		}
		// Near misses: the encodings next to listed ones are ordinary points.
		for (const key of [encode(2n), encode(p - 2n), encode(p + 2n)]) {
			expect(isWeakX25519Key(key), key.toString('hex')).toBe(false);
			expect(exchangesToZero(key), key.toString('hex')).toBe(false);
		}
	});
});

describe('login proofs', () => {
	const proof = loginProof(alice, relayIdentity, hash, 'alice');

	it('verifies for this relay, connection and name', () => {
		expect(proof).toHaveLength(64);
		expect(verifyLoginProof(record.identity, proof, relayIdentity, hash, 'alice')).toBe(true);
		const message = Buffer.concat([Buffer.from('im-tui/4 login'), relayIdentity, hash, lp('alice')]);
		expect(verify(null, message, createPublicKey(alice.identity.privateKey), proof)).toBe(true);
	});

	it('fails for another transcript hash, relay key, username or identity', () => {
		expect(verifyLoginProof(record.identity, proof, relayIdentity, randomBytes(32), 'alice')).toBe(false);
		expect(verifyLoginProof(record.identity, proof, relayIdentity, flip(hash, 0), 'alice')).toBe(false);
		expect(verifyLoginProof(record.identity, proof, generateRawKeyPair('ed25519').publicRaw, hash, 'alice')).toBe(false);
		expect(verifyLoginProof(record.identity, proof, relayIdentity, hash, 'alicf')).toBe(false);
		expect(verifyLoginProof(generateIdentity().identity.publicRaw, proof, relayIdentity, hash, 'alice')).toBe(false);
		expect(verifyLoginProof(record.identity, flip(proof, 40), relayIdentity, hash, 'alice')).toBe(false);
	});

	it('is not interchangeable with a binding', () => {
		expect(verifyLoginProof(record.identity, record.binding, relayIdentity, hash, 'alice')).toBe(false);
		expect(verifyBinding('alice', {...record, binding: proof})).toBe(false);
	});

	it('returns false, never throws, on bad input', () => {
		const cases: unknown[][] = [
			[record.identity.subarray(1), proof, relayIdentity, hash, 'alice'],
			[record.identity, proof.subarray(1), relayIdentity, hash, 'alice'],
			[record.identity, proof, relayIdentity.subarray(1), hash, 'alice'],
			[record.identity, proof, relayIdentity, Buffer.alloc(31), 'alice'],
			[record.identity, proof, relayIdentity, hash, 'Alice'],
			[null, null, null, null, null],
			['a', 'b', 'c', 'd', 'e'],
		];
		for (const args of cases) {
			expect((verifyLoginProof as (...values: unknown[]) => boolean)(...args)).toBe(false);
		}
	});

	it('refuses to sign with wrong-sized inputs', () => {
		expect(() => loginProof(alice, relayIdentity.subarray(1), hash, 'alice')).toThrow(TypeError);
		expect(() => loginProof(alice, relayIdentity, Buffer.alloc(33), 'alice')).toThrow(TypeError);
		expect(() => loginProof(alice, relayIdentity, hash, 'root')).toThrow(TypeError);
	});
});

describe('sameIdentity', () => {
	it('compares all three fields', () => {
		const copy = {identity: Buffer.from(record.identity), x25519: Buffer.from(record.x25519), binding: Buffer.from(record.binding)};
		expect(sameIdentity(record, copy)).toBe(true);
		expect(sameIdentity(record, {...copy, identity: flip(copy.identity, 31)})).toBe(false);
		expect(sameIdentity(record, {...copy, x25519: flip(copy.x25519, 0)})).toBe(false);
		expect(sameIdentity(record, {...copy, binding: flip(copy.binding, 63)})).toBe(false);
		expect(sameIdentity(record, {...copy, binding: copy.binding.subarray(0, 32)})).toBe(false);
		expect(sameIdentity(record, publicIdentity(generateIdentity(), 'alice'))).toBe(false);
	});
});
