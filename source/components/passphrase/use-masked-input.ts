import {useRef, useState} from 'react';
import {useKeys} from '../../hooks/use-keys.js';
import {isKey, type Key} from '../../terminal/keys.js';

/** The longest passphrase taken, in characters: a bound on a paste, far above any real one. */
export const maxPassphraseChars = 1024;

export type MaskedInputOptions = {
	/** Enter, with what was typed (possibly empty). The input is empty again when this is called. */
	onSubmit: (value: string) => void;
	/** Esc. */
	onCancel?: () => void;
	active?: boolean;
};

/** Control characters and line breaks, which a passphrase never holds (a paste may bring them). */
const controls = /[\u0000-\u001F\u007F-\u009F]/g;

/**
 * A line whose text is never shown: it lives in a ref, not in React state, and only its length
 * (for one • per character) is rendered. No history, no kill ring, no completion: nothing typed
 * here is kept anywhere once Enter or Esc has been pressed.
 */
export function useMaskedInput({onSubmit, onCancel, active = true}: MaskedInputOptions): {length: number} {
	const value = useRef('');
	const [length, setLength] = useState(0);
	const set = (next: string) => {
		value.current = next;
		setLength([...next].length);
	};

	const append = (text: string) => {
		const room = maxPassphraseChars - [...value.current].length;
		set(value.current + [...text.replace(controls, '')].slice(0, Math.max(room, 0)).join(''));
	};

	useKeys(
		(key: Key) => {
			if (key.type === 'text') append(key.text);
			else if (key.type === 'paste') append(key.text);
			else if (isKey(key, 'space')) append(' ');
			else if (isKey(key, 'enter')) {
				const typed = value.current;
				set('');
				onSubmit(typed);
			} else if (isKey(key, 'escape')) {
				set('');
				onCancel?.();
			} else if (isKey(key, 'backspace') || isKey(key, 'h', {ctrl: true})) set([...value.current].slice(0, -1).join(''));
			else if (isKey(key, 'u', {ctrl: true}) || isKey(key, 'w', {ctrl: true})) set('');
		},
		{active},
	);

	return {length};
}
