import {Buffer} from 'node:buffer';
import {EnvelopeError} from './envelope.js';
import {isPrekeyId} from './prekeys.js';
import {isBytes} from './x25519.js';

/** The Double Ratchet's message header (design of issue 14, section 3), re-exported by double-ratchet.ts. */
export type RatchetHeader = {
	/** X3DH EK_A public of the session's initiator. */
	baseKey: Buffer;
	/** The sender's current ratchet public key. */
	dh: Buffer;
	previousN: number;
	n: number;
	prekey?: {signedId: number; oneTimeId?: number};
};

const headerVersion = 0x03;
const flagPrekey = 0x01;
const flagOneTime = 0x02;

/** The 74, 78 or 82-byte binary header. */
export function encodeHeader(header: RatchetHeader): Buffer {
	const {baseKey, dh, previousN, n, prekey} = header;
	if (!isBytes(baseKey, 32) || !isBytes(dh, 32)) throw new TypeError('a ratchet header carries two 32-byte keys');
	if (!isPrekeyId(previousN) || !isPrekeyId(n)) throw new TypeError('ratchet counters are integers from 0 to 2^32 - 1');
	if (prekey !== undefined && (!isPrekeyId(prekey.signedId) || (prekey.oneTimeId !== undefined && !isPrekeyId(prekey.oneTimeId)))) {
		throw new TypeError('prekey ids are integers from 0 to 2^32 - 1');
	}
	const oneTime = prekey?.oneTimeId !== undefined;
	const bytes = Buffer.alloc(74 + (prekey === undefined ? 0 : oneTime ? 8 : 4));
	bytes[0] = headerVersion;
	bytes[1] = prekey === undefined ? 0 : oneTime ? flagPrekey | flagOneTime : flagPrekey;
	bytes.set(baseKey, 2);
	bytes.set(dh, 34);
	bytes.writeUInt32BE(previousN, 66);
	bytes.writeUInt32BE(n, 70);
	if (prekey !== undefined) bytes.writeUInt32BE(prekey.signedId, 74);
	if (oneTime) bytes.writeUInt32BE(prekey.oneTimeId!, 78);
	return bytes;
}

/** Throws EnvelopeError('malformed') on any other version, flags or length. */
export function parseHeader(bytes: Uint8Array): RatchetHeader {
	if (!(bytes instanceof Uint8Array) || bytes.byteLength < 2) throw new EnvelopeError('a ratchet header is 74, 78 or 82 bytes');
	const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (data[0] !== headerVersion) throw new EnvelopeError(`unknown ratchet header version ${data[0]}`);
	const flags = data[1]!;
	const expected = flags === 0 ? 74 : flags === flagPrekey ? 78 : flags === (flagPrekey | flagOneTime) ? 82 : 0;
	if (expected === 0) throw new EnvelopeError(`unknown ratchet header flags 0x${flags.toString(16)}`);
	if (data.length !== expected) throw new EnvelopeError(`a ratchet header with flags ${flags} is ${expected} bytes, not ${data.length}`);
	const header: RatchetHeader = {
		baseKey: Buffer.from(data.subarray(2, 34)),
		dh: Buffer.from(data.subarray(34, 66)),
		previousN: data.readUInt32BE(66),
		n: data.readUInt32BE(70),
	};
	if (flags !== 0) header.prekey = flags === flagPrekey ? {signedId: data.readUInt32BE(74)} : {signedId: data.readUInt32BE(74), oneTimeId: data.readUInt32BE(78)};
	return header;
}
