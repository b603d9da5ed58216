import {describe, expect, test} from 'vitest';
import fc from 'fast-check';
import {safeName, sanitizeLines, sanitizeMessage, sanitizeText} from '../source/sanitize.js';

const esc = '\u001B';

describe('sanitizeText', () => {
	test.each([
		['plain text', 'hello, world', 'hello, world'],
		['unicode and emoji', 'héllo 世界 🙂', 'héllo 世界 🙂'],
		['empty', '', ''],
		['clear screen CSI', `a${esc}[2Jb`, 'ab'],
		['cursor home CSI', `${esc}[Hx`, 'x'],
		['SGR colour', `${esc}[31;1mred${esc}[0m`, 'red'],
		['private-mode CSI (alt screen off)', `${esc}[?1049lx`, 'x'],
		['CSI with intermediate byte', `${esc}[1 qx`, 'x'],
		['CSI cut off at the end', `x${esc}[12;`, 'x'],
		['8-bit CSI', 'a\u009B2Jb', 'ab'],
		['OSC title ended by BEL', `${esc}]0;pwned\u0007ok`, 'ok'],
		['OSC 8 hyperlink ended by ST', `${esc}]8;;http://evil.example${esc}\\link${esc}]8;;${esc}\\`, 'link'],
		['OSC 52 clipboard write', `${esc}]52;c;cm0gLXJmIH4=\u0007x`, 'x'],
		['OSC never terminated', `x${esc}]0;rest of the text`, 'x'],
		['8-bit OSC ended by 8-bit ST', 'a\u009D0;t\u009Cb', 'ab'],
		['DCS string', `a${esc}P1$qm${esc}\\b`, 'ab'],
		['APC string', `a${esc}_payload${esc}\\b`, 'ab'],
		['PM string', `a${esc}^payload${esc}\\b`, 'ab'],
		['SOS string', `a${esc}Xpayload${esc}\\b`, 'ab'],
		['8-bit DCS', 'a\u0090data\u009Cb', 'ab'],
		['reset (ESC c)', `a${esc}cb`, 'ab'],
		['save cursor (ESC 7)', `a${esc}7b`, 'ab'],
		['charset with intermediate (ESC ( 0)', `a${esc}(0b`, 'ab'],
		['lone ESC at the end', `a${esc}`, 'a'],
		['ESC ESC [', `${esc}${esc}[2Jx`, 'x'],
		['CSI hidden in an OSC', `${esc}]0;${esc}[2J\u0007x`, 'x'],
		['tab becomes a space', 'a\tb', 'a b'],
		['newline becomes a space', 'a\nb', 'a b'],
		['CRLF becomes one space', 'a\r\nb', 'a b'],
		['run of line breaks becomes one space', 'a\n\n\t\r\nb', 'a b'],
		['carriage return alone', 'fake\rreal', 'fake real'],
		['line and paragraph separators', 'a\u2028b\u2029c', 'a b c'],
		['NEL', 'a\u0085b', 'a b'],
		['controls between line breaks', 'a\n\u0000\nb', 'a b'],
		['NUL, BEL, backspace', 'a\u0000b\u0007c\bd', 'abcd'],
		['DEL', 'a\u007Fb', 'ab'],
		['C1 controls', 'a\u0080\u008D\u0091b', 'ab'],
		['8-bit APC swallows the rest', 'a\u009Fb', 'a'],
		['right-to-left override', 'abc\u202Etxt.exe', 'abctxt.exe'],
		['all bidi embeddings and isolates', '\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069x', 'x'],
		['LRM, RLM, ALM', '\u200Ea\u200Fb\u061Cc', 'abc'],
	])('%s', (_name, input, expected) => {
		expect(sanitizeText(input)).toBe(expected);
	});

	test('the output never holds ESC, a C0/C1 control or a bidi control', () => {
		let nasty = '';
		for (let code = 0; code < 0xa0; code++) nasty += `x${String.fromCodePoint(code)}`;
		nasty += '\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069';
		const clean = sanitizeText(nasty);
		expect(clean).not.toMatch(/[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/);
	});

	test('is idempotent', () => {
		const input = `${esc}[2J a\tb ${esc}]0;t\u0007 \u202Ec`;
		expect(sanitizeText(sanitizeText(input))).toBe(sanitizeText(input));
	});
});

describe('sanitizeLines', () => {
	test.each([
		['one line', 'welcome', ['welcome']],
		['several lines', 'one\ntwo\r\nthree', ['one', 'two', 'three']],
		['blank lines dropped', 'one\n\n  \ntwo', ['one', 'two']],
		['escapes removed before splitting', `a${esc}]0;x\ny\u0007b\nc`, ['ab', 'c']],
		['controls removed in each line', 'a\u0007\nb\u202E', ['a', 'b']],
	])('%s', (_name, input, expected) => {
		expect(sanitizeLines(input)).toEqual(expected);
	});

	test('keeps at most maxLines', () => {
		expect(sanitizeLines('1\n2\n3\n4', 2)).toEqual(['1', '2']);
	});
});

describe('safeName', () => {
	test.each([
		['alice', 'alice'],
		['bob_2-x', 'bob_2-x'],
		['-!-', '?'],
		['Alice', '?'],
		['system', '?'],
		['', '?'],
		[`ev${esc}[2Jil`, '?'],
		['a'.repeat(33), '?'],
	])('%j → %j', (input, expected) => {
		expect(safeName(input)).toBe(expected);
	});
});

describe('sanitizeMessage', () => {
	test.each([
		['plain text', 'hello 世界 🙂', 'hello 世界 🙂'],
		['a newline stays', 'a\nb', 'a\nb'],
		['CRLF is one newline', 'a\r\nb', 'a\nb'],
		['a lone CR is a newline', 'a\rb', 'a\nb'],
		['line and paragraph separators are newlines', 'a\u2028b\u2029c', 'a\nb\nc'],
		['blank lines stay', 'a\n\n\nb', 'a\n\n\nb'],
		['tabs expand to the next multiple of 8', 'ab\tc\n\td', 'ab      c\n        d'],
		['VT, FF and NEL become spaces', 'a\u000Bb\u000Cc\u0085d', 'a b c d'],
		['escape sequences go, also across a newline', `a${esc}[2J\n${esc}]0;t\u0007b`, 'a\nb'],
		['an OSC cannot swallow the next line and smuggle it', `x${esc}]0;title\nrest`, 'x'],
		['controls and DEL go', 'a\u0000\u0007\b\u007F\u0080b', 'ab'],
		['bidi overrides go', 'abc\u202Etxt\u2066', 'abctxt'],
		['characters measured narrower than terminals draw them go', `a\u3164\u3164b\u115F\u1160\uFFA0c\u00ADd\u0600e\u{110BD}f`, 'abcdef'],
	])('%s', (_name, input, expected) => {
		expect(sanitizeMessage(input)).toBe(expected);
	});

	test('nothing of the control range but the newline survives any input', () => {
		fc.assert(
			fc.property(fc.string({unit: 'binary'}), text => {
				expect(sanitizeMessage(text)).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/);
			}),
		);
	});
});
