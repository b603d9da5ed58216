import {Buffer} from 'node:buffer';
import {createRequire} from 'node:module';
import {describe, it, expect} from 'vitest';
import {Fernet, generateFernetKey} from '../../source/crypto/fernet.js';

type NpmSecret = object;
type NpmTokenOptions = {secret: NpmSecret; token?: string; ttl?: number; time?: Date; iv?: number[]};
type NpmFernet = {
	Secret: new (key: string) => NpmSecret;
	Token: new (options: NpmTokenOptions) => {encode(message: string): string; decode(): string};
};

// The package is CommonJS without types; it adds String.prototype.lpad when loaded.
const npm = createRequire(import.meta.url)('fernet') as NpmFernet;

const texts = ['hello', '', 'x'.repeat(15), 'y'.repeat(16), 'z'.repeat(17), 'héllo wörld 🙂 – ünïcode', JSON.stringify({v: 1, seq: 0, msgs: [{type: 'ping', nonce: 1}]}), 'a'.repeat(10_000)];

describe('interop with the fernet npm package', () => {
	const keyText = generateFernetKey();
	const ours = Fernet.fromBase64Key(keyText);
	const secret = new npm.Secret(keyText);

	it.each(texts.map(text => [text.slice(0, 30), text]))('it decrypts our token of %j', (_label, text) => {
		const token = ours.encrypt(text);
		expect(new npm.Token({secret, token, ttl: 0}).decode()).toBe(text);
	});

	it.each(texts.map(text => [text.slice(0, 30), text]))('we decrypt its token of %j', (_label, text) => {
		const token = new npm.Token({secret}).encode(text);
		expect(ours.decrypt(token).toString('utf8')).toBe(text);
	});

	it('makes the same token as ours given the same IV and time', () => {
		// Its iv option only works for 0..15: it iterates the array's indices, not its values.
		const iv = Array.from({length: 16}, (_, index) => index);
		const time = 1_600_000_000;
		const theirs = new npm.Token({secret, iv, time: new Date(time * 1000)}).encode('same');
		expect(ours.encrypt('same', {iv: Uint8Array.from(iv), timeSeconds: time})).toBe(theirs);
	});

	it('applies a 60 s TTL by default, which is why the transport does not use it', () => {
		const old = ours.encrypt('old', {timeSeconds: Math.floor(Date.now() / 1000) - 120});
		expect(() => new npm.Token({secret, token: old}).decode()).toThrow(/TTL/);
		expect(new npm.Token({secret, token: old, ttl: 0}).decode()).toBe('old');
		expect(ours.decrypt(old).toString()).toBe('old');
	});

	it('passes only UTF-8 text: binary plaintext does not survive it', () => {
		const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
		const token = ours.encrypt(binary);
		let decoded: string | Error;
		try {
			decoded = new npm.Token({secret, token, ttl: 0}).decode();
		} catch (error) {
			decoded = error as Error;
		}
		expect(typeof decoded === 'string' ? Buffer.from(decoded, 'utf8') : decoded).not.toEqual(binary);
	});

	it('rejects our tokens under another key, and we reject its', () => {
		const other = new npm.Secret(generateFernetKey());
		expect(() => new npm.Token({secret: other, token: ours.encrypt('x'), ttl: 0}).decode()).toThrow(/HMAC/);
		const theirs = new npm.Token({secret: other}).encode('x');
		expect(() => ours.decrypt(theirs)).toThrow(expect.objectContaining({code: 'invalid_token'}));
	});
});
