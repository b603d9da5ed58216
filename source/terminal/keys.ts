/**
 * What a person did at the keyboard (or with the mouse wheel), decoded from the bytes a terminal
 * sends (key-decoder.ts). Everything a terminal can deliver becomes one of these or nothing.
 */

/** Keys with a name of their own. */
export type NamedKey =
	| 'up'
	| 'down'
	| 'left'
	| 'right'
	| 'home'
	| 'end'
	| 'pageup'
	| 'pagedown'
	| 'insert'
	| 'delete'
	| 'backspace'
	| 'enter'
	| 'tab'
	| 'escape'
	| 'space'
	| `f${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12}`;

export type Key =
	/** Printable text typed without Ctrl or Alt: one or more characters, never a control character. */
	| {type: 'text'; text: string}
	/**
	 * A named key, or a character typed with Ctrl and/or Alt: `name` is then that character, lower
	 * case for letters (Ctrl+A is {name: 'a', ctrl: true}, Alt+b is {name: 'b', alt: true}).
	 */
	| {type: 'key'; name: NamedKey | string; ctrl: boolean; alt: boolean; shift: boolean}
	/**
	 * A bracketed paste (mode 2004), as it came: it may hold line breaks, control characters and
	 * escape sequences; the receiver sanitises it. `truncated`: it was longer than the decoder keeps,
	 * and only its beginning is in `text`.
	 */
	| {type: 'paste'; text: string; truncated: boolean}
	/** The mouse wheel, when mouse reporting is on. */
	| {type: 'wheel'; direction: 'up' | 'down'};

export function namedKey(name: NamedKey | string, modifiers: Partial<{ctrl: boolean; alt: boolean; shift: boolean}> = {}): Key {
	return {type: 'key', name, ctrl: modifiers.ctrl ?? false, alt: modifiers.alt ?? false, shift: modifiers.shift ?? false};
}

/** Whether `key` is the named key with exactly these modifiers (unlisted modifiers must be off). */
export function isKey(key: Key, name: NamedKey | string, modifiers: Partial<{ctrl: boolean; alt: boolean; shift: boolean}> = {}): boolean {
	return (
		key.type === 'key' &&
		key.name === name &&
		key.ctrl === (modifiers.ctrl ?? false) &&
		key.alt === (modifiers.alt ?? false) &&
		key.shift === (modifiers.shift ?? false)
	);
}
