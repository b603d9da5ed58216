import {Buffer} from 'node:buffer';
import {createHmac, randomBytes, randomFillSync, timingSafeEqual} from 'node:crypto';
import {fromBase64UrlPadded, toBase64UrlPadded} from './base64url.js';
import {CbcStream} from './cbc-stream.js';

export type FernetErrorCode = 'invalid_token' | 'expired' | 'future_token';

export class FernetError extends Error {
	override readonly name = 'FernetError';
	readonly code: FernetErrorCode;

	constructor(code: FernetErrorCode, message: string) {
		super(message);
		this.code = code;
	}
}

export type FernetEncryptOptions = {
	/** 16 bytes; random when omitted. Only tests should pass one. */
	iv?: Uint8Array;
	/** Whole seconds since the Unix epoch; now when omitted. */
	timeSeconds?: number;
};

export type FernetDecryptOptions = {
	/** Maximum token age. The timestamp is checked only when this is given. */
	ttlSeconds?: number;
	nowSeconds?: number;
	maxClockSkewSeconds?: number;
};

export const defaultMaxClockSkewSeconds = 60;

const version = 0x80;
const ivOffset = 9;
const headerLength = 25;
const macLength = 32;
const blockLength = 16;
const minTokenLength = headerLength + blockLength + macLength;

// One randomFillSync per 256 IVs: a randomBytes(16) call per token costs about a quarter of an encrypt.
const ivPool = Buffer.alloc(256 * blockLength);
let ivPoolOffset = ivPool.length;

/** The Fernet token format, https://github.com/fernet/spec/blob/master/Spec.md */
export class Fernet {
	static fromBase64Key(key: string): Fernet {
		let bytes: Buffer;
		try {
			bytes = fromBase64UrlPadded(key, 32);
		} catch (error) {
			throw new TypeError(`a Fernet key is 32 bytes in padded base64url (44 characters): ${(error as Error).message}`);
		}
		const fernet = new Fernet(bytes);
		bytes.fill(0);
		return fernet;
	}

	readonly #memory: Buffer;
	readonly #signingKey: Buffer;
	#encryptStream: CbcStream | undefined;
	#decryptStream: CbcStream | undefined;
	#disposed = false;

	/** `key` is 32 bytes: the HMAC-SHA256 signing key, then the AES-128 key. */
	constructor(key: Uint8Array) {
		if (!(key instanceof Uint8Array) || key.byteLength !== 32) {
			const length = key instanceof Uint8Array ? `${key.byteLength} bytes` : typeof key;
			throw new TypeError(`a Fernet key is 32 bytes, got ${length}`);
		}
		// A buffer of its own: small Buffer.from copies come from Node's shared 8 KiB pool, and a
		// long-lived 16-byte key would keep a whole pool block alive (2.4 KB per relay connection).
		// Then 16 bytes of chaining state for each direction's AES context (cbc-stream.ts).
		const memory = Buffer.alloc(64);
		memory.set(key);
		this.#memory = memory;
		this.#signingKey = memory.subarray(0, 16);
	}

	/**
	 * Zeroes this instance's copy of the key and frees its AES contexts, which would otherwise stay
	 * among the live ones for a while. Encrypting or decrypting afterwards throws.
	 */
	dispose(): void {
		this.#disposed = true;
		this.#encryptStream?.release();
		this.#decryptStream?.release();
		this.#encryptStream = undefined;
		this.#decryptStream = undefined;
		this.#memory.fill(0);
	}

