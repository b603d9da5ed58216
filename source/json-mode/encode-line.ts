/**
 * Characters JSON.stringify leaves as they are that a reader could still take for more than text:
 * DEL and the C1 controls (U+0080 to U+009F, some terminals act on them), the line and
 * paragraph separators (U+2028, U+2029; Python's splitlines() breaks lines at them, and at U+0085),
 * the bidirectional controls (a peer's U+202E would reorder the rest of the line for whoever reads
 * the output in a terminal or a log viewer: Trojan Source), and the byte order mark.
 */
const unsafe = /[\u007F-\u009F\u2028\u2029\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

/**
 * One output line: the value as JSON, every control character escaped (JSON.stringify escapes
 * U+0000 to U+001F, this the rest), ending in a line feed. Text that came from another user stays
 * exactly what they wrote once parsed, and cannot break the line or reach a terminal as a control.
 */
export function encodeLine(value: unknown): string {
	return `${JSON.stringify(value).replace(unsafe, character => `\\u${character.codePointAt(0)!.toString(16).padStart(4, '0')}`)}\n`;
}
