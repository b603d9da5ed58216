import {Buffer} from 'node:buffer';

/** The plaintext of a room message (design section 3): `{"v":1,"type":"text","text":…,"sent":…}`. */
export const maxRoomTextBytes = 8192;
/** A text of maxRoomTextBytes escaped to JSON at worst (\u00XX for each byte) and the other fields. */
const maxPayloadBytes = 6 * maxRoomTextBytes + 256;

const utf8 = new TextDecoder('utf-8', {fatal: true});
const loneSurrogate = /\p{Cs}/u;

export function encodeRoomText(text: string, sent: number): Buffer {
	if (typeof text !== 'string' || loneSurrogate.test(text)) throw new TypeError('a room message is valid Unicode text');
	const length = Buffer.byteLength(text, 'utf8');
	if (length > maxRoomTextBytes) throw new RangeError(`a room message is at most ${maxRoomTextBytes} bytes, this one is ${length}`);
	if (!Number.isSafeInteger(sent)) throw new TypeError('"sent" is an integer (ms)');
	return Buffer.from(JSON.stringify({v: 1, type: 'text', text, sent}), 'utf8');
}

/** The text and its send time, or what is wrong with the payload. */
export function parseRoomText(bytes: Buffer): {text: string; sent: number} | string {
	if (bytes.length > maxPayloadBytes) return `the payload is ${bytes.length} bytes, more than ${maxPayloadBytes}`;
	let value: unknown;
	try {
		value = JSON.parse(utf8.decode(bytes));
	} catch {
		return 'the payload is not UTF-8 JSON';
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the payload is not a JSON object';
	const fields = value as Record<string, unknown>;
	if (fields.v !== 1) return '"v" is not 1';
	if (fields.type !== 'text') return 'the payload is not a text';
	if (typeof fields.text !== 'string' || loneSurrogate.test(fields.text)) return '"text" is not valid Unicode text';
	if (Buffer.byteLength(fields.text, 'utf8') > maxRoomTextBytes) return `"text" is more than ${maxRoomTextBytes} bytes`;
	if (!Number.isSafeInteger(fields.sent)) return '"sent" is not an integer';
	return {text: fields.text, sent: fields.sent as number};
}
