import fc from 'fast-check';

/**
 * Byte strings a terminal can deliver, for fuzzing the client's input: random bytes, and pieces of
 * what terminals really send (escape sequences cut anywhere, bracketed-paste markers, mouse reports,
 * split UTF-8, NUL, bidi overrides). Left out, because they are the two ways to leave on purpose:
 * Ctrl+C (0x03) and anything that could spell /quit (no 'q' or 'Q', no Tab to complete it).
 */
const forbidden = new Set([0x03, 0x09, 0x51, 0x71]);

const pieces = [
	'\u001B', '\u001B[', '\u001B[200~', '\u001B[201~', '\u001BO', '\u001B]', '\u001BP', '\u001B_', '\u0007', '\u001B\\', '\u001B\u001B',
	'\u001B[A', '\u001B[B', '\u001B[C', '\u001B[D', '\u001B[5~', '\u001B[6~', '\u001B[1;5H', '\u001B[1;5F', '\u001B[3~', '\u001B[Z',
	'\u001B[<64;10;5M', '\u001B[<65;10;5M', '\u001B[<0;3;3M', '\u001B[M', '\u001B[31m', '\u001B[?1049l', '\u001B]0;title\u0007',
	'[', ';', '<', 'M', '~', '0', '1', '2', '5', '6', '64', 'A', 'B', 'H', 'Z', 'm', 'u', '$', 'y',
	'\r', '\n', '\r\n', '\u007F', '\b', '\u0000', '\u0001', '\u0005', '\u000B', '\u0015', '\u0017', '\u0019', '\u0010', '\u000E', '\u001A', '\u001C',
	'a', 'z', ' ', '/', '//', 'é', '世界', '🙂', '👨‍👩‍👧', '\u202E', '\u2066', '\u0085', '\u009B', '\u2028', 'x'.repeat(300),
];

const piece: fc.Arbitrary<Buffer> = fc.oneof(
	fc.constantFrom(...pieces).map(text => Buffer.from(text, 'utf8')),
	// A character's UTF-8 cut short, or bytes that are no UTF-8 at all.
	fc.constantFrom([0xe4], [0xe4, 0xb8], [0xf0, 0x9f, 0x99], [0xc3], [0x80], [0xff], [0xfe, 0xfe], [0xc0, 0xaf]).map(bytes => Buffer.from(bytes)),
	fc.uint8Array({maxLength: 24}).map(bytes => Buffer.from(bytes.map(byte => (forbidden.has(byte) ? 0x20 : byte)))),
);

/** One burst of input: pieces run together, as one read or several. */
export const terminalInput: fc.Arbitrary<Buffer[]> = fc
	.tuple(fc.array(piece, {minLength: 1, maxLength: 12}), fc.integer({min: 1, max: 4}))
	.map(([parts, chunks]) => {
		const bytes = Buffer.concat(parts);
		const size = Math.ceil(bytes.length / chunks);
		const out: Buffer[] = [];
		for (let start = 0; start < bytes.length; start += size) out.push(bytes.subarray(start, start + size));
		return out;
	});

/**
 * Brings the input back to a known state after fuzzing: ends a paste left open, lets a cut-off
 * escape sequence time out, then empties the input line (Ctrl+A, Ctrl+K).
 */
export const resetInput = ['\u001B[201~', '\u0001\u000B'];
