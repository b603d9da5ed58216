import {useRef, useState, type Dispatch, type SetStateAction} from 'react';
import {ftsQuery, type HistoryEntry} from '../../client/history.js';
import {everyone, statusView, type ChatState, type ConversationKey} from '../../hooks/chat-state/types.js';
import type {ChatActions} from '../../hooks/use-chat.js';
import type {LogSources} from '../../hooks/use-log-sources.js';
import type {Scrollback} from '../../hooks/use-scrollback.js';
import {isKey, type Key} from '../../terminal/keys.js';
import {keptLineSeq} from '../message-log/kept-source.js';
import {maxSearchResults, moveSearch, type SearchState} from './search-results.js';

/** How long a /forget waits for the same /forget to confirm it. */
export const forgetConfirmMs = 10_000;

/** The line a kept message is on in its conversation's log now, if it is there. */
export function locate(state: ChatState, entry: HistoryEntry): number | undefined {
	const lines = state.conversations.get(entry.conversation) ?? [];
	const mine = entry.direction === 'out';
	for (let index = lines.length - 1; index >= 0; index--) {
		const line = lines[index]!;
		if (line.kind === 'message' && line.id === entry.id && (line.delivery !== undefined) === mine) return line.seq;
	}

	const newest = state.kept.get(entry.conversation);
	return newest !== undefined && entry.seq <= newest ? keptLineSeq(entry.seq) : undefined;
}

/** A line of a conversation marked after a search jumped to it. */
export type Mark = {key: ConversationKey; seq: number};

type Options = {
	actions: ChatActions;
	sources: LogSources;
	scrollback: Scrollback;
	setMark: Dispatch<SetStateAction<Mark | undefined>>;
	/** Results PgUp and PgDn move by. */
	pageRows: number;
	now?: () => number;
};

/**
 * /search (its view, its keys, the jump to a result) and /forget (asked twice). Keys reach the
 * view first while it is open; what it does not take is ignored.
 */
export function useHistoryCommands({actions, sources, scrollback, setMark, pageRows, now = Date.now}: Options) {
	const [search, setSearch] = useState<SearchState | undefined>(undefined);
	// Keys of one burst see what the one before did, before React renders it.
	const searchRef = useRef(search);
	const asked = useRef<{key: ConversationKey; at: number} | undefined>(undefined);

	const show = (next: SearchState | undefined) => {
		searchRef.current = next;
		setSearch(next);
	};

	const jump = (entry: HistoryEntry) => {
		const key = entry.conversation;
		actions.select(key);
		const state = actions.snapshot();
		const seq = state.selected === key ? locate(state, entry) : undefined;
		if (seq === undefined) {
			actions.note(`That message is no longer on screen: it scrolled out of memory in this run (or was forgotten).`, 'error');
			return;
		}

		scrollback.reveal(key, sources.of(key, state), seq);
		setMark({key, seq});
	};

	return {
		search,
		open(words: string) {
			const results = actions.history.search(words, maxSearchResults);
			if (results.length === 0) {
				const why = ftsQuery(words) === undefined ? 'a search needs letters or digits' : 'no message kept on this device holds every word';
				actions.note(`Nothing found for "${words}": ${why}.`);
				return;
			}

			show({words, results, index: 0, limit: maxSearchResults});
		},
		/** Whether the view took `key`. */
		handleKey(key: Key): boolean {
			const current = searchRef.current;
			if (current === undefined) return false;
			if (isKey(key, 'escape')) show(undefined);
			else if (isKey(key, 'up')) show(moveSearch(current, -1));
			else if (isKey(key, 'down')) show(moveSearch(current, 1));
			else if (isKey(key, 'pageup')) show(moveSearch(current, -pageRows));
			else if (isKey(key, 'pagedown')) show(moveSearch(current, pageRows));
			else if (isKey(key, 'enter')) {
				const entry = current.results[current.index];
				show(undefined);
				if (entry !== undefined) jump(entry);
			}

			return true;
		},
		forget(target: ConversationKey | undefined) {
			const key = target ?? actions.snapshot().selected ?? statusView;
			if (key === statusView) {
				actions.note('The status view keeps nothing on this device: /forget NAME (or #everyone), or /forget in that conversation.', 'error');
				return;
			}

			const time = now();
			const before = asked.current;
			if (before?.key === key && time - before.at <= forgetConfirmMs) {
				asked.current = undefined;
				actions.forget(key);
				scrollback.bottom(key);
				setMark(current => (current?.key === key ? undefined : current));
				return;
			}

			asked.current = {key, at: time};
			const who = key === everyone ? 'everyone' : key;
			actions.note(
				`/forget ${key} deletes every message of your conversation with ${who} kept on this device (their copy stays theirs). ` +
					`Repeat /forget ${key} within ${forgetConfirmMs / 1000} s to confirm.`,
				'warning',
			);
		},
	};
}
