import {controlKey, csiKey, linuxFunctionKey, ss3Key, x10Mouse} from './escape-sequences.js';
import type {Key} from './keys.js';

export type KeyDecoderOptions = {
	/** A bracketed paste keeps this many characters; the rest is counted, not kept (`truncated`). */
	maxPasteChars?: number;
	/** An escape sequence longer than this (at least 8) is not one a key makes: it is dropped, not buffered. */
	maxSequenceChars?: number;
};

const escape = '\u001B';
const pasteEnd = '\u001B[201~';

/** Where a sequence starting at an ESC ends, and what it meant; `pending` when the input stops inside it. */
type Step = {end: number; key?: Key; paste?: true} | 'pending';

function isControl(code: number): boolean {
	return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

function isHighSurrogate(code: number): boolean {
	return code >= 0xd8_00 && code <= 0xdb_ff;
}

/**
 * Turns what a terminal sends in raw mode (already decoded from UTF-8) into keys: text, named keys
 * with their modifiers, bracketed pastes and the mouse wheel. It never throws, and what it keeps
 * between chunks is bounded: an unfinished escape sequence (at most maxSequenceChars) and an
 * unfinished paste (at most maxPasteChars). Sequences it does not know produce nothing; C1
 * controls are dropped. Input split anywhere decodes as it would in one piece, apart from what
 * the caller flushes after a silence (flushPending, endPaste).
 */
export class KeyDecoder {
	readonly #maxPasteChars: number;
	readonly #maxSequenceChars: number;
	/** The unfinished end of the last chunk: an escape sequence, a high surrogate, or a paste marker's start. */
	#pending = '';
	#paste: {text: string; truncated: boolean} | undefined;

	constructor(options: KeyDecoderOptions = {}) {
		this.#maxPasteChars = limit(options.maxPasteChars, 65_536, 0);
		// Below 8 not even an arrow key with modifiers (ESC [ 1 ; 5 D) would fit.
		this.#maxSequenceChars = limit(options.maxSequenceChars, 256, 8);
	}

	get pendingEscape(): boolean {
		return this.#paste === undefined && this.#pending !== '';
	}

	get inPaste(): boolean {
		return this.#paste !== undefined;
	}

	/** Characters held between chunks (for tests of the bound). */
	get retainedChars(): number {
		return this.#pending.length + (this.#paste?.text.length ?? 0);
	}

	push(chunk: string): Key[] {
		const input = this.#pending + chunk;
		this.#pending = '';
		const keys: Key[] = [];
		let index = 0;
		while (index < input.length) {
			if (this.#paste !== undefined) {
				index = this.#pasteStep(input, index, keys);
				continue;
			}

			const code = input.charCodeAt(index);
			if (code === 0x1b) {
				const step = this.#escapeStep(input, index);
				if (step === 'pending') {
					this.#pending = input.slice(index);
					break;
				}

				if (step.key !== undefined) keys.push(step.key);
				if (step.paste) this.#paste = {text: '', truncated: false};
				index = step.end;
			} else if (isControl(code)) {
				const key = controlKey(code);
				if (key !== undefined) keys.push(key);
				index++;
			} else {
				let end = index;
				while (end < input.length && !isControl(input.charCodeAt(end))) end++;
				// A surrogate pair cut between chunks waits for its second half.
				if (end === input.length && isHighSurrogate(input.charCodeAt(end - 1))) {
					this.#pending = input.slice(end - 1);
					end--;
				}

				if (end > index) pushText(keys, wellFormed(input.slice(index, end)));
				if (this.#pending !== '') break;
				index = end;
			}
		}

		return keys;
	}

	/** The input went quiet inside an escape sequence: a lone ESC is the Escape key, anything else is dropped. */
	flushPending(): Key[] {
		if (this.#paste !== undefined) return [];
		const pending = this.#pending;
		this.#pending = '';
		if (pending === escape) return [controlKey(0x1b)!];
		if (pending === `${escape}${escape}`) return [controlKey(0x1b, true)!];
		if (pending.length === 1 && isHighSurrogate(pending.charCodeAt(0))) return [{type: 'text', text: '\uFFFD'}];
		return [];
	}

	/** The input went quiet inside a paste whose end marker never came: the paste ends here. */
	endPaste(): Key[] {
		const paste = this.#paste;
		if (paste === undefined) return [];
		this.#paste = undefined;
		this.#appendPaste(paste, this.#pending);
		this.#pending = '';
		return paste.text === '' && !paste.truncated ? [] : [{type: 'paste', text: wellFormed(paste.text), truncated: paste.truncated}];
	}

	#appendPaste(paste: {text: string; truncated: boolean}, text: string): void {
		if (paste.truncated) return;
		const room = this.#maxPasteChars - paste.text.length;
		if (text.length <= room) {
			paste.text += text;
			return;
		}

		paste.truncated = true;
		paste.text += text.slice(0, room);
		// Half an emoji at the cut would come out as U+FFFD: the kept text ends before it instead.
		if (isHighSurrogate(paste.text.charCodeAt(paste.text.length - 1))) paste.text = paste.text.slice(0, -1);
	}

	/** Inside a paste: everything up to the end marker is the paste's, raw. */
	#pasteStep(input: string, index: number, keys: Key[]): number {
		const paste = this.#paste!;
		const end = input.indexOf(pasteEnd, index);
		if (end !== -1) {
			this.#appendPaste(paste, input.slice(index, end));
			this.#paste = undefined;
			keys.push({type: 'paste', text: wellFormed(paste.text), truncated: paste.truncated});
			return end + pasteEnd.length;
		}

		// Keep what could be the start of the end marker, cut by the chunk's end.
		let keep = Math.min(pasteEnd.length - 1, input.length - index);
		while (keep > 0 && !pasteEnd.startsWith(input.slice(input.length - keep))) keep--;
		this.#appendPaste(paste, input.slice(index, input.length - keep));
		this.#pending = input.slice(input.length - keep);
		return input.length;
	}

	/** At an ESC: the sequence it starts, where it ends, and the key it makes. */
	#escapeStep(input: string, start: number): Step {
		const next = input[start + 1];
		if (next === undefined) return 'pending';
		if (next === '[') return this.#csiStep(input, start);
		if (next === 'O') {
			const final = input[start + 2];
			if (final === undefined) return 'pending';
			return {end: start + 3, key: ss3Key(final)};
		}

		if (next === ']' || next === 'P' || next === 'X' || next === '^' || next === '_') return this.#stringStep(input, start);
		if (next === escape) {
			// Old xterm meta: ESC before a whole sequence adds Alt to it.
			const after = input[start + 2];
			if (after === undefined) return 'pending';
			if (after === '[' || after === 'O') {
				const inner = this.#escapeStep(input, start + 1);
				if (inner === 'pending' || inner.key?.type !== 'key') return inner;
				return {...inner, key: {...inner.key, alt: true}};
			}

			return {end: start + 2, key: controlKey(0x1b, true)};
		}

		const code = input.charCodeAt(start + 1);
		if (code < 0x20 || code === 0x7f) return {end: start + 2, key: controlKey(code, true)};
		// C1 after ESC: the ESC alone is the Escape key; the C1 is dropped by the main loop.
		if (code >= 0x80 && code <= 0x9f) return {end: start + 1, key: controlKey(0x1b)};
		const point = input.codePointAt(start + 1)!;
		if (isHighSurrogate(code) && start + 2 >= input.length) return 'pending';
		const character = wellFormed(String.fromCodePoint(point));
		const lower = character.toLowerCase();
		return {end: start + 1 + (point > 0xff_ff ? 2 : 1), key: {type: 'key', name: lower, ctrl: false, alt: true, shift: lower !== character}};
	}

	#csiStep(input: string, start: number): Step {
		const first = input[start + 2];
		if (first === undefined) return 'pending';
		if (first === 'M') {
			// X10 mouse: three raw characters follow, whatever they are.
			if (input.length < start + 6) return 'pending';
			return {end: start + 6, key: x10Mouse(input[start + 3]!)};
		}

		if (first === '[') {
			const final = input[start + 3];
			if (final === undefined) return 'pending';
			return {end: start + 4, key: linuxFunctionKey(final)};
		}

		// Given up after maxSequenceChars wherever the chunks end, so that split input decodes the same.
		const giveUp = start + this.#maxSequenceChars;
		let index = start + 2;
		while (index < input.length && index < giveUp && input.charCodeAt(index) >= 0x30 && input.charCodeAt(index) <= 0x3f) index++;
		const parametersEnd = index;
		while (index < input.length && index < giveUp && input.charCodeAt(index) >= 0x20 && input.charCodeAt(index) <= 0x2f) index++;
		if (index === giveUp) return {end: giveUp};
		if (index === input.length) return 'pending';
		const code = input.charCodeAt(index);
		// CAN and SUB cancel the sequence and go with it.
		if (code === 0x18 || code === 0x1a) return {end: index + 1};
		// Anything else but a final byte breaks the sequence: what was read of it is dropped.
		if (code < 0x40 || code > 0x7e) return {end: index};
		const meaning = csiKey(input.slice(start + 2, parametersEnd), input.slice(parametersEnd, index), input[index]!);
		if (meaning === 'paste-start') return {end: index + 1, paste: true};
		return {end: index + 1, key: meaning};
	}

	/**
	 * OSC, DCS, SOS, PM and APC strings (a terminal's replies): dropped whole, up to BEL or ST. An
	 * ESC that does not start ST ends the string too, and CAN or SUB cancels it. A string longer
	 * than maxSequenceChars is abandoned: its introducer is dropped and the rest decoded as input,
	 * so that a stray OSC cannot swallow what is typed after it.
	 */
	#stringStep(input: string, start: number): Step {
		for (let index = start + 2; index < input.length; index++) {
			if (index - start > this.#maxSequenceChars) return {end: start + 2};
			const code = input.charCodeAt(index);
			if (code === 0x07 || code === 0x18 || code === 0x1a) return {end: index + 1};
			if (code === 0x1b) {
				if (index + 1 === input.length) return 'pending';
				return {end: input[index + 1] === '\\' ? index + 2 : index};
			}
		}

		return input.length - start > this.#maxSequenceChars ? {end: start + 2} : 'pending';
	}
}

function limit(value: number | undefined, fallback: number, minimum: number): number {
	return value !== undefined && Number.isFinite(value) ? Math.max(minimum, Math.floor(value)) : fallback;
}

/** Lone surrogate halves (never typed, but a string can hold them) become U+FFFD. */
function wellFormed(text: string): string {
	return text.replace(/\p{Cs}/gu, '\uFFFD');
}

/** Adds typed text, joined to the text key before it if there is one. */
function pushText(keys: Key[], text: string): void {
	const last = keys.at(-1);
	if (last?.type === 'text') keys[keys.length - 1] = {type: 'text', text: last.text + text};
	else keys.push({type: 'text', text});
}
