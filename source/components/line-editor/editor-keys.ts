import {isKey, type Key} from '../../terminal/keys.js';
import type {EditorAction} from './editor-state.js';

/** What a key does to the input line: an edit, sending the line, or nothing (the key is not ours). */
export type EditorCommand = {type: 'edit'; action: EditorAction} | {type: 'submit'} | {type: 'complete'} | undefined;

const edit = (action: EditorAction): EditorCommand => ({type: 'edit', action});

/** Each key with the readline command it runs; a key may have several spellings. */
const table: Array<[name: string, modifiers: {ctrl?: boolean; alt?: boolean; shift?: boolean}, command: EditorCommand]> = [
	['enter', {alt: true}, edit({type: 'insert', text: '\n'})],
	['a', {ctrl: true}, edit({type: 'move', to: 'start'})],
	['home', {}, edit({type: 'move', to: 'start'})],
	['e', {ctrl: true}, edit({type: 'move', to: 'end'})],
	['end', {}, edit({type: 'move', to: 'end'})],
	['b', {ctrl: true}, edit({type: 'move', to: 'char-left'})],
	['left', {}, edit({type: 'move', to: 'char-left'})],
	['f', {ctrl: true}, edit({type: 'move', to: 'char-right'})],
	['right', {}, edit({type: 'move', to: 'char-right'})],
	['b', {alt: true}, edit({type: 'move', to: 'word-left'})],
	['left', {ctrl: true}, edit({type: 'move', to: 'word-left'})],
	['left', {alt: true}, edit({type: 'move', to: 'word-left'})],
	['f', {alt: true}, edit({type: 'move', to: 'word-right'})],
	['right', {ctrl: true}, edit({type: 'move', to: 'word-right'})],
	['right', {alt: true}, edit({type: 'move', to: 'word-right'})],
	['backspace', {}, edit({type: 'delete', to: 'char-left'})],
	['backspace', {ctrl: true}, edit({type: 'kill', to: 'word-left'})],
	['backspace', {alt: true}, edit({type: 'kill', to: 'word-left'})],
	['delete', {}, edit({type: 'delete', to: 'char-right'})],
	['d', {ctrl: true}, edit({type: 'delete', to: 'char-right'})],
	['d', {alt: true}, edit({type: 'kill', to: 'word-right'})],
	['delete', {alt: true}, edit({type: 'kill', to: 'word-right'})],
	['delete', {ctrl: true}, edit({type: 'kill', to: 'word-right'})],
	['u', {ctrl: true}, edit({type: 'kill', to: 'start'})],
	['k', {ctrl: true}, edit({type: 'kill', to: 'end'})],
	['w', {ctrl: true}, edit({type: 'kill', to: 'space-word-left'})],
	['y', {ctrl: true}, edit({type: 'yank'})],
	['p', {ctrl: true}, edit({type: 'history', step: -1})],
	['n', {ctrl: true}, edit({type: 'history', step: 1})],
	['enter', {}, {type: 'submit'}],
	['tab', {}, {type: 'complete'}],
];

/** Text typed (or a key the terminal names) becomes an edit; keys the line does not use give undefined. */
export function editorCommand(key: Key): EditorCommand {
	if (key.type === 'text') return edit({type: 'insert', text: key.text});
	if (key.type !== 'key') return undefined;
	if (isKey(key, 'space')) return edit({type: 'insert', text: ' '});
	for (const [name, modifiers, command] of table) if (isKey(key, name, modifiers)) return command;
	return undefined;
}
