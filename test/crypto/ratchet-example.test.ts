import {Buffer} from 'node:buffer';
import {createHmac, diffieHellman, hkdfSync} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {initRatchetInitiator, initRatchetResponder, parseHeader} from '../../source/crypto/double-ratchet.js';
import {Fernet} from '../../source/crypto/fernet.js';
import {lp} from '../../source/crypto/length-prefix.js';
import {signPrekey} from '../../source/crypto/prekeys.js';
import {openRatchet, sealRatchet} from '../../source/crypto/ratchet-envelope.js';
import {keyPairFromPrivate} from '../../source/crypto/raw-keys.js';
import {x3dhInitiate, x3dhRespond} from '../../source/crypto/x3dh.js';
import {user} from './ratchet-kit.js';

// The worked example for PROTOCOL.md: every key is injected, each private key 32 bytes of one value.
const seed = (byte: number) => Buffer.alloc(32, byte);
const alice = user('alice', {identity: keyPairFromPrivate('ed25519', seed(1)), x25519: keyPairFromPrivate('x25519', seed(2))});
const bob = user('bob', {identity: keyPairFromPrivate('ed25519', seed(3)), x25519: keyPairFromPrivate('x25519', seed(4))});
const signedPrekey = keyPairFromPrivate('x25519', seed(5));
const oneTimePrekey = keyPairFromPrivate('x25519', seed(6));
const baseKeyPair = keyPairFromPrivate('x25519', seed(7));
const aliceRatchet = keyPairFromPrivate('x25519', seed(8));
const bobRatchet = keyPairFromPrivate('x25519', seed(9));
const iv = Buffer.alloc(16, 0x41);
const timeSeconds = 1_767_225_600;

function run() {
	const signature = signPrekey(bob.keys.identity, 'bob', 7, signedPrekey.publicRaw);
	const started = x3dhInitiate({
		initiator: alice.withSecret,
		responder: bob.party,
		signed: {id: 7, key: signedPrekey.publicRaw, signature},
		oneTime: {id: 41, key: oneTimePrekey.publicRaw},
		baseKey: baseKeyPair,
	});
	const aliceState = initRatchetInitiator({sharedSecret: started.sharedSecret, remote: signedPrekey.publicRaw, dhPair: aliceRatchet});
	const first = sealRatchet({
		state: aliceState,
		sender: alice.party,
		recipient: bob.party,
		baseKey: started.baseKey,
		prekey: {signedId: 7, oneTimeId: 41},
		id: 'msg-1',
		kind: 'direct',
		payload: 'hello bob',
		iv,
		timeSeconds,
	});
	const bobSecret = x3dhRespond({
		responder: bob.withSecret,
		initiator: alice.party,
		signed: {id: 7, secret: signedPrekey.privateKey},
		oneTime: {id: 41, secret: oneTimePrekey.privateKey},
		baseKey: parseHeader(first.header).baseKey,
	});
	const bobState = initRatchetResponder({sharedSecret: bobSecret, signedPrekey});
	const opened = openRatchet({
		state: bobState,
		sender: alice.party,
		recipient: bob.party,
		header: first.header,
		id: 'msg-1',
		kind: 'direct',
		body: first.body,
		skipped: () => undefined,
		nextDhPair: bobRatchet,
	});
	const reply = sealRatchet({state: opened.state, sender: bob.party, recipient: alice.party, baseKey: started.baseKey, id: 'msg-2', kind: 'direct', payload: 'hello alice', iv, timeSeconds});
	return {signature, started, bobSecret, first, opened, reply};
}

const expected = {
	signature: '069521e0f8918bbce603c457c933ca293e6343abbeaf42435f5dabff36acbe3138b8c964d6aaa25c4bcb3689d36ba0786a34f98e376e81bcde25c1288374e907',
	baseKey: '13be4feaeaf204c7fd3358fc9c00721881d174278128227ec674f37f7fe97b6d',
	sharedSecret: '65d7566811eaa420f2be91aed30b09ea64abd02bf9ac8c12adb9133c8a6e7b42',
	header: 'AwMTvk_q6vIEx_0zWPycAHIYgdF0J4EoIn7GdPN_f-l7bTHUq2rO7JYRN5FwN5NuYHFvrFc6_pTZ2oSoAgRI38ESAAAAAAAAAAAAAAAHAAAAKQ',
	body: 'gAAAAABpVbkAQUFBQUFBQUFBQUFBQUFBQdpDTJGbqke1gZ8WNqW8KHVRyJMMPbhDtZkQ42FX_i1imm82hfgjeskwBMYd70lxhA==',
	replyHeader: 'AwATvk_q6vIEx_0zWPycAHIYgdF0J4EoIn7GdPN_f-l7bVfbSzWfI65eFG5OJRIFZwRyJQY0jBUMFHU9DJM9BNQhAAAAAAAAAAA',
	replyBody: 'gAAAAABpVbkAQUFBQUFBQUFBQUFBQUFBQcsLse781LWJnyPdklzz-kkk1MrqlepI7IntoYOgDVvV-YQHpUK0knwsDT98de9ifg==',
};

