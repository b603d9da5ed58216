import {Buffer} from 'node:buffer';

export const maxPartBytes = 0xff_ff;

/**
 * `lp(b)` of PROTOCOL.md section 9: each part as its length in two bytes big-endian, then its
 * bytes (strings as UTF-8), all concatenated. Prefixing every part keeps concatenations unambiguous.
 */
export function lp(...parts: Array<Uint8Array | string>): Buffer {
	const chunks: Buffer[] = [];
	for (const [index, part] of parts.entries()) {
		let bytes: Buffer;
		if (typeof part === 'string') {
			bytes = Buffer.from(part, 'utf8');
		} else if (part instanceof Uint8Array) {
			bytes = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
		} else {
			throw new TypeError(`lp: part ${index} is neither a string nor a Uint8Array`);
		}
		if (bytes.length > maxPartBytes) {
			throw new RangeError(`lp: part ${index} is ${bytes.length} bytes, more than ${maxPartBytes}`);
		}
		const length = Buffer.allocUnsafe(2);
		length.writeUInt16BE(bytes.length, 0);
		chunks.push(length, bytes);
	}
	return Buffer.concat(chunks);
}

/** `u32be(n)`: n as 4 bytes big-endian, 0 to 2^32 - 1. */
export function u32be(value: number): Buffer {
	if (!Number.isInteger(value) || value < 0 || value > 0xff_ff_ff_ff) throw new RangeError(`u32be: ${value} is not an integer from 0 to 2^32 - 1`);
	const bytes = Buffer.alloc(4);
	bytes.writeUInt32BE(value, 0);
	return bytes;
}

/** `u64be(n)`: n as 8 bytes big-endian, 0 to 2^53 - 1 (a safe integer). */
export function u64be(value: number): Buffer {
	if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`u64be: ${value} is not an integer from 0 to 2^53 - 1`);
	const bytes = Buffer.alloc(8);
	bytes.writeUInt32BE(Math.floor(value / 0x1_0000_0000), 0);
	bytes.writeUInt32BE(value >>> 0, 4);
	return bytes;
}
