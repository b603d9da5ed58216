import type {SidebarEntry} from '../hooks/chat-state/conversations.js';
import {everyone, statusView} from '../hooks/chat-state/types.js';
import {sanitizeText} from '../sanitize.js';
import {isKey, type Key} from '../terminal/keys.js';

/** The search field keeps at most this many characters (a username is at most 32). */
export const maxSearchChars = 64;

/** What a key does to the open search field: a new text, Enter, Esc, or nothing (undefined). */
export type SearchStep = {type: 'edit'; query: string} | {type: 'submit'} | {type: 'close'} | undefined;

/** Typing, pasting, Backspace, Ctrl+U, Ctrl+W edit; Enter submits; Esc and Ctrl+G close; other keys do nothing. */
export function searchKey(query: string, key: Key): SearchStep {
	if (key.type === 'text' || key.type === 'paste') {
		// One line of printable text: a name has no spaces, so none is kept.
		const typed = sanitizeText(key.text).replace(/\s+/g, '');
		return {type: 'edit', query: [...`${query}${typed}`].slice(0, maxSearchChars).join('')};
	}
	if (isKey(key, 'backspace')) return {type: 'edit', query: [...query].slice(0, -1).join('')};
	if (isKey(key, 'u', {ctrl: true}) || isKey(key, 'w', {ctrl: true}) || isKey(key, 'backspace', {alt: true})) return {type: 'edit', query: ''};
	if (isKey(key, 'enter')) return {type: 'submit'};
	if (isKey(key, 'escape') || isKey(key, 'g', {ctrl: true})) return {type: 'close'};
	return undefined;
}

/**
 * The people whose name holds the search text (case-folded), in sidebar order: contacts, then
 * those shown online. The first is marked selected: Enter opens it.
 */
export function matchingEntries(entries: readonly SidebarEntry[], query: string): SidebarEntry[] {
	const wanted = query.trim().toLowerCase();
	return entries
		.filter(entry => !entry.header && entry.key !== statusView && entry.key !== everyone && entry.key.includes(wanted))
		.map((entry, index) => ({...entry, selected: index === 0}));
}
