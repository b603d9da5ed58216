import fc from 'fast-check';
import {describe, expect, test} from 'vitest';
import {KeyDecoder, type KeyDecoderOptions} from '../../source/terminal/key-decoder.js';
import {namedKey, type Key} from '../../source/terminal/keys.js';

const esc = '\u001B';

/** Everything `input` decodes to, flushed at the end as after a silence. */
function decode(input: string | string[], options?: KeyDecoderOptions): Key[] {
	const decoder = new KeyDecoder(options);
	const keys = (Array.isArray(input) ? input : [input]).flatMap(chunk => decoder.push(chunk));
	return [...keys, ...decoder.flushPending(), ...decoder.endPaste()];
}

const text = (value: string): Key => ({type: 'text', text: value});
const key = namedKey;
const ctrl = (name: string) => namedKey(name, {ctrl: true});
const alt = (name: string, shift = false) => namedKey(name, {alt: true, shift});

describe('KeyDecoder', () => {
	test.each<[string, string, Key[]]>([
		['plain text is one key', 'hello, 世界 🙂', [text('hello, 世界 🙂')]],
		['Enter (CR and LF)', 'a\rb\n', [text('a'), key('enter'), text('b'), key('enter')]],
		['Tab and Shift+Tab', `\t${esc}[Z`, [key('tab'), namedKey('tab', {shift: true})]],
		['Backspace (DEL and BS)', '\u007F\b', [key('backspace'), key('backspace')]],
		['Ctrl+letters', '\u0001\u0005\u0015\u000B\u0017\u0019\u0010\u000E\u0003', ['a', 'e', 'u', 'k', 'w', 'y', 'p', 'n', 'c'].map(ctrl)],
		['NUL is Ctrl+Space', '\u0000', [namedKey('space', {ctrl: true})]],
		['Ctrl+\\ ] ^ _', '\u001C\u001D\u001E\u001F', ['\\', ']', '^', '_'].map(ctrl)],
		['x then a colour code: the code is dropped (it used to end the client)', `x${esc}[31m`, [text('x')]],
		['arrows, xterm and application mode', `${esc}[A${esc}[B${esc}OC${esc}OD`, [key('up'), key('down'), key('right'), key('left')]],
		['Home and End, every spelling', `${esc}[H${esc}[F${esc}OH${esc}OF${esc}[1~${esc}[4~${esc}[7~${esc}[8~`, [key('home'), key('end'), key('home'), key('end'), key('home'), key('end'), key('home'), key('end')]],
		['Ctrl+Left and Ctrl+Right, xterm and rxvt', `${esc}[1;5D${esc}[1;5C${esc}Od${esc}Oc`, [ctrl('left'), ctrl('right'), ctrl('left'), ctrl('right')]],
		['Alt+arrows (xterm and old meta)', `${esc}[1;3D${esc}${esc}[C`, [alt('left'), alt('right')]],
		['Alt+Right, Ctrl+PgUp, Alt+Delete', `${esc}[1;3C${esc}[5;5~${esc}[3;3~`, [alt('right'), ctrl('pageup'), alt('delete')]],
		['meta (bit 8) counts as Alt', `${esc}[1;9D`, [alt('left')]],
		['old meta before SS3 and before a modified key', `${esc}${esc}OA${esc}${esc}[1;5D`, [alt('up'), namedKey('left', {ctrl: true, alt: true})]],
		['PgUp, PgDn, Delete, Insert', `${esc}[5~${esc}[6~${esc}[3~${esc}[2~`, [key('pageup'), key('pagedown'), key('delete'), key('insert')]],
		['Ctrl+Home and Ctrl+End, xterm and rxvt', `${esc}[1;5H${esc}[1;5F${esc}[7^${esc}[8^`, [ctrl('home'), ctrl('end'), ctrl('home'), ctrl('end')]],
		['Alt+Home', `${esc}[1;3H`, [alt('home')]],
		['Shift+Ctrl+Up', `${esc}[1;6A`, [namedKey('up', {ctrl: true, shift: true})]],
		['function keys', `${esc}OP${esc}[15~${esc}[24~${esc}[[A`, [key('f1'), key('f5'), key('f12'), key('f1')]],
		['F6 to F11, Shift+F1', `${esc}[17~${esc}[21~${esc}[23~${esc}[1;2P`, [key('f6'), key('f10'), key('f11'), namedKey('f1', {shift: true})]],
		['keypad Enter (SS3 M); an unknown SS3 is dropped', `${esc}OM${esc}Ox`, [key('enter')]],
		['Alt+b, Alt+f, Alt+d, Alt+<', `${esc}b${esc}f${esc}d${esc}<`, [alt('b'), alt('f'), alt('d'), alt('<')]],
		['Alt+B is Alt+b with Shift', `${esc}B`, [alt('b', true)]],
		['Alt+Backspace and Alt+Enter', `${esc}\u007F${esc}\r`, [alt('backspace'), alt('enter')]],
		['Alt+Ctrl+A', `${esc}\u0001`, [namedKey('a', {ctrl: true, alt: true})]],
		['Alt+emoji', `${esc}🙂`, [alt('🙂')]],
		['a lone ESC at the end is Escape, after the silence', `a${esc}`, [text('a'), key('escape')]],
		['ESC ESC is Alt+Escape', `${esc}${esc}`, [alt('escape')]],
		['focus reports and replies to queries are dropped', `${esc}[I${esc}[O${esc}[?1;2c${esc}[?2004;1$y${esc}[12;40R`, []],
		['unknown CSI is dropped, text around it stays', `a${esc}[99zb`, [text('ab')]],
		['a CSI broken by a control: what was read of it goes, the control counts', `${esc}[12\rA`, [key('enter'), text('A')]],
		['an unknown final byte ends a CSI that is then dropped', `${esc}[1xy`, [text('y')]],
		['CAN and SUB cancel a CSI and go with it', `${esc}[1;\u0018a${esc}[2\u001Ab`, [text('ab')]],
		['SOS and PM are dropped like OSC', `${esc}Xsos${esc}\\a${esc}^pm\u0007b`, [text('ab')]],
		['a CSI broken by ESC: the next sequence decodes', `${esc}[12;${esc}[A`, [key('up')]],
		['OSC ended by BEL, by ST, by a new ESC', `${esc}]11;rgb:0/0/0\u0007a${esc}]0;t${esc}\\b${esc}]0;t${esc}[Ac`, [text('ab'), key('up'), text('c')]],
		['DCS and APC are dropped', `${esc}P1$r0m${esc}\\x${esc}_hidden${esc}\\y`, [text('xy')]],
		['CAN cancels a string', `${esc}]0;abc\u0018z`, [text('z')]],
		['C1 characters are dropped, 8-bit CSI included', 'a\u0085b\u009B31mc', [text('ab31mc')]],
		['ESC before a C1 is Escape; the C1 goes', `${esc}\u0090x`, [key('escape'), text('x')]],
		['U+FFFD (bytes that were no UTF-8) is text', '\uFFFD', [text('\uFFFD')]],
		['a lone surrogate becomes U+FFFD', 'a\uD800b\uDC00', [text('a\uFFFDb\uFFFD')]],
		['SGR mouse wheel, with and without modifiers; clicks dropped', `${esc}[<64;10;5M${esc}[<65;1;1M${esc}[<80;1;1M${esc}[<0;3;3M${esc}[<0;3;3m`, [{type: 'wheel', direction: 'up'}, {type: 'wheel', direction: 'down'}, {type: 'wheel', direction: 'up'}]],
		['X10 mouse wheel; its three bytes are eaten whatever they are', `${esc}[M\u0060!!${esc}[Ma${esc}!x`, [{type: 'wheel', direction: 'up'}, {type: 'wheel', direction: 'down'}, text('x')]],
		['bracketed paste: raw, controls and colours inside', `${esc}[200~line 1\r\n${esc}[31mred\u0000${esc}[201~after`, [{type: 'paste', text: `line 1\r\n${esc}[31mred\u0000`, truncated: false}, text('after')]],
		['a paste start inside a paste is content', `${esc}[200~a${esc}[200~b${esc}[201~`, [{type: 'paste', text: `a${esc}[200~b`, truncated: false}]],
		['a paste end outside a paste is ignored', `${esc}[201~x`, [text('x')]],
		['a paste whose end never comes ends after the silence', `${esc}[200~abc${esc}[20`, [{type: 'paste', text: `abc${esc}[20`, truncated: false}]],
	])('%s', (_name, input, expected) => {
		expect(decode(input)).toEqual(expected);
	});

	test('a paste end marker cut at every point still ends the paste', () => {
		const whole = `${esc}[200~hello${esc}[201~x`;
		for (let cut = 1; cut < whole.length; cut++) {
			expect(decode([whole.slice(0, cut), whole.slice(cut)])).toEqual([{type: 'paste', text: 'hello', truncated: false}, text('x')]);
		}
	});

	test('a paste cut inside a surrogate pair keeps the text before it, whatever the chunks', () => {
		const whole = `${esc}[200~ab🙂cd${esc}[201~`;
		const expected = [{type: 'paste', text: 'ab', truncated: true}];
		expect(decode(whole, {maxPasteChars: 3})).toEqual(expected);
		for (let cut = 1; cut < whole.length; cut++) expect(decode([whole.slice(0, cut), whole.slice(cut)], {maxPasteChars: 3})).toEqual(expected);
		expect(decode(`${esc}[200~ab🙂${esc}[201~`, {maxPasteChars: 4})).toEqual([{type: 'paste', text: 'ab🙂', truncated: false}]);
	});

	test('a CSI longer than maxSequenceChars is given up at the same point however the input is cut', () => {
		const whole = `${esc}[${'1'.repeat(30)}A`;
		// The first 16 characters go; decoding resumes after them.
		const expected = [text(`${'1'.repeat(16)}A`)];
		for (let cut = 0; cut <= whole.length; cut++) expect(joined(decode([whole.slice(0, cut), whole.slice(cut)], {maxSequenceChars: 16}))).toEqual(expected);
		const sixteen = `${esc}[<64;100;10000M`;
		expect(decode(sixteen, {maxSequenceChars: 16})).toEqual([{type: 'wheel', direction: 'up'}]);
		expect(decode(sixteen, {maxSequenceChars: 15})).toEqual([text('M')]);
	});

	test('a lone ESC waits for the next chunk, then is Alt or Escape', () => {
		const decoder = new KeyDecoder();
		expect(decoder.push(esc)).toEqual([]);
		expect(decoder.pendingEscape).toBe(true);
		expect(decoder.push('b')).toEqual([alt('b')]);
		expect(decoder.pendingEscape).toBe(false);
		decoder.push(esc);
		expect(decoder.flushPending()).toEqual([key('escape')]);
		expect(decoder.push('b')).toEqual([text('b')]);
	});

	test('a silence does not end a paste; endPaste does, once', () => {
		const decoder = new KeyDecoder();
		decoder.push(`${esc}[200~abc${esc}`);
		expect(decoder.flushPending()).toEqual([]);
		expect(decoder.inPaste).toBe(true);
		expect(decoder.endPaste()).toEqual([{type: 'paste', text: `abc${esc}`, truncated: false}]);
		expect(decoder.endPaste()).toEqual([]);
		expect(decoder.push('x')).toEqual([text('x')]);
		decoder.push(`${esc}[200~`);
		expect(decoder.endPaste()).toEqual([]);
	});

	test('limits below their minimum are raised', () => {
		for (const maxSequenceChars of [0, -1, Number.NaN, 2.5]) expect(decode(`${esc}[1;5D`, {maxSequenceChars, maxPasteChars: Number.NaN})).toEqual([ctrl('left')]);
	});

	test('a paste longer than kept is truncated, and memory stays bounded', () => {
		const decoder = new KeyDecoder({maxPasteChars: 1000});
		expect(decoder.push(`${esc}[200~`)).toEqual([]);
		for (let index = 0; index < 100; index++) decoder.push('y'.repeat(10_000));
		expect(decoder.retainedChars).toBeLessThanOrEqual(1000 + 5);
		expect(decoder.inPaste).toBe(true);
		const [paste] = decoder.push(`${esc}[201~`);
		expect(paste).toEqual({type: 'paste', text: 'y'.repeat(1000), truncated: true});
	});

	test('an endless escape sequence is given up, not buffered', () => {
		const decoder = new KeyDecoder({maxSequenceChars: 64});
		decoder.push(`${esc}[`);
		for (let index = 0; index < 1000; index++) decoder.push('1;');
		expect(decoder.retainedChars).toBeLessThanOrEqual(70);
		const osc = new KeyDecoder({maxSequenceChars: 64});
		expect(osc.push(`${esc}]0;${'t'.repeat(100)}`)).toEqual([text(`0;${'t'.repeat(100)}`)]);
	});

	test('pendingEscape and inPaste tell the caller when a silence matters', () => {
		const decoder = new KeyDecoder();
		decoder.push(`${esc}[1;`);
		expect(decoder.pendingEscape).toBe(true);
		expect(decoder.flushPending()).toEqual([]);
		expect(decoder.pendingEscape).toBe(false);
		decoder.push(`${esc}[200~x`);
		expect(decoder.inPaste).toBe(true);
		expect(decoder.pendingEscape).toBe(false);
	});
});

