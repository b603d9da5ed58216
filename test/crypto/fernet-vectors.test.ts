import {Buffer} from 'node:buffer';
import {readFileSync} from 'node:fs';
import {describe, it, expect} from 'vitest';
import {Fernet, FernetError} from '../../source/crypto/fernet.js';

type GenerateCase = {token: string; now: string; iv: number[]; src: string; secret: string};
type VerifyCase = {token: string; now: string; ttl_sec: number; src: string; secret: string};
type InvalidCase = {desc: string; token: string; now: string; ttl_sec: number; secret: string};

function fixture<T>(name: string): T[] {
	return JSON.parse(readFileSync(new URL(`../fixtures/fernet/${name}`, import.meta.url), 'utf8')) as T[];
}

function seconds(isoTime: string): number {
	return Date.parse(isoTime) / 1000;
}

const expectedCodes: Record<string, string> = {
	'incorrect mac': 'invalid_token',
	'too short': 'invalid_token',
	'invalid base64': 'invalid_token',
	'payload size not multiple of block size': 'invalid_token',
	'payload padding error': 'invalid_token',
	'far-future TS (unacceptable clock skew)': 'future_token',
	'expired TTL': 'expired',
	'incorrect IV (causes padding error)': 'invalid_token',
};

const generate = fixture<GenerateCase>('generate.json');
const verify = fixture<VerifyCase>('verify.json');
const invalid = fixture<InvalidCase>('invalid.json');

describe('Fernet spec vectors', () => {
	it('has every file of the spec', () => {
		expect(generate.length).toBeGreaterThan(0);
		expect(verify.length).toBeGreaterThan(0);
		expect(invalid.map(vector => vector.desc).sort()).toEqual(Object.keys(expectedCodes).sort());
	});

	describe('generate.json', () => {
		it.each(generate)('makes $token', vector => {
			const token = Fernet.fromBase64Key(vector.secret).encrypt(vector.src, {
				iv: Uint8Array.from(vector.iv),
				timeSeconds: seconds(vector.now),
			});
			expect(token).toBe(vector.token);
		});
	});

	describe('verify.json', () => {
		it.each(verify)('decrypts $token', vector => {
			const fernet = Fernet.fromBase64Key(vector.secret);
			const plaintext = fernet.decrypt(vector.token, {ttlSeconds: vector.ttl_sec, nowSeconds: seconds(vector.now)});
			expect(plaintext.toString('utf8')).toBe(vector.src);
			expect(fernet.decrypt(vector.token).toString('utf8')).toBe(vector.src);
		});
	});

	describe('invalid.json', () => {
		it.each(invalid)('rejects $desc', vector => {
			const fernet = Fernet.fromBase64Key(vector.secret);
			let caught: unknown;
			try {
				fernet.decrypt(vector.token, {ttlSeconds: vector.ttl_sec, nowSeconds: seconds(vector.now)});
			} catch (error) {
				caught = error;
			}
			expect(caught).toBeInstanceOf(FernetError);
			expect((caught as FernetError).code).toBe(expectedCodes[vector.desc]);
		});

		it.each(invalid.filter(vector => expectedCodes[vector.desc] === 'invalid_token'))(
			'rejects $desc without a TTL too',
			vector => {
				const fernet = Fernet.fromBase64Key(vector.secret);
				expect(() => fernet.decrypt(vector.token)).toThrowError(
					expect.objectContaining({name: 'FernetError', code: 'invalid_token'}),
				);
			},
		);

		it.each(invalid.filter(vector => expectedCodes[vector.desc] !== 'invalid_token'))(
			'accepts $desc when no TTL is asked for (the transport does not check time)',
			vector => {
				const fernet = Fernet.fromBase64Key(vector.secret);
				// These two carry a valid MAC over an empty plaintext; only their timestamps are wrong.
				expect(fernet.decrypt(vector.token, {nowSeconds: seconds(vector.now)})).toEqual(Buffer.alloc(0));
			},
		);
	});
});
