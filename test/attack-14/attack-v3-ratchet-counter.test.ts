import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {
	initRatchetInitiator,
	initRatchetResponder,
	parseRatchet,
	ratchetDecrypt,
	ratchetEncrypt,
	serialiseRatchet,
} from '../../source/crypto/double-ratchet.js';
import {EnvelopeError} from '../../source/crypto/envelope.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';

// The sender's ratchetEncrypt stops at n = 2^32 - 2, but the receiver took any header n within
// maxSkip of its recvN, including 2^32 - 1, which leaves recvN = 2^32: parseRatchet (counters are
// prekey ids, 0..2^32 - 1) then refuses the stored state, and session-store reports the session
// with that contact as damaged on every later use (a throw that blocks the inbound queue). A
// contact reaches it with ~4.3 million envelopes each skipping 1,000 keys: half a day at 100 a second.
describe('attack v3: a ratchet header with n = 2^32 - 1', () => {
	it('is refused, so the receiving state always stores and parses again', () => {
		const sharedSecret = randomBytes(32);
		const signed = generateRawKeyPair('x25519');
		const alice = initRatchetInitiator({sharedSecret, remote: signed.publicRaw});
		let bob = initRatchetResponder({sharedSecret, signedPrekey: signed});
		const first = ratchetEncrypt(alice);
		const opened = ratchetDecrypt(bob, {baseKey: Buffer.alloc(32, 1), dh: first.dh, previousN: 0, n: 0}, () => undefined);
		// the state after ~4.3 million messages from alice
		bob = {...opened.state, recvN: 0xff_ff_ff_ff - 10};
		expect(parseRatchet(serialiseRatchet(bob)).recvN).toBe(0xff_ff_ff_ff - 10);
		let next: ReturnType<typeof ratchetDecrypt> | undefined;
		try {
			next = ratchetDecrypt(bob, {baseKey: Buffer.alloc(32, 1), dh: first.dh, previousN: 0, n: 0xff_ff_ff_ff}, () => undefined);
		} catch (error) {
			expect(error).toBeInstanceOf(EnvelopeError);
			return;
		}
		expect(() => parseRatchet(serialiseRatchet(next!.state))).not.toThrow();
	});
});
