import {Buffer} from 'node:buffer';
import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {signAccept, signInvite, verifyAccept, verifyInvite} from '../../source/crypto/room-log.js';
import {user} from './room-kit.js';

const alice = user('alice');
const bob = user('bob');

describe('invite and accept signatures', () => {
	const nonce = randomBytes(16);
	const invite = {room: 'team', inviter: 'alice', invitee: 'bob', nonce};
	const signature = signInvite(invite, alice.keys.identity.privateKey);
	const acceptance = {room: 'team', member: 'bob', nonce};
	const accept = signAccept(acceptance, bob.keys.identity.privateKey);

	it('verify under the signer only, for exactly what was signed', () => {
		expect(verifyInvite({...invite, signature}, alice.record.identity)).toBe(true);
		expect(verifyInvite({...invite, signature}, bob.record.identity)).toBe(false);
		expect(verifyInvite({...invite, room: 'team2', signature}, alice.record.identity)).toBe(false);
		expect(verifyInvite({...invite, invitee: 'carol', signature}, alice.record.identity)).toBe(false);
		expect(verifyInvite({...invite, inviter: 'bob', signature}, alice.record.identity)).toBe(false);
		expect(verifyInvite({...invite, nonce: randomBytes(16), signature}, alice.record.identity)).toBe(false);
		expect(verifyAccept({...acceptance, accept}, bob.record.identity)).toBe(true);
		expect(verifyAccept({...acceptance, accept}, alice.record.identity)).toBe(false);
		expect(verifyAccept({...acceptance, member: 'bobby', accept}, bob.record.identity)).toBe(false);
		expect(verifyAccept({...acceptance, nonce: randomBytes(16), accept}, bob.record.identity)).toBe(false);
	});

	it('an invite signature is not an acceptance, nor the other way round', () => {
		const asAccept = signAccept({room: 'team', member: 'alice', nonce}, alice.keys.identity.privateKey);
		expect(verifyInvite({...invite, signature: asAccept}, alice.record.identity)).toBe(false);
		expect(verifyAccept({room: 'team', member: 'alice', nonce, accept: signature}, alice.record.identity)).toBe(false);
	});

	it('returns false, never throws, for malformed keys, signatures and fields', () => {
		const weak = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]);
		for (const key of [weak, Buffer.alloc(32, 0xff), Buffer.alloc(31), 'key' as unknown as Buffer, undefined as unknown as Buffer]) {
			expect(verifyInvite({...invite, signature}, key)).toBe(false);
			expect(verifyAccept({...acceptance, accept}, key)).toBe(false);
		}
		expect(verifyInvite({...invite, signature: signature.subarray(1)}, alice.record.identity)).toBe(false);
		expect(verifyInvite({...invite, nonce: nonce.subarray(1), signature}, alice.record.identity)).toBe(false);
		expect(verifyInvite({...invite, room: 'everyone', signature}, alice.record.identity)).toBe(false);
		expect(verifyAccept({...acceptance, member: 'system', accept}, bob.record.identity)).toBe(false);
		expect(verifyAccept(null as never, bob.record.identity)).toBe(false);
		expect(() => signInvite({...invite, nonce: randomBytes(8)}, alice.keys.identity.privateKey)).toThrow(TypeError);
		expect(() => signAccept(acceptance, alice.keys.x25519.privateKey)).toThrow(TypeError);
	});
});
