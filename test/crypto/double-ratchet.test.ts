import {Buffer} from 'node:buffer';
import {createHmac, diffieHellman, hkdfSync, randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {
	encodeHeader,
	initRatchetInitiator,
	initRatchetResponder,
	kdfChain,
	kdfRoot,
	parseHeader,
	parseRatchet,
	ratchetEncrypt,
	serialiseRatchet,
	type RatchetHeader,
} from '../../source/crypto/double-ratchet.js';
import {generateRawKeyPair, privateRaw} from '../../source/crypto/raw-keys.js';
import {failure, started} from './ratchet-kit.js';

const baseKey = randomBytes(32);
const dh = randomBytes(32);

describe('the ratchet KDFs', () => {
	it('KDF_RK is HKDF-SHA256(dh out, salt root key, "im-tui/3 ratchet", 64)', () => {
		const rootKey = randomBytes(32);
		const dhOut = randomBytes(32);
		const expected = Buffer.from(hkdfSync('sha256', dhOut, rootKey, 'im-tui/3 ratchet', 64));
		const derived = kdfRoot(rootKey, dhOut);
		expect(Buffer.concat([derived.rootKey, derived.chainKey]).toString('hex')).toBe(expected.toString('hex'));
	});

	it('KDF_CK is HMAC-SHA256(ck, 0x01) for the message key, (ck, 0x02) for the next chain key', () => {
		const chainKey = randomBytes(32);
		const derived = kdfChain(chainKey);
		expect(derived.messageKey.equals(createHmac('sha256', chainKey).update(Buffer.from([1])).digest())).toBe(true);
		expect(derived.chainKey.equals(createHmac('sha256', chainKey).update(Buffer.from([2])).digest())).toBe(true);
	});
});

describe('starting a ratchet', () => {
	it('gives Alice a sending chain from DH(DHs, the signed prekey) and Bob only the root key', () => {
		const secret = randomBytes(32);
		const signed = generateRawKeyPair('x25519');
		const pair = generateRawKeyPair('x25519');
		const alice = initRatchetInitiator({sharedSecret: secret, remote: signed.publicRaw, dhPair: pair});
		const dhOut = diffieHellman({privateKey: pair.privateKey, publicKey: signed.publicKey});
		const expected = kdfRoot(secret, dhOut);
		expect(alice.rootKey.equals(expected.rootKey)).toBe(true);
		expect(alice.sendChain!.equals(expected.chainKey)).toBe(true);
		expect(alice.dhSecret.equals(privateRaw(pair.privateKey))).toBe(true);
		expect(alice.dhPublic.equals(pair.publicRaw)).toBe(true);
		expect(alice.dhRemote!.equals(signed.publicRaw)).toBe(true);
		expect([alice.recvChain, alice.sendN, alice.recvN, alice.previousN, alice.previousRemotes]).toEqual([null, 0, 0, 0, []]);
		const bob = initRatchetResponder({sharedSecret: secret, signedPrekey: signed});
		expect(bob.dhSecret.equals(privateRaw(signed.privateKey))).toBe(true);
		expect(bob.rootKey.equals(secret)).toBe(true);
		expect([bob.dhRemote, bob.sendChain, bob.recvChain]).toEqual([null, null, null]);
		expect(() => ratchetEncrypt(bob)).toThrow(TypeError);
	});

	it('refuses a small-order remote key', () => {
		expect(failure(() => initRatchetInitiator({sharedSecret: randomBytes(32), remote: Buffer.alloc(32)})).code).toBe('key_exchange');
	});

	it('never changes the state it is given', () => {
		const secret = randomBytes(32);
		const alice = initRatchetInitiator({sharedSecret: secret, remote: generateRawKeyPair('x25519').publicRaw});
		const before = JSON.stringify(serialiseRatchet(alice));
		const next = ratchetEncrypt(alice);
		expect(JSON.stringify(serialiseRatchet(alice))).toBe(before);
		expect(next.n).toBe(0);
		expect(next.state.sendN).toBe(1);
		expect(ratchetEncrypt(alice).messageKey.equals(next.messageKey)).toBe(true);
	});
});

describe('ratchet headers', () => {
	const forms: Array<[RatchetHeader, number, number]> = [
		[{baseKey, dh, previousN: 0, n: 0}, 74, 0],
		[{baseKey, dh, previousN: 0xff_ff_ff_ff, n: 5, prekey: {signedId: 7}}, 78, 1],
		[{baseKey, dh, previousN: 3, n: 0xff_ff_ff_ff, prekey: {signedId: 0, oneTimeId: 0xff_ff_ff_ff}}, 82, 3],
	];

	it('encode and parse the three forms', () => {
		for (const [header, length, flags] of forms) {
			const bytes = encodeHeader(header);
			expect(bytes).toHaveLength(length);
			expect([bytes[0], bytes[1]]).toEqual([3, flags]);
			expect(bytes.subarray(2, 34).equals(baseKey)).toBe(true);
			expect(bytes.subarray(34, 66).equals(dh)).toBe(true);
			expect(bytes.readUInt32BE(66)).toBe(header.previousN);
			expect(bytes.readUInt32BE(70)).toBe(header.n);
			expect(parseHeader(bytes)).toEqual(header);
			expect(parseHeader(new Uint8Array(bytes))).toEqual(header);
		}
	});

	it('parse refuses any other version, flags or length', () => {
		const [plain, signed, oneTime] = forms.map(([header]) => encodeHeader(header)) as [Buffer, Buffer, Buffer];
		const bad: Buffer[] = [
			Buffer.alloc(0),
			Buffer.from([3]),
			plain.subarray(0, 73),
			Buffer.concat([plain, Buffer.alloc(4)]),
			signed.subarray(0, 74),
			Buffer.concat([signed, Buffer.alloc(4)]),
			oneTime.subarray(0, 78),
			Buffer.concat([oneTime, Buffer.alloc(1)]),
		];
		for (const [bytes, index, value] of [
			[plain, 0, 2],
			[plain, 0, 0x83],
			[plain, 1, 2],
			[oneTime, 1, 2],
			[oneTime, 1, 7],
			[signed, 1, 0x81],
			[plain, 1, 0x80],
		] as const) {
			const copy = Buffer.from(bytes);
			copy[index] = value;
			bad.push(copy);
		}
		for (const bytes of bad) {
			const error = failure(() => parseHeader(bytes));
			expect(error.code).toBe('malformed');
		}
		expect(failure(() => parseHeader('x'.repeat(74) as unknown as Buffer)).code).toBe('malformed');
	});

	it('encode refuses malformed fields', () => {
		for (const header of [
			{baseKey: dh.subarray(1), dh, previousN: 0, n: 0},
			{baseKey, dh, previousN: -1, n: 0},
			{baseKey, dh, previousN: 0, n: 2 ** 32},
			{baseKey, dh, previousN: 0, n: 0, prekey: {signedId: 1.5}},
			{baseKey, dh, previousN: 0, n: 0, prekey: {signedId: 1, oneTimeId: -3}},
		]) {
			expect(() => encodeHeader(header)).toThrow(TypeError);
		}
	});
});

describe('serialising a ratchet state', () => {
	it('round-trips through JSON text, and the parsed state goes on working', () => {
		const {alice, bob} = started();
		bob.receive(alice.send('one'));
		alice.receive(bob.send('two'));
		for (const peer of [alice, bob]) {
			const json = serialiseRatchet(peer.state);
			for (const value of Object.values(json)) expect(typeof value === 'number' || typeof value === 'string' || Array.isArray(value)).toBe(true);
			const parsed = parseRatchet(JSON.parse(JSON.stringify(json)));
			expect(parsed).toEqual(peer.state);
			peer.state = parsed;
		}
		expect(bob.receive(alice.send('three'))).toBe('three');
		expect(alice.receive(bob.send('four'))).toBe('four');
		expect(alice.state.previousRemotes).toHaveLength(2);
		expect(parseRatchet(serialiseRatchet(alice.state))).toEqual(alice.state);
	});

	it('keeps nulls as nulls', () => {
		const bob = initRatchetResponder({sharedSecret: randomBytes(32), signedPrekey: generateRawKeyPair('x25519')});
		const json = serialiseRatchet(bob);
		expect([json.dhRemote, json.sendChain, json.recvChain, json.previousRemotes]).toEqual([null, null, null, []]);
		expect(parseRatchet(json)).toEqual(bob);
	});

	it('refuses anything malformed with a TypeError', () => {
		const {alice, bob} = started();
		alice.receive(bob.send('reply'));
		const good = serialiseRatchet(alice.state);
		const key = good.rootKey;
		const bad: unknown[] = [
			null,
			'state',
			[good],
			{...good, extra: 1},
			{...good, dhSecret: undefined},
			Object.fromEntries(Object.entries(good).filter(([name]) => name !== 'previousN')),
			{...good, dhSecret: null},
			{...good, rootKey: key.slice(0, -1)},
			{...good, rootKey: `${key}=`},
			{...good, rootKey: `${key.slice(0, -1)}+`},
			{...good, rootKey: key + 'AAAA'},
			{...good, rootKey: Buffer.from(key, 'base64url')},
			{...good, sendChain: 0},
			{...good, sendN: -1},
			{...good, sendN: 1.5},
			{...good, sendN: '1'},
			{...good, recvN: 2 ** 32},
			{...good, previousN: Number.NaN},
			{...good, previousRemotes: key},
			{...good, previousRemotes: [key, 5]},
			{...good, previousRemotes: Array.from({length: 17}, () => key)},
			{...good, dhRemote: null},
			{...good, recvChain: null, recvN: 3},
			{...good, sendChain: null, sendN: 2},
		];
		for (const json of bad) expect(() => parseRatchet(json), JSON.stringify(json)).toThrow(TypeError);
		expect(() => parseRatchet({...good, previousRemotes: Array.from({length: 16}, () => key)})).not.toThrow();
	});
});
