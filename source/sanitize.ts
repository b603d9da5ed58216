/**
 * Text another person controls (messages, names, announcements, the motd, the relay's error
 * messages) must never drive the terminal. sanitizeText turns it into one inert line.
 */
import {isValidUsername} from './net/usernames.js';

// One pass, left to right, so a sequence hidden inside another is removed whole.
const escapeSequence = new RegExp(
	[
		// OSC, DCS, SOS, PM, APC strings (7-bit and 8-bit introducers) up to BEL or ST, or to the end.
		String.raw`(?:\u001B[\]PX^_]|[\u0090\u0098\u009D\u009E\u009F])[\s\S]*?(?:\u0007|\u001B\\|\u009C|$)`,
		// CSI: parameters, intermediates, final byte.
		String.raw`(?:\u001B\[|\u009B)[\u0030-\u003F]*[\u0020-\u002F]*[\u0040-\u007E]?`,
		// Any other ESC sequence: intermediates and a final byte (ESC c, ESC 7, ESC ( B), or a lone ESC.
		String.raw`\u001B[\u0020-\u002F]*[\u0030-\u007E]?`,
	].join('|'),
	'g',
);

// C0 controls, DEL and C1 controls, except the ones that break lines (handled below).
const controls = /[\u0000-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F]/g;

// Tab and line breaks (LF, VT, FF, CR, NEL, U+2028, U+2029): each run becomes one space.
const lineBreaks = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;

// Bidirectional controls that could reorder what is shown (Trojan Source).
const bidiControls = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

// Characters measured as (nearly) nothing that terminals draw as one or two cells: Hangul fillers,
// the soft hyphen, and the prepended concatenation marks. Text full of them would be drawn wider
// than it was laid out, pushing the frame out of place.
const misdrawn = /[\u00AD\u0600-\u0605\u06DD\u070F\u0890\u0891\u08E2\u115F\u1160\u3164\uFFA0\u{110BD}\u{110CD}]/gu;

export function sanitizeText(text: string): string {
	return text
		.replace(escapeSequence, '')
		.replace(controls, '')
		.replace(bidiControls, '')
		.replace(misdrawn, '')
		.replace(lineBreaks, ' ');
}

/**
 * A message's text for the screen: like sanitizeText, but each line break (LF, CRLF, a lone CR,
 * U+2028, U+2029) stays as one newline, so a multi-line message shows as it was written. A tab
 * becomes the spaces up to the next multiple of 8 in its line, as a terminal would draw it.
 * Nothing else of the control range survives.
 */
export function sanitizeMessage(text: string): string {
	return text
		.replace(escapeSequence, '')
		.split(/\r\n|[\n\r\u2028\u2029]/)
		.map(line => expandTabs(line.replace(controls, '').replace(bidiControls, '').replace(misdrawn, '')).replace(otherBreaks, ' '))
		.join('\n');
}

// Inside one line of a message: what sanitizeText turns into a space, but for tabs (expanded first).
const otherBreaks = /[\v\f\u0085]+/g;

function expandTabs(line: string): string {
	if (!line.includes('\t')) return line;
	let column = 0;
	let out = '';
	for (const char of line) {
		if (char === '\t') {
			const spaces = 8 - (column % 8);
			out += ' '.repeat(spaces);
			column += spaces;
		} else {
			out += char;
			column++;
		}
	}

	return out;
}

/** Splits multi-line text from the relay's operator (motd, announcements) into sanitized lines. */
export function sanitizeLines(text: string, maxLines = 20): string[] {
	return text
		.replace(escapeSequence, '')
		.split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/)
		.map(line => sanitizeText(line).trimEnd())
		.filter(line => line.length > 0)
		.slice(0, maxLines);
}

/**
 * A sender column can only show a valid username; anything else (which the relay never sends)
 * becomes "?", so no sender can look like the system marker.
 */
export function safeName(name: string): string {
	return isValidUsername(name) ? name : '?';
}
