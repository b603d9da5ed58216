import {Buffer} from 'node:buffer';
import {diffieHellman, hkdfSync} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {fromBase64UrlPadded, toBase64UrlPadded} from '../../source/crypto/base64url.js';
import {openEnvelope, sealEnvelope, type EnvelopeKind, type Party} from '../../source/crypto/envelope.js';
import {Fernet} from '../../source/crypto/fernet.js';
import {generateIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import {lp} from '../../source/crypto/length-prefix.js';
import {generateRawKeyPair, keyPairFromPrivate, publicKeyFromRaw} from '../../source/crypto/raw-keys.js';
import {failure} from './ratchet-kit.js';

type User = {keys: IdentityKeys; party: Party; withSecret: Party & {x25519Secret: IdentityKeys['x25519']['privateKey']}};

function user(name: string): User {
	const keys = generateIdentity();
	const party = {name, identity: keys.identity.publicRaw, x25519: keys.x25519.publicRaw};
	return {keys, party, withSecret: {...party, x25519Secret: keys.x25519.privateKey}};
}

const alice = user('alice');
const bob = user('bob');
const carol = user('carol');

function seal(payload: string | Uint8Array = 'hello bob', kind: EnvelopeKind = 'direct', id = 'msg-1') {
	return {id, kind, ...sealEnvelope({sender: alice.withSecret, recipient: bob.party, id, kind, payload})};
}

type Sealed = ReturnType<typeof seal>;

function open(sealed: Sealed, changes: Partial<Parameters<typeof openEnvelope>[0]> = {}): Buffer {
	return openEnvelope({recipient: bob.withSecret, sender: alice.party, ...sealed, ...changes});
}

function alterBody(body: string, index: number): string {
	const bytes = fromBase64UrlPadded(body);
	bytes[index]! ^= 0x01;
	return toBase64UrlPadded(bytes);
}

// Small-order X25519 public keys: all zero, u = 1, and two points of order 8.
const smallOrder = [
	Buffer.alloc(32),
	Buffer.from('0100000000000000000000000000000000000000000000000000000000000000', 'hex'),
	Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex'),
	Buffer.from('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', 'hex'),
];

describe('sealing and opening envelopes (PROTOCOL.md section 10)', () => {
	it('round-trips text, bytes and nothing, direct and to everyone', () => {
		expect(open(seal()).toString()).toBe('hello bob');
		const bytes = Buffer.from(Array.from({length: 256}, (_, index) => index));
		expect(open(seal(bytes, 'everyone'))).toEqual(bytes);
		expect(open(seal(''))).toEqual(Buffer.alloc(0));
		expect(open(seal('x'.repeat(20_000), 'direct', 'A'.repeat(64))).toString()).toBe('x'.repeat(20_000));
	});

	it('uses a fresh ephemeral key and IV for every envelope', () => {
		const first = seal();
		const second = seal();
		expect(first.ephemeral).toHaveLength(32);
		expect(first.ephemeral.equals(second.ephemeral)).toBe(false);
		expect(first.body).not.toBe(second.body);
	});

	it('derives the key exactly as the spec writes it', () => {
		const ephemeral = generateRawKeyPair('x25519');
		const iv = Buffer.alloc(16, 0x41);
		const sealed = sealEnvelope({sender: alice.withSecret, recipient: bob.party, id: 'abc', kind: 'everyone', payload: 'p', ephemeral, iv, timeSeconds: 1_767_225_601});
		const dh1 = diffieHellman({privateKey: ephemeral.privateKey, publicKey: publicKeyFromRaw('x25519', bob.party.x25519)});
		const dh2 = diffieHellman({privateKey: alice.keys.x25519.privateKey, publicKey: publicKeyFromRaw('x25519', bob.party.x25519)});
		const info = Buffer.concat([
			lp('im-tui/1 message'),
			lp('alice'),
			lp('bob'),
			lp(alice.party.identity),
			lp(alice.party.x25519),
			lp(bob.party.identity),
			lp(bob.party.x25519),
			lp(ephemeral.publicRaw),
			lp('abc'),
			lp('everyone'),
		]);
		const key = Buffer.from(hkdfSync('sha256', Buffer.concat([dh1, dh2]), Buffer.alloc(0), info, 32));
		expect(sealed.ephemeral.equals(ephemeral.publicRaw)).toBe(true);
		expect(sealed.body).toBe(new Fernet(key).encrypt('p', {iv, timeSeconds: 1_767_225_601}));
		// An empty salt is HKDF's default salt of 32 zero bytes, as Python's salt=None.
		expect(Buffer.from(hkdfSync('sha256', Buffer.concat([dh1, dh2]), Buffer.alloc(32), info, 32))).toEqual(key);
	});

	it('is deterministic given the ephemeral key, IV and time (for the worked example)', () => {
		const ephemeral = keyPairFromPrivate('x25519', Buffer.alloc(32, 7));
		const options = {sender: alice.withSecret, recipient: bob.party, id: 'm', kind: 'direct' as const, payload: 'x', ephemeral, iv: Buffer.alloc(16), timeSeconds: 0};
		expect(sealEnvelope(options)).toEqual(sealEnvelope(options));
	});

	it('ignores the Fernet timestamp: old and future tokens open', () => {
		for (const timeSeconds of [0, 4_102_444_800]) {
			const sealed = sealEnvelope({sender: alice.withSecret, recipient: bob.party, id: 'm', kind: 'direct', payload: 't', timeSeconds});
			expect(open({id: 'm', kind: 'direct', ...sealed}).toString()).toBe('t');
		}
	});
});

describe('every tampering fails to open', () => {
	const sealed = seal();

	it.each<[string, Partial<Parameters<typeof openEnvelope>[0]>]>([
		['another sender name (relabelled from)', {sender: {...alice.party, name: 'carol'}}],
		['another sender: carol with her keys', {sender: carol.party}],
		["another sender's identity key", {sender: {...alice.party, identity: carol.party.identity}}],
		["another sender's x25519 key", {sender: {...alice.party, x25519: carol.party.x25519}}],
		['another recipient name with the same keys (redirected to)', {recipient: {...bob.withSecret, name: 'carol'}}],
		["another recipient's identity in the pin", {recipient: {...bob.withSecret, identity: carol.party.identity}}],
		['another kind', {kind: 'everyone'}],
		['another id', {id: 'msg-2'}],
		['another ephemeral key', {ephemeral: generateRawKeyPair('x25519').publicRaw}],
		['the ephemeral with its unused top bit set', {ephemeral: Buffer.from([...sealed.ephemeral.subarray(0, 31), sealed.ephemeral[31]! ^ 0x80])}],
		['reflected: delivered to the sender as if from the recipient', {recipient: alice.withSecret, sender: bob.party}],
	])('%s', (_, changes) => {
		const error = failure(() => open(sealed, changes));
		expect(error.code).toBe('authentication');
		expect(error.message).not.toContain('hello');
	});

	it("another recipient's keys cannot open it", () => {
		expect(failure(() => open(sealed, {recipient: carol.withSecret})).code).toBe('authentication');
		expect(failure(() => open(sealed, {recipient: {...carol.withSecret, name: 'bob'}})).code).toBe('authentication');
	});

	it('any altered body byte', () => {
		const length = fromBase64UrlPadded(sealed.body).length;
		for (let index = 0; index < length; index++) {
			const error = failure(() => open(sealed, {body: alterBody(sealed.body, index)}));
			expect(error.code, `byte ${index}`).toBe('authentication');
		}
	});

	it('a truncated, extended or garbage body', () => {
		for (const body of [sealed.body.slice(0, -4), sealed.body + 'AAAA', '', 'not a token', 'gAAAAA==']) {
			expect(failure(() => open(sealed, {body})).code).toBe('authentication');
		}
	});
});

describe('bad keys and malformed input', () => {
	const sealed = seal();

	it('rejects small-order ephemeral keys and sender pins before any decryption', () => {
		for (const key of smallOrder) {
			expect(failure(() => open(sealed, {ephemeral: key})).code).toBe('key_exchange');
			expect(failure(() => open(sealed, {sender: {...alice.party, x25519: key}})).code).toBe('key_exchange');
		}
	});

	it('refuses to seal to a small-order recipient key', () => {
		for (const key of smallOrder) {
			const error = failure(() => sealEnvelope({sender: alice.withSecret, recipient: {...bob.party, x25519: key}, id: 'm', kind: 'direct', payload: 'x'}));
			expect(error.code).toBe('key_exchange');
		}
	});

	it.each<[string, Record<string, unknown>]>([
		['an id with a bad character', {id: 'a+b'}],
		['an empty id', {id: ''}],
		['a 65-character id', {id: 'a'.repeat(65)}],
		['an unknown kind', {kind: 'broadcast'}],
		['an unfolded sender name', {sender: {...alice.party, name: 'Alice'}}],
		['a reserved recipient name', {recipient: {...bob.withSecret, name: 'everyone'}}],
		['a 31-byte ephemeral', {ephemeral: Buffer.alloc(31, 9)}],
		['an ephemeral that is a string', {ephemeral: 'AAAA'}],
		['a body that is not a string', {body: Buffer.from('x')}],
		['a 33-byte sender identity', {sender: {...alice.party, identity: Buffer.alloc(33)}}],
		['no sender', {sender: null}],
		["a recipient secret that is not the recipient's", {recipient: {...bob.withSecret, x25519Secret: carol.keys.x25519.privateKey}}],
		['a recipient secret of the wrong curve', {recipient: {...bob.withSecret, x25519Secret: bob.keys.identity.privateKey}}],
		['a recipient secret that is a public key', {recipient: {...bob.withSecret, x25519Secret: bob.keys.x25519.publicKey}}],
		['a recipient secret that is not a key', {recipient: {...bob.withSecret, x25519Secret: 'secret'}}],
	])('%s is an EnvelopeError', (_, changes) => {
		expect(failure(() => open(sealed, changes as never)).code).toBe('malformed');
	});

	it('refuses to seal with a sender secret that does not match, or a bad id or kind', () => {
		const base = {sender: alice.withSecret, recipient: bob.party, id: 'm', kind: 'direct' as const, payload: 'x'};
		expect(() => sealEnvelope({...base, sender: {...alice.withSecret, x25519Secret: carol.keys.x25519.privateKey}})).toThrow(TypeError);
		expect(() => sealEnvelope({...base, id: 'm m'})).toThrow(TypeError);
		expect(() => sealEnvelope({...base, kind: 'all' as EnvelopeKind})).toThrow(TypeError);
		expect(() => sealEnvelope({...base, recipient: {...bob.party, name: 'B'}})).toThrow(TypeError);
	});
});