const fragment = fc.oneof(
	fc.constantFrom(esc, `${esc}[`, `${esc}[200~`, `${esc}[201~`, `${esc}O`, `${esc}]`, `${esc}P`, '\u0007', `${esc}\\`, '[', ';', '<', 'M', '~', '1', '5', '64', '1;5', '11111111', 'A', 'Z', '\r', '\u007F', '\u0000', 'a', 'é', '🙂', '\uD83D', '\uDE42', '\u009B', '\u0018'),
	fc.string({unit: 'binary', maxLength: 8}),
);
/** The defaults, and limits small enough for random input to cross them. */
const limits = fc.constantFrom<KeyDecoderOptions>({}, {maxSequenceChars: 12, maxPasteChars: 6});
const inputs = fc.array(fragment, {maxLength: 40}).map(parts => parts.join(''));

/** Keys with neighbouring text keys joined: how text is split into keys depends on chunks. */
function joined(keys: Key[]): Key[] {
	const out: Key[] = [];
	for (const one of keys) {
		const last = out.at(-1);
		if (one.type === 'text' && last?.type === 'text') out[out.length - 1] = text(last.text + one.text);
		else out.push(one);
	}

	return out;
}

describe('KeyDecoder on any input', () => {
	test('never throws, and text keys hold no control characters', () => {
		fc.assert(
			fc.property(fc.oneof(inputs, fc.string({unit: 'binary', maxLength: 200})), limits, (input, options) => {
				for (const one of decode(input, options)) {
					if (one.type === 'text') expect(one.text).not.toMatch(/[\u0000-\u001F\u007F-\u009F]|\p{Cs}/u);
				}
			}),
			{numRuns: 2000},
		);
	});

	test('cut into chunks anywhere, decodes as in one piece', () => {
		fc.assert(
			fc.property(inputs, fc.array(fc.nat(), {maxLength: 6}), limits, (input, cuts, options) => {
				const points = [...new Set(cuts.map(cut => cut % (input.length + 1)))].sort((a, b) => a - b);
				const chunks = [0, ...points].map((start, index) => input.slice(start, points[index] ?? input.length));
				expect(joined(decode(chunks, options))).toEqual(joined(decode(input, options)));
			}),
			{numRuns: 2000},
		);
	});

	test('holds at most a bounded amount between chunks', () => {
		fc.assert(
			fc.property(fc.array(inputs, {maxLength: 30}), chunks => {
				const decoder = new KeyDecoder({maxPasteChars: 500, maxSequenceChars: 64});
				for (const chunk of chunks) {
					decoder.push(chunk);
					expect(decoder.retainedChars).toBeLessThanOrEqual(500 + 64 + 8);
				}
			}),
		);
	});

	test('keeps none of a megabyte of hostile input beyond its bounds', () => {
		const [pieces] = fc.sample(fc.array(fragment, {minLength: 20_000, maxLength: 20_000}), {numRuns: 1, seed: 42});
		const megabyte = pieces!.join('').repeat(10).slice(0, 1 << 20);
		const decoder = new KeyDecoder({maxPasteChars: 500, maxSequenceChars: 64});
		for (let start = 0; start < megabyte.length; start += 65_536) {
			decoder.push(megabyte.slice(start, start + 65_536));
			expect(decoder.retainedChars).toBeLessThanOrEqual(500 + 64 + 8);
		}
	});
});
