import {Buffer} from 'node:buffer';
import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {fromBase64UrlPadded, toBase64UrlPadded} from '../../source/crypto/base64url.js';
import {Fernet} from '../../source/crypto/fernet.js';
import {lp, u32be} from '../../source/crypto/length-prefix.js';
import {chainStep, epochKeys} from '../../source/crypto/room-epoch.js';
import {openRoomMessage, RoomMessageError, roomSignedBytes, sealRoomMessage, verifyRoomMessage} from '../../source/crypto/room-message.js';
import {user} from './room-kit.js';

const alice = user('alice');
const bob = user('bob');
const epoch = randomBytes(32);
const {chains} = epochKeys(randomBytes(32), epoch, 'team', [alice.record, bob.record].map(({username, identity}) => ({username, identity})));
const {messageKey} = chainStep(chains.get('alice')!);
const plaintext = Buffer.from(JSON.stringify({v: 1, type: 'text', text: 'hello room', sent: 1}));
const fields = {room: 'team', epoch, sender: 'alice', n: 0, id: 'm1'};
const sealed = sealRoomMessage({...fields, messageKey, plaintext, identityPrivate: alice.keys.identity.privateKey});
const message = {...fields, body: sealed.body, signature: sealed.signature};

function flipped(bytes: Buffer): Buffer {
	const copy = Buffer.from(bytes);
	copy[copy.length - 1]! ^= 1;
	return copy;
}

function unreadable(run: () => unknown): string | undefined {
	try {
		run();
	} catch (error) {
		expect(error).toBeInstanceOf(RoomMessageError);
		return (error as RoomMessageError).code;
	}
	return undefined;
}

describe('room messages (design section 3)', () => {
	it('seal, verify and open round-trip', () => {
		expect(verifyRoomMessage(message, alice.record.identity)).toBe(true);
		expect(openRoomMessage({...message, messageKey})).toEqual(plaintext);
	});

	it('signs the bytes the design gives, and the body is a Fernet token under the derived key', () => {
		const expected = Buffer.concat([lp('im-tui/4 room message', 'team'), epoch, lp('alice'), u32be(0), lp('m1'), Buffer.from(sealed.body, 'ascii')]);
		expect(roomSignedBytes(message)).toEqual(expected);
		expect(() => new Fernet(messageKey).decrypt(sealed.body)).toThrow();
	});

	it('fails verification for any altered field or a flipped bit', () => {
		const body = fromBase64UrlPadded(sealed.body);
		const altered = [
			{...message, body: toBase64UrlPadded(flipped(body))},
			{...message, epoch: flipped(epoch)},
			{...message, n: 1},
			{...message, id: 'm2'},
			{...message, sender: 'bob'},
			{...message, room: 'team2'},
			{...message, signature: flipped(sealed.signature)},
		];
		for (const bad of altered) expect(verifyRoomMessage(bad, alice.record.identity)).toBe(false);
	});

	it('a member cannot forge another: a signature under the wrong identity fails', () => {
		const forged = sealRoomMessage({...fields, messageKey, plaintext, identityPrivate: bob.keys.identity.privateKey});
		expect(verifyRoomMessage({...fields, ...forged}, alice.record.identity)).toBe(false);
		expect(verifyRoomMessage(message, bob.record.identity)).toBe(false);
	});

	it('refuses to open under another key or with other context: unreadable', () => {
		expect(unreadable(() => openRoomMessage({...message, messageKey: chainStep(chains.get('bob')!).messageKey}))).toBe('unreadable');
		expect(unreadable(() => openRoomMessage({...message, n: 1, messageKey}))).toBe('unreadable');
		expect(unreadable(() => openRoomMessage({...message, id: 'm2', messageKey}))).toBe('unreadable');
		expect(unreadable(() => openRoomMessage({...message, epoch: randomBytes(32), messageKey}))).toBe('unreadable');
		expect(unreadable(() => openRoomMessage({...message, body: 'not a token', messageKey}))).toBe('unreadable');
		expect(unreadable(() => openRoomMessage({...message, messageKey: randomBytes(16)}))).toBe('unreadable');
		expect(unreadable(() => openRoomMessage({...message, sender: 'Alice', messageKey}))).toBe('unreadable');
	});

	it('verification returns false, never throws, for malformed fields or keys', () => {
		const bad = [
			{...message, epoch: randomBytes(31)},
			{...message, n: -1},
			{...message, n: 2 ** 32},
			{...message, id: 'a b'},
			{...message, sender: 'everyone'},
			{...message, room: 'everyone'},
			{...message, body: 7 as unknown as string},
			{...message, body: 'x'.repeat(65_536)},
			{...message, signature: sealed.signature.subarray(1)},
		];
		for (const item of bad) expect(verifyRoomMessage(item, alice.record.identity)).toBe(false);
		expect(verifyRoomMessage({...message, body: `${message.body}\u0100`}, alice.record.identity)).toBe(false);
		for (const key of [Buffer.alloc(32, 0xff), Buffer.alloc(31), Buffer.concat([Buffer.from([1]), Buffer.alloc(31)])]) {
			expect(verifyRoomMessage(message, key)).toBe(false);
		}
	});

	it('signs the longest text a room takes (8,192 characters that each need a JSON escape) and refuses a body past the wire limit', () => {
		const escaped = Buffer.from(JSON.stringify({v: 1, type: 'text', text: '\u0001'.repeat(8192), sent: 0}));
		const sealed = sealRoomMessage({...fields, messageKey, plaintext: escaped, identityPrivate: alice.keys.identity.privateKey});
		expect(verifyRoomMessage({...fields, ...sealed}, alice.record.identity)).toBe(true);
		const long = Buffer.alloc(74_000, 0x61);
		expect(() => sealRoomMessage({...fields, messageKey, plaintext: long, identityPrivate: alice.keys.identity.privateKey})).toThrow(RangeError);
	});
});
