import {Buffer} from 'node:buffer';

const unpaddedPattern = /^[A-Za-z0-9_-]*$/;
const paddedPattern = /^[A-Za-z0-9_-]*={0,2}$/;

/** Base64url (RFC 4648 section 5) without padding, the protocol's B64U. */
export function toBase64Url(bytes: Uint8Array): string {
	return asBuffer(bytes).toString('base64url');
}

/** Base64url with padding, as Fernet tokens and keys have it. */
export function toBase64UrlPadded(bytes: Uint8Array): string {
	const text = asBuffer(bytes).toString('base64url');
	const missing = (4 - (text.length % 4)) % 4;
	return missing === 0 ? text : text + '='.repeat(missing);
}

/**
 * Strict B64U decoding: no padding, nothing outside `A-Z a-z 0-9 - _`, only the canonical
 * encoding, and exactly `expectedLength` bytes when that is given. Throws a TypeError otherwise.
 */
export function fromBase64Url(text: string, expectedLength?: number): Buffer {
	if (typeof text !== 'string') {
		throw new TypeError('base64url: expected a string');
	}
	if (!unpaddedPattern.test(text)) {
		throw new TypeError(
			text.includes('=')
				? 'base64url: padding ("=") is not allowed'
				: `base64url: invalid character at index ${text.search(/[^A-Za-z0-9_-]/)}`,
		);
	}
	return decode(text, text.length, expectedLength);
}

/** Strict decoding of padded base64url: the total length is a multiple of 4, padded with "=". */
export function fromBase64UrlPadded(text: string, expectedLength?: number): Buffer {
	// Fernet tokens are whole frames, up to 256 KiB: a regular expression over every character
	// costs more than the AES and the HMAC. Node's decoder skips characters outside the alphabet
	// (the result comes out short) and reads + and / as - and _ (looked for directly), so a token
	// that passes these checks is exactly one the strict path accepts; anything else takes the
	// strict path, which says what is wrong.
	if (typeof text === 'string' && text.length % 4 === 0 && !text.includes('+') && !text.includes('/')) {
		let end = text.length;
		while (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
		if (text.length - end <= 2) {
			try {
				return decode(text, end, expectedLength);
			} catch {
				// the strict path below names the problem
			}
		}
	}
	return fromBase64UrlPaddedStrict(text, expectedLength);
}

function fromBase64UrlPaddedStrict(text: string, expectedLength?: number): Buffer {
	if (typeof text !== 'string') {
		throw new TypeError('base64url: expected a string');
	}
	if (!paddedPattern.test(text)) {
		const invalid = text.search(/[^A-Za-z0-9_=-]/);
		throw new TypeError(
			invalid === -1
				? `base64url: misplaced padding at index ${text.indexOf('=')}`
				: `base64url: invalid character at index ${invalid}`,
		);
	}
	if (text.length % 4 !== 0) {
		throw new TypeError(`base64url: padded length must be a multiple of 4, got ${text.length}`);
	}
	let end = text.length;
	while (end > 0 && text.charCodeAt(end - 1) === 0x3d) {
		end--;
	}
	return decode(text, end, expectedLength);
}

function decode(text: string, dataLength: number, expectedLength: number | undefined): Buffer {
	const remainder = dataLength % 4;
	if (remainder === 1) {
		throw new TypeError(`base64url: ${dataLength} characters cannot encode whole bytes`);
	}
	if (remainder !== 0) {
		const unusedBits = remainder === 2 ? 0b1111 : 0b11;
		if ((sextet(text.charCodeAt(dataLength - 1)) & unusedBits) !== 0) {
			throw new TypeError('base64url: non-canonical encoding (unused trailing bits are set)');
		}
	}
	const length = (dataLength >>> 2) * 3 + (remainder === 0 ? 0 : remainder - 1);
	if (expectedLength !== undefined && length !== expectedLength) {
		throw new TypeError(`base64url: expected ${expectedLength} bytes, got ${length}`);
	}
	const bytes = Buffer.from(text, 'base64url');
	if (bytes.length !== length) throw new TypeError('base64url: invalid character');
	return bytes;
}

function sextet(code: number): number {
	if (code === 0x2d) {
		return 62;
	}
	if (code === 0x5f) {
		return 63;
	}
	if (code >= 0x61) {
		return code - 0x61 + 26;
	}
	return code >= 0x41 ? code - 0x41 : code - 0x30 + 52;
}

function asBuffer(bytes: Uint8Array): Buffer {
	return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