const hkdf = (ikm: Buffer, salt: Buffer, info: Buffer | string, length: number) => Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
const hmac = (key: Buffer, byte: number) => createHmac('sha256', key).update(Buffer.from([byte])).digest();
const u32 = (value: number) => Buffer.from([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);

describe('the worked example (injected keys, IV and time)', () => {
	it('gives the recorded signature, secret, headers and bodies', () => {
		const {signature, started, bobSecret, first, opened, reply} = run();
		expect(signature.toString('hex')).toBe(expected.signature);
		expect(started.baseKey.toString('hex')).toBe(expected.baseKey);
		expect(started.sharedSecret.toString('hex')).toBe(expected.sharedSecret);
		expect(bobSecret.toString('hex')).toBe(expected.sharedSecret);
		expect(toBase64Url(first.header)).toBe(expected.header);
		expect(first.body).toBe(expected.body);
		expect(opened.payload.toString()).toBe('hello bob');
		expect(toBase64Url(reply.header)).toBe(expected.replyHeader);
		expect(reply.body).toBe(expected.replyBody);
		expect(expected.header).toHaveLength(110);
		expect(expected.replyHeader).toHaveLength(99);
	});

	it('follows the design step by step from the primitives', () => {
		const {started, first, reply} = run();
		const sk = started.sharedSecret;
		const info = (from: typeof alice, to: typeof alice, header: Buffer, id: string) =>
			lp('im-tui/3 message', from.name, to.name, from.party.identity, from.party.x25519, to.party.identity, to.party.x25519, header, id, 'direct');
		const open = (key: Buffer, body: string) => new Fernet(key).decrypt(body).toString();
		const seal = (key: Buffer, payload: string) => new Fernet(key).encrypt(payload, {iv, timeSeconds});

		// Alice: (RK, CKs) = KDF_RK(SK, DH(DHs, SPK_B)); mk = HMAC(CKs, 0x01).
		const aliceDh = diffieHellman({privateKey: aliceRatchet.privateKey, publicKey: signedPrekey.publicKey});
		const aliceRoot = hkdf(aliceDh, sk, 'im-tui/3 ratchet', 64);
		const header = Buffer.concat([Buffer.from([3, 3]), baseKeyPair.publicRaw, aliceRatchet.publicRaw, u32(0), u32(0), u32(7), u32(41)]);
		expect(first.header.equals(header)).toBe(true);
		const key = hkdf(hmac(aliceRoot.subarray(32), 0x01), Buffer.alloc(0), info(alice, bob, header, 'msg-1'), 32);
		expect(open(key, first.body)).toBe('hello bob');
		expect(seal(key, 'hello bob')).toBe(expected.body);

		// Bob: (RK, CKr) = KDF_RK(SK, DH(SPK_B, DHr)); (RK, CKs) = KDF_RK(RK, DH(new DHs, DHr)).
		const received = hkdf(diffieHellman({privateKey: signedPrekey.privateKey, publicKey: aliceRatchet.publicKey}), sk, 'im-tui/3 ratchet', 64);
		const sending = hkdf(diffieHellman({privateKey: bobRatchet.privateKey, publicKey: aliceRatchet.publicKey}), received.subarray(0, 32), 'im-tui/3 ratchet', 64);
		const replyHeader = Buffer.concat([Buffer.from([3, 0]), baseKeyPair.publicRaw, bobRatchet.publicRaw, u32(0), u32(0)]);
		expect(reply.header.equals(replyHeader)).toBe(true);
		const replyKey = hkdf(hmac(sending.subarray(32), 0x01), Buffer.alloc(0), info(bob, alice, replyHeader, 'msg-2'), 32);
		expect(seal(replyKey, 'hello alice')).toBe(expected.replyBody);
	});
});
