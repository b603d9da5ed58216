import {Buffer} from 'node:buffer';
import {createCipheriv, createDecipheriv, createHmac, randomBytes} from 'node:crypto';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {CbcStream, maxLiveContexts} from '../../source/crypto/cbc-stream.js';
import {Fernet} from '../../source/crypto/fernet.js';

/** A stream's memory as its owner would lay it out: the key, then the zeroed chaining block. */
function stream(key: Buffer, direction: 'encrypt' | 'decrypt'): CbcStream {
	const memory = Buffer.alloc(32);
	memory.set(key);
	return new CbcStream(memory, 0, 16, direction);
}

function oneShot(direction: 'encrypt' | 'decrypt', key: Buffer, iv: Buffer, blocks: Buffer): Buffer {
	const context = direction === 'encrypt' ? createCipheriv('aes-128-cbc', key, iv) : createDecipheriv('aes-128-cbc', key, iv);
	context.setAutoPadding(false);
	return Buffer.concat([context.update(blocks), context.final()]);
}

const message = fc
	.tuple(fc.uint8Array({minLength: 16, maxLength: 16}), fc.integer({min: 1, max: 20}))
	.chain(([iv, blocks]) => fc.tuple(fc.constant(Buffer.from(iv)), fc.uint8Array({minLength: blocks * 16, maxLength: blocks * 16}).map(bytes => Buffer.from(bytes))));

describe('CbcStream: one OpenSSL context for a run of messages', () => {
	it('encrypts every message of a run exactly as a fresh AES-128-CBC context under its own IV would', () => {
		fc.assert(
			fc.property(fc.uint8Array({minLength: 16, maxLength: 16}), fc.array(message, {minLength: 1, maxLength: 12}), (keyBytes, run) => {
				const key = Buffer.from(keyBytes);
				const sealing = stream(key, 'encrypt');
				for (const [iv, blocks] of run) {
					const expected = oneShot('encrypt', key, iv, blocks);
					expect(sealing.encrypt(iv, Buffer.from(blocks))).toEqual(expected);
				}
			}),
			{numRuns: 200},
		);
	});

	it('decrypts every message of a run, garbage between them included, as a fresh context would', () => {
		fc.assert(
			fc.property(fc.uint8Array({minLength: 16, maxLength: 16}), fc.array(message, {minLength: 1, maxLength: 12}), (keyBytes, run) => {
				const key = Buffer.from(keyBytes);
				const opening = stream(key, 'decrypt');
				for (const [iv, blocks] of run) {
					expect(opening.decrypt(iv, blocks)).toEqual(oneShot('decrypt', key, iv, blocks));
				}
			}),
			{numRuns: 200},
		);
	});

	it(`stays exact when more than ${maxLiveContexts} streams take turns and contexts are dropped and made again`, () => {
		const streams = Array.from({length: maxLiveContexts + 50}, () => {
			const key = randomBytes(16);
			return {key, sealing: stream(key, 'encrypt'), opening: stream(key, 'decrypt')};
		});
		for (let round = 0; round < 3; round++) {
			for (const {key, sealing, opening} of streams) {
				const iv = randomBytes(16);
				const plaintext = randomBytes(48);
				const ciphertext = sealing.encrypt(iv, Buffer.from(plaintext));
				expect(ciphertext).toEqual(oneShot('encrypt', key, iv, plaintext));
				expect(opening.decrypt(iv, ciphertext)).toEqual(plaintext);
			}
		}
	});

	it('keeps a Fernet instance exact over many tokens of every length, each readable by a fresh instance', () => {
		const key = randomBytes(32);
		const sender = new Fernet(key);
		const receiver = new Fernet(key);
		for (let length = 0; length < 100; length++) {
			const plaintext = randomBytes(length);
			const token = sender.encrypt(plaintext);
			expect(new Fernet(key).decrypt(token)).toEqual(plaintext);
			expect(receiver.decrypt(token)).toEqual(plaintext);
			// a token that fails its MAC check does not disturb the next one
			expect(() => receiver.decrypt(new Fernet(randomBytes(32)).encrypt(plaintext))).toThrow('HMAC mismatch');
		}
	});

	it('keeps going after a token whose MAC is good but whose padding is not', () => {
		const key = randomBytes(32);
		const receiver = new Fernet(key);
		// a token made by hand: its one block ends in 0x00, which is no PKCS#7 padding
		const iv = randomBytes(16);
		const cipher = createCipheriv('aes-128-cbc', key.subarray(16), iv);
		cipher.setAutoPadding(false);
		const header = Buffer.concat([Buffer.from([0x80]), Buffer.alloc(8), iv]);
		const signed = Buffer.concat([header, cipher.update(Buffer.alloc(16)), cipher.final()]);
		const unpadded = Buffer.concat([signed, createHmac('sha256', key.subarray(0, 16)).update(signed).digest()]).toString('base64url');
		const badPadding = unpadded + '='.repeat((4 - (unpadded.length % 4)) % 4);
		const sender = new Fernet(key);
		for (let round = 0; round < 3; round++) {
			expect(() => receiver.decrypt(badPadding)).toThrow('invalid PKCS#7 padding');
			expect(receiver.decrypt(sender.encrypt(`after ${round}`)).toString()).toBe(`after ${round}`);
		}
	});

	it('forgets a disposed key: its copy is zeroed and it neither encrypts nor decrypts again', () => {
		const key = randomBytes(32);
		const fernet = new Fernet(key);
		const token = fernet.encrypt('once');
		fernet.dispose();
		expect(() => fernet.encrypt('again')).toThrow('disposed');
		expect(() => fernet.decrypt(token)).toThrow('disposed');
		expect(new Fernet(key).decrypt(token).toString()).toBe('once');
	});
});
