import {Buffer} from 'node:buffer';
import {diffieHellman, hkdfSync, type KeyObject} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {lp} from '../../source/crypto/length-prefix.js';
import {generateOneTimePrekeys, generateSignedPrekey, signPrekey} from '../../source/crypto/prekeys.js';
import {generateRawKeyPair, publicKeyFromRaw} from '../../source/crypto/raw-keys.js';
import {x3dhInitiate, x3dhRespond, X3dhError, type X3dhInitiateOptions} from '../../source/crypto/x3dh.js';
import {user} from './ratchet-kit.js';

const alice = user('alice');
const bob = user('bob');
const carol = user('carol');
const signed = generateSignedPrekey(bob.keys.identity, 'bob', 7);
const oneTime = generateOneTimePrekeys(41, 1)[0]!;
const bundle = {id: 7, key: signed.keyPair.publicRaw, signature: signed.signature};

// Small-order X25519 public keys: all zero, u = 1, and two points of order 8.
const smallOrder = [
	Buffer.alloc(32),
	Buffer.from('0100000000000000000000000000000000000000000000000000000000000000', 'hex'),
	Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex'),
	Buffer.from('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', 'hex'),
];

function initiate(changes: Partial<X3dhInitiateOptions> = {}) {
	return x3dhInitiate({initiator: alice.withSecret, responder: bob.party, signed: bundle, ...changes});
}

function respond(baseKey: Buffer, withOneTime: boolean): Buffer {
	return x3dhRespond({
		responder: bob.withSecret,
		initiator: alice.party,
		signed: {id: 7, secret: signed.keyPair.privateKey},
		oneTime: withOneTime ? {id: 41, secret: oneTime.keyPair.privateKey} : undefined,
		baseKey,
	});
}

function x3dhError(action: () => unknown): X3dhError {
	try {
		action();
	} catch (error) {
		expect(error).toBeInstanceOf(X3dhError);
		return error as X3dhError;
	}
	throw new Error('expected an X3dhError, nothing was thrown');
}

function dh(secret: KeyObject, publicKey: Buffer): Buffer {
	return diffieHellman({privateKey: secret, publicKey: publicKeyFromRaw('x25519', publicKey)});
}

