import {useCallback, useRef, useState} from 'react';
import type {Key} from '../../terminal/keys.js';
import {sanitizeMessage} from '../../sanitize.js';
import {editorCommand} from './editor-keys.js';
import {createEditorState, editorReducer, type EditorAction, type EditorState} from './editor-state.js';

/**
 * What the input holds at most: twice what a message may hold (8 KiB of UTF-8, checked when it is
 * sent), so that a paste a little too long can be trimmed in place, while laying out the input on
 * every key stays cheap.
 */
export const maxInputChars = 16_384;

export type LineEditorOptions = {
	/** Enter: return false when the text was not sent; it then stays in the input. */
	onSubmit: (text: string) => boolean;
	/** Something the person should know about their input (a refused paste, a message too long). */
	onNotice?: (text: string) => void;
	/** Candidates for Tab: `first` is true for the line's first word. */
	complete?: (word: string, first: boolean) => readonly string[];
	/** Past this many UTF-8 bytes a paste is still taken, but the person is told it cannot be sent as it is. */
	maxMessageBytes?: number;
};

export type LineEditor = {
	state: EditorState;
	/** Runs a key; false when the input line has no use for it. */
	handle(key: Key): boolean;
};

/**
 * The input line's keys: each key is applied, in order, to the latest state (held in a ref, since
 * a burst of keys arrives before React renders), and the view gets the result.
 */
export function useLineEditor(options: LineEditorOptions): LineEditor {
	const current = useRef<EditorState>(createEditorState());
	const [state, setState] = useState(current.current);
	const latest = useRef(options);
	latest.current = options;

	const handle = useCallback((key: Key): boolean => {
		const {onSubmit, onNotice, complete, maxMessageBytes = Infinity} = latest.current;
		const apply = (action: EditorAction) => {
			const next = editorReducer(current.current, action);
			if (next === current.current) return;
			// Whatever grows the text (typing, a paste, Ctrl+Y, a history entry, Tab) stays within the bound.
			if (next.value.length > maxInputChars && next.value.length > current.current.value.length) {
				onNotice?.(`The input holds at most ${maxInputChars.toLocaleString('en')} characters.`);
				return;
			}

			current.current = next;
			setState(next);
		};

		if (key.type === 'paste') {
			const text = sanitizeMessage(key.text);
			const room = maxInputChars - current.current.value.length;
			if (key.truncated || text.length > room) {
				onNotice?.(`Paste refused: the input holds at most ${maxInputChars.toLocaleString('en')} characters; nothing was inserted.`);
				return true;
			}

			apply({type: 'insert', text});
			const bytes = Buffer.byteLength(current.current.value, 'utf8');
			if (bytes > maxMessageBytes) {
				onNotice?.(`The input is ${bytes.toLocaleString('en')} bytes; a message is at most ${maxMessageBytes.toLocaleString('en')}: shorten it before sending.`);
			}

			return true;
		}

		const command = editorCommand(key);
		if (command === undefined) return false;
		if (command.type === 'submit') {
			const text = current.current.value;
			if (text.trim() === '') return true;
			if (onSubmit(text)) apply({type: 'sent'});
			return true;
		}

		if (command.type === 'complete') {
			if (complete !== undefined) apply({type: 'complete', complete});
			return true;
		}

		let {action} = command;
		// Typed text holds no controls (the decoder saw to that), but may hold bidi overrides.
		if (action.type === 'insert' && key.type === 'text') action = {type: 'insert', text: sanitizeMessage(action.text)};
		apply(action);
		return true;
	}, []);

	return {state, handle};
}
