import {describe, expect, test} from 'vitest';
import {onlineNowHeader, type SidebarEntry} from '../../source/hooks/chat-state/conversations.js';
import {everyone, statusView} from '../../source/hooks/chat-state/types.js';
import {matchingEntries, maxSearchChars, searchKey} from '../../source/components/sidebar-search.js';
import {namedKey} from '../../source/terminal/keys.js';

const entry = (key: string, fields: Partial<SidebarEntry> = {}): SidebarEntry => ({key, online: true, verified: false, keyChanged: false, unread: 0, selected: false, ...fields});

describe('the sidebar search', () => {
	test('typing and pasting add printable text without spaces or escapes, bounded; Backspace, Ctrl+U edit; Enter, Esc, Ctrl+G end it', () => {
		expect(searchKey('bo', {type: 'text', text: 'b'})).toEqual({type: 'edit', query: 'bob'});
		expect(searchKey('', {type: 'paste', text: 'ca rol\n\u001B[2J', truncated: false})).toEqual({type: 'edit', query: 'carol'});
		expect(searchKey('', {type: 'paste', text: 'x'.repeat(1000), truncated: false})).toEqual({type: 'edit', query: 'x'.repeat(maxSearchChars)});
		expect(searchKey('bob', namedKey('backspace'))).toEqual({type: 'edit', query: 'bo'});
		expect(searchKey('bob', namedKey('u', {ctrl: true}))).toEqual({type: 'edit', query: ''});
		expect(searchKey('bob', namedKey('enter'))).toEqual({type: 'submit'});
		expect(searchKey('bob', namedKey('escape'))).toEqual({type: 'close'});
		expect(searchKey('bob', namedKey('g', {ctrl: true}))).toEqual({type: 'close'});
		expect(searchKey('bob', namedKey('up'))).toBeUndefined();
	});

	test('matches people by a case-folded part of the name, in sidebar order, the first selected; never the views or the heading', () => {
		const entries = [entry(statusView), entry(everyone), entry('amy', {selected: true}), entry('bob'), entry(onlineNowHeader, {header: true}), entry('abe', {stranger: true})];
		expect(matchingEntries(entries, 'A').map(({key, selected}) => [key, selected])).toEqual([
			['amy', true],
			['abe', false],
		]);
		expect(matchingEntries(entries, '').map(({key}) => key)).toEqual(['amy', 'bob', 'abe']);
		expect(matchingEntries(entries, 'everyone')).toEqual([]);
	});
});