	encrypt(plaintext: Uint8Array | string, options: FernetEncryptOptions = {}): string {
		if (this.#disposed) throw new TypeError('this Fernet key was disposed');
		const text = typeof plaintext === 'string';
		if (!text && !(plaintext instanceof Uint8Array)) {
			throw new TypeError('Fernet plaintext must be a Uint8Array or a string');
		}
		const iv = options.iv ?? randomIv();
		if (!(iv instanceof Uint8Array) || iv.byteLength !== blockLength) {
			throw new TypeError(`a Fernet IV is ${blockLength} bytes`);
		}
		const time = options.timeSeconds ?? Math.floor(Date.now() / 1000);
		if (!Number.isSafeInteger(time) || time < 0) {
			throw new TypeError(`a Fernet timestamp is a non-negative integer of seconds, got ${time}`);
		}
		const length = text ? Buffer.byteLength(plaintext) : plaintext.byteLength;
		const ciphertextLength = length - (length % blockLength) + blockLength;
		const macOffset = headerLength + ciphertextLength;
		const token = Buffer.allocUnsafe(macOffset + macLength);
		token[0] = version;
		token.writeUInt32BE(Math.floor(time / 0x1_0000_0000), 1);
		token.writeUInt32BE(time >>> 0, 5);
		token.set(iv, ivOffset);
		// PKCS#7: the plaintext, then as many bytes as were missing from the last block, each that number
		const blocks = token.subarray(headerLength, macOffset);
		if (text) blocks.write(plaintext);
		else blocks.set(plaintext);
		blocks.fill(ciphertextLength - length, length);
		this.#encryptStream ??= new CbcStream(this.#memory, 16, 32, 'encrypt');
		blocks.set(this.#encryptStream.encrypt(iv, blocks));
		createHmac('sha256', this.#signingKey).update(token.subarray(0, macOffset)).digest().copy(token, macOffset);
		return toBase64UrlPadded(token);
	}

	/**
	 * Returns the plaintext of a token made with this key. Without `ttlSeconds` only the format
	 * and the MAC are checked: the timestamp is the sender's clock and may be anything.
	 */
	decrypt(token: string, options: FernetDecryptOptions = {}): Buffer {
		if (this.#disposed) throw new TypeError('this Fernet key was disposed');
		const data = decodeToken(token);
		if (options.ttlSeconds !== undefined) {
			// The spec checks the age before the HMAC (Spec.md, "Verifying", step 3), as Python does.
			checkTime(data, options.ttlSeconds, options);
		}
		const macOffset = data.length - macLength;
		const expected = createHmac('sha256', this.#signingKey).update(data.subarray(0, macOffset)).digest();
		if (!timingSafeEqual(expected, data.subarray(macOffset))) {
			throw new FernetError('invalid_token', 'Fernet token: HMAC mismatch (wrong key or altered token)');
		}
		this.#decryptStream ??= new CbcStream(this.#memory, 16, 48, 'decrypt');
		return unpad(this.#decryptStream.decrypt(data.subarray(ivOffset, headerLength), data.subarray(headerLength, macOffset)));
	}
}

/** A new random key in the format of Python's `Fernet.generate_key()`. */
export function generateFernetKey(): string {
	return toBase64UrlPadded(randomBytes(32));
}

function randomIv(): Buffer {
	if (ivPoolOffset === ivPool.length) {
		randomFillSync(ivPool);
		ivPoolOffset = 0;
	}
	ivPoolOffset += blockLength;
	return ivPool.subarray(ivPoolOffset - blockLength, ivPoolOffset);
}

function decodeToken(token: string): Buffer {
	if (typeof token !== 'string') {
		throw new FernetError('invalid_token', `Fernet token: expected a string, got ${token === null ? 'null' : typeof token}`);
	}
	let data: Buffer;
	try {
		data = fromBase64UrlPadded(token);
	} catch (error) {
		throw new FernetError('invalid_token', `Fernet token: ${(error as Error).message}`);
	}
	if (data.length < minTokenLength) {
		throw new FernetError('invalid_token', `Fernet token: ${data.length} bytes, shorter than the minimum ${minTokenLength}`);
	}
	if (data[0] !== version) {
		throw new FernetError('invalid_token', `Fernet token: unknown version 0x${data[0]!.toString(16).padStart(2, '0')}`);
	}
	if ((data.length - headerLength - macLength) % blockLength !== 0) {
		throw new FernetError('invalid_token', 'Fernet token: ciphertext length is not a multiple of 16 bytes');
	}
	return data;
}

function checkTime(data: Buffer, ttl: number, options: FernetDecryptOptions): void {
	const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
	const skew = options.maxClockSkewSeconds ?? defaultMaxClockSkewSeconds;
	if (!(ttl >= 0) || !Number.isFinite(now) || !(skew >= 0)) {
		throw new TypeError('Fernet: ttlSeconds and maxClockSkewSeconds must be non-negative numbers, nowSeconds finite');
	}
	const timestamp = data.readUInt32BE(1) * 0x1_0000_0000 + data.readUInt32BE(5);
	if (timestamp + ttl < now) {
		throw new FernetError('expired', `Fernet token: expired (${now - timestamp} s old, TTL ${ttl} s)`);
	}
	if (now + skew < timestamp) {
		throw new FernetError('future_token', `Fernet token: timestamp ${timestamp - now} s in the future (allowed skew ${skew} s)`);
	}
}

function unpad(padded: Buffer): Buffer {
	const padLength = padded[padded.length - 1]!;
	let bad = padLength === 0 || padLength > blockLength ? 1 : 0;
	for (let index = padded.length - Math.min(padLength, blockLength); index < padded.length; index++) {
		bad |= padded[index]! ^ padLength;
	}
	if (bad !== 0) {
		throw new FernetError('invalid_token', 'Fernet token: invalid PKCS#7 padding');
	}
	return padded.subarray(0, padded.length - padLength);
}
