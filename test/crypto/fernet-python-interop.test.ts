import {Buffer} from 'node:buffer';
import {randomBytes} from 'node:crypto';
import {describe, it, expect} from 'vitest';
import {toBase64UrlPadded} from '../../source/crypto/base64url.js';
import {Fernet, generateFernetKey} from '../../source/crypto/fernet.js';
import {pythonPath, pythonUnavailableReason, runPython, type PythonResult} from './python-fernet.js';

// vitest.config.ts sets CI=false for Ink, so the real value travels as IM_TUI_REAL_CI.
const onCi = process.env.IM_TUI_REAL_CI === 'true';
const unavailable = pythonUnavailableReason();
const skip = unavailable !== undefined && !onCi;

const plaintexts: Array<[string, Buffer]> = [
	['empty', Buffer.alloc(0)],
	['all 256 byte values', Buffer.from(Array.from({length: 256}, (_, index) => index))],
	['hello', Buffer.from('hello')],
	['15 bytes', randomBytes(15)],
	['16 bytes', randomBytes(16)],
	['17 bytes', randomBytes(17)],
	['UTF-8 text', Buffer.from('héllo wörld 🙂')],
	['64 KiB', randomBytes(65_536)],
];

function requirePython(): void {
	if (unavailable !== undefined) {
		throw new Error(`Python interop must run on CI but cannot: ${unavailable}`);
	}
}

function plain(result: PythonResult | undefined): Buffer {
	if (typeof result !== 'object' || !result.ok) {
		throw new Error(`python could not decrypt: ${JSON.stringify(result)}`);
	}
	return Buffer.from(result.hex, 'hex');
}

describe(`interop with Python's cryptography.fernet (${pythonPath})`, () => {
	if (skip) {
		const why = `Python interop skipped: ${unavailable} (with CI=true this fails instead)`;
		console.warn(why);
		it.skip(why, () => {});
		return;
	}

	it('Python decrypts our tokens', () => {
		requirePython();
		const key = generateFernetKey();
		const ours = Fernet.fromBase64Key(key);
		const results = runPython(plaintexts.map(([, bytes]) => ({op: 'decrypt', key, token: ours.encrypt(bytes)})));
		for (const [index, [name, bytes]] of plaintexts.entries()) {
			expect(plain(results[index]), name).toEqual(bytes);
		}
	});

	it('we decrypt Python tokens', () => {
		requirePython();
		const key = generateFernetKey();
		const ours = Fernet.fromBase64Key(key);
		const tokens = runPython(plaintexts.map(([, bytes]) => ({op: 'encrypt', key, hex: bytes.toString('hex')})));
		for (const [index, [name, bytes]] of plaintexts.entries()) {
			expect(ours.decrypt(tokens[index] as string), name).toEqual(bytes);
		}
	});

	it('our keys work in Python and Python keys work here', () => {
		requirePython();
		const [pythonKey] = runPython([{op: 'generate_key'}]) as [string];
		expect(pythonKey).toMatch(/^[A-Za-z0-9_-]{43}=$/);
		const fromPython = Fernet.fromBase64Key(pythonKey);
		const ourKey = generateFernetKey();
		const [token] = runPython([{op: 'encrypt', key: ourKey, hex: '00ff'}]) as [string];
		expect(Fernet.fromBase64Key(ourKey).decrypt(token)).toEqual(Buffer.from([0, 0xff]));
		const [result] = runPython([{op: 'decrypt', key: pythonKey, token: fromPython.encrypt('k')}]);
		expect(plain(result).toString()).toBe('k');
	});

	it('agrees on timestamps: same ttl and clock-skew verdicts both ways', () => {
		requirePython();
		const key = generateFernetKey();
		const ours = Fernet.fromBase64Key(key);
		const time = 1_700_000_000;
		const ourToken = ours.encrypt('t', {timeSeconds: time});
		const [pythonToken] = runPython([{op: 'encrypt', key, hex: '74', time}]) as [string];
		expect(Buffer.from(pythonToken, 'base64url').readBigUInt64BE(1)).toBe(BigInt(time));
		const checks = [
			{now: time + 60, ok: true},
			{now: time + 61, ok: false},
			{now: time - 60, ok: true},
			{now: time - 61, ok: false},
		];
		const verdicts = runPython(checks.map(({now}) => ({op: 'decrypt', key, token: ourToken, ttl: 60, now})));
		for (const [index, {now, ok}] of checks.entries()) {
			expect((verdicts[index] as {ok: boolean}).ok, `python at now=${now}`).toBe(ok);
			let ourVerdict = true;
			try {
				ours.decrypt(pythonToken, {ttlSeconds: 60, nowSeconds: now});
			} catch {
				ourVerdict = false;
			}
			expect(ourVerdict, `ours at now=${now}`).toBe(ok);
		}
	});

	it('Python rejects our tokens under another key or when altered', () => {
		requirePython();
		const key = generateFernetKey();
		const token = Fernet.fromBase64Key(key).encrypt('secret');
		const altered = Buffer.from(token, 'base64url');
		altered[30]! ^= 1;
		const results = runPython([
			{op: 'decrypt', key: generateFernetKey(), token},
			{op: 'decrypt', key, token: toBase64UrlPadded(altered)},
		]);
		expect(results).toEqual([{ok: false, error: 'InvalidToken'}, {ok: false, error: 'InvalidToken'}]);
	});
});