describe('X3DH (design of issue 14, section 2)', () => {
	it('gives both sides the same secret with a one-time prekey', () => {
		const started = initiate({oneTime: {id: 41, key: oneTime.keyPair.publicRaw}});
		expect(started.sharedSecret).toHaveLength(32);
		expect(started.baseKey).toHaveLength(32);
		expect(respond(started.baseKey, true).equals(started.sharedSecret)).toBe(true);
		expect(respond(started.baseKey, false).equals(started.sharedSecret)).toBe(false);
	});

	it('gives both sides the same secret without one', () => {
		const started = initiate();
		expect(respond(started.baseKey, false).equals(started.sharedSecret)).toBe(true);
		expect(respond(started.baseKey, true).equals(started.sharedSecret)).toBe(false);
	});

	it('uses a fresh base key every time', () => {
		const first = initiate();
		const second = initiate();
		expect(first.baseKey.equals(second.baseKey)).toBe(false);
		expect(first.sharedSecret.equals(second.sharedSecret)).toBe(false);
	});

	it('derives the secret exactly as the design writes it', () => {
		const base = generateRawKeyPair('x25519');
		for (const withOneTime of [false, true]) {
			const started = initiate({baseKey: base, oneTime: withOneTime ? {id: 41, key: oneTime.keyPair.publicRaw} : undefined});
			expect(started.baseKey.equals(base.publicRaw)).toBe(true);
			const dhs = [
				dh(alice.keys.x25519.privateKey, signed.keyPair.publicRaw),
				dh(base.privateKey, bob.party.x25519),
				dh(base.privateKey, signed.keyPair.publicRaw),
				...(withOneTime ? [dh(base.privateKey, oneTime.keyPair.publicRaw)] : []),
			];
			const ids = withOneTime ? [Buffer.from([0, 0, 0, 7]), Buffer.from([0, 0, 0, 41])] : [Buffer.from([0, 0, 0, 7])];
			const info = lp('im-tui/3 x3dh', 'alice', alice.party.identity, alice.party.x25519, 'bob', bob.party.identity, bob.party.x25519, ...ids);
			const expected = Buffer.from(hkdfSync('sha256', Buffer.concat([Buffer.alloc(32, 0xff), ...dhs]), Buffer.alloc(32), info, 32));
			expect(started.sharedSecret.toString('hex')).toBe(expected.toString('hex'));
		}
	});

	it('binds both names: another pinned name gives another secret', () => {
		const started = initiate();
		const renamed = x3dhRespond({
			responder: bob.withSecret,
			initiator: {...alice.party, name: 'alicia'},
			signed: {id: 7, secret: signed.keyPair.privateKey},
			baseKey: started.baseKey,
		});
		expect(renamed.equals(started.sharedSecret)).toBe(false);
	});

	it('refuses a prekey not signed by the pinned identity, for this name and id', () => {
		const byCarol = signPrekey(carol.keys.identity, 'bob', 7, signed.keyPair.publicRaw);
		const forCarol = signPrekey(bob.keys.identity, 'carol', 7, signed.keyPair.publicRaw);
		const flipped = Buffer.from(signed.signature);
		flipped[5]! ^= 1;
		for (const changes of [
			{signed: {...bundle, signature: byCarol}},
			{signed: {...bundle, signature: forCarol}},
			{signed: {...bundle, signature: flipped}},
			{signed: {...bundle, id: 8}},
			{signed: {...bundle, key: generateRawKeyPair('x25519').publicRaw}},
			{signed: {...bundle, signature: flipped.subarray(1)}},
			{responder: {...bob.party, identity: carol.party.identity}},
		]) {
			expect(x3dhError(() => initiate(changes)).code).toBe('bad_signature');
		}
	});

	it('refuses small-order keys', () => {
		for (const weak of smallOrder) {
			// A signed small-order prekey fails verifyPrekey before any exchange.
			const signature = Buffer.alloc(64);
			expect(x3dhError(() => initiate({signed: {id: 7, key: weak, signature}})).code).toBe('bad_signature');
			expect(x3dhError(() => initiate({oneTime: {id: 41, key: weak}})).code).toBe('key_exchange');
			expect(x3dhError(() => initiate({responder: {...bob.party, x25519: weak}, signed: bundle})).code).toBe('key_exchange');
			expect(x3dhError(() => respond(weak, false)).code).toBe('key_exchange');
			expect(x3dhError(() => respond(weak, true)).code).toBe('key_exchange');
			const fromWeak = () =>
				x3dhRespond({responder: bob.withSecret, initiator: {...alice.party, x25519: weak}, signed: {id: 7, secret: signed.keyPair.privateKey}, baseKey: generateRawKeyPair('x25519').publicRaw});
			expect(x3dhError(fromWeak).code).toBe('key_exchange');
		}
	});

	it('throws a TypeError for malformed arguments', () => {
		expect(() => initiate({initiator: {...alice.withSecret, x25519Secret: bob.keys.x25519.privateKey}})).toThrow(TypeError);
		expect(() => initiate({initiator: {...alice.withSecret, name: 'Alice'}})).toThrow(TypeError);
		expect(() => initiate({responder: {...bob.party, x25519: Buffer.alloc(31)}})).toThrow(TypeError);
		expect(() => initiate({oneTime: {id: -1, key: oneTime.keyPair.publicRaw}})).toThrow(TypeError);
		expect(() => initiate({baseKey: alice.keys.identity})).toThrow(TypeError);
		expect(() => respond(Buffer.alloc(31, 9), false)).toThrow(TypeError);
		const withEd25519 = () =>
			x3dhRespond({responder: bob.withSecret, initiator: alice.party, signed: {id: 7, secret: bob.keys.identity.privateKey}, baseKey: initiate().baseKey});
		expect(withEd25519).toThrow(TypeError);
	});
});
