import {namedKey, type Key, type NamedKey} from './keys.js';

/**
 * What the escape sequences terminals send for keys mean (xterm's "PC-Style Function Keys", with
 * the rxvt and Linux console spellings): pure lookups, no state. key-decoder.ts finds where a
 * sequence ends; this says which key it was, or undefined for one we have no use for.
 */

type Modifiers = {ctrl: boolean; alt: boolean; shift: boolean};

const none: Modifiers = {ctrl: false, alt: false, shift: false};

/** xterm's modifier parameter: 1 + (1 shift, 2 alt, 4 ctrl, 8 meta, taken as alt). */
function modifiers(parameter: string | undefined): Modifiers {
	const value = Number.parseInt(parameter ?? '', 10);
	if (!Number.isSafeInteger(value) || value < 2) return none;
	const bits = value - 1;
	return {shift: (bits & 1) !== 0, alt: (bits & 2) !== 0 || (bits & 8) !== 0, ctrl: (bits & 4) !== 0};
}

/** Final bytes of `CSI [1;m] X` and `SS3 X`. */
const letterKeys: Record<string, NamedKey> = {A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end', P: 'f1', Q: 'f2', R: 'f3', S: 'f4'};

/** `CSI n ~` (and rxvt's `CSI n ^` with Ctrl, `CSI n $` with Shift). */
const tildeKeys: Record<number, NamedKey> = {
	1: 'home', 2: 'insert', 3: 'delete', 4: 'end', 5: 'pageup', 6: 'pagedown', 7: 'home', 8: 'end',
	11: 'f1', 12: 'f2', 13: 'f3', 14: 'f4', 15: 'f5', 17: 'f6', 18: 'f7', 19: 'f8', 20: 'f9', 21: 'f10', 23: 'f11', 24: 'f12',
};

/** rxvt's SS3 lower-case arrows carry Ctrl. */
const rxvtCtrlArrows: Record<string, NamedKey> = {a: 'up', b: 'down', c: 'right', d: 'left'};

/** The mouse wheel in an xterm button code (bits 4, 8 and 16 are modifiers). */
function wheel(button: number): Key | undefined {
	const base = button & ~28;
	if (base === 64) return {type: 'wheel', direction: 'up'};
	if (base === 65) return {type: 'wheel', direction: 'down'};
	return undefined;
}

export type CsiMeaning = Key | 'paste-start' | undefined;

/** `ESC [ parameters intermediates final`: a key, the start of a bracketed paste, or nothing. */
export function csiKey(parameters: string, intermediates: string, final: string): CsiMeaning {
	if (parameters.startsWith('<')) {
		// SGR mouse report: ESC [ < button ; column ; row M (press) or m (release).
		if (final !== 'M' || intermediates !== '') return undefined;
		return wheel(Number.parseInt(parameters.slice(1).split(';')[0] ?? '', 10));
	}

	// Private parameters (?, >, =) and intermediates are replies to queries, not keys.
	if (intermediates !== '' || /^[?>=]/.test(parameters)) return undefined;
	const parts = parameters.split(';');
	if (final === 'Z') return namedKey('tab', {shift: true});
	const letter = letterKeys[final];
	if (letter !== undefined && parts.length <= 2 && (parts[0] === '' || parts[0] === '1')) {
		return namedKey(letter, modifiers(parts[1]));
	}

	if (final === '~' || final === '^' || final === '$') {
		const code = Number.parseInt(parts[0] ?? '', 10);
		if (code === 200 && final === '~') return 'paste-start';
		const name = tildeKeys[code];
		if (name === undefined) return undefined;
		const base = modifiers(parts[1]);
		return namedKey(name, {...base, ctrl: base.ctrl || final === '^', shift: base.shift || final === '$'});
	}

	return undefined;
}

/** `ESC O x`: arrows, Home, End and F1-F4 in application mode, Enter on the keypad, rxvt's Ctrl+arrows. */
export function ss3Key(final: string): Key | undefined {
	if (final === 'M') return namedKey('enter');
	const letter = letterKeys[final];
	if (letter !== undefined) return namedKey(letter);
	const arrow = rxvtCtrlArrows[final];
	return arrow === undefined ? undefined : namedKey(arrow, {ctrl: true});
}

/** The Linux console's F1-F5: `ESC [ [ A` to `ESC [ [ E`. */
export function linuxFunctionKey(final: string): Key | undefined {
	const index = 'ABCDE'.indexOf(final);
	return index === -1 ? undefined : namedKey(`f${index + 1}` as NamedKey);
}

/** An old xterm X10 mouse report, `ESC [ M b x y`, with its three bytes after the M. */
export function x10Mouse(button: string): Key | undefined {
	return wheel(button.charCodeAt(0) - 32);
}

/** A C0 control character or DEL as the key it is (Ctrl+letter for most), with `alt` when ESC came first. */
export function controlKey(code: number, alt = false): Key | undefined {
	if (code === 0x0d || code === 0x0a) return namedKey('enter', {alt});
	if (code === 0x09) return namedKey('tab', {alt});
	if (code === 0x7f || code === 0x08) return namedKey('backspace', {alt});
	if (code === 0x00) return namedKey('space', {ctrl: true, alt});
	if (code === 0x1b) return namedKey('escape', {alt});
	if (code >= 0x01 && code <= 0x1a) return namedKey(String.fromCharCode(code + 0x60), {ctrl: true, alt});
	if (code >= 0x1c && code <= 0x1f) return namedKey(String.fromCharCode(code + 0x40), {ctrl: true, alt});
	return undefined;
}
