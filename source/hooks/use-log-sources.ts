import {useMemo, useRef} from 'react';
import type {ChatState, ConversationKey} from './chat-state/types.js';
import {compositeSource} from '../components/message-log/composite-source.js';
import {keptPart, type KeptPart, type KeptReader} from '../components/message-log/kept-source.js';
import type {LineSource} from '../components/message-log/line-source.js';

/** Conversations whose kept part (its lines made and its counts) is remembered, the most recently read. */
const rememberedParts = 16;

export type LogSources = {
	/** Conversation `key`'s lines as `state` has them: kept ones from the database, then this run's. */
	of(key: ConversationKey, state: ChatState): LineSource;
};

/**
 * The log's lines per conversation. Kept messages are read through `reader` a page at a time as
 * the log needs them; what is read is remembered for a few conversations, a bounded number of lines each.
 */
export function useLogSources(reader: KeptReader, me: string | undefined): LogSources {
	const parts = useRef(new Map<ConversationKey, {newest: number; revision: number; part: KeptPart}>());
	return useMemo<LogSources>(() => {
		parts.current.clear();
		return {
			of(key, state) {
				const lines = state.conversations.get(key) ?? [];
				const newest = state.kept.get(key);
				const remembered = parts.current;
				if (newest === undefined) {
					remembered.delete(key);
					return compositeSource(undefined, lines);
				}

				let entry = remembered.get(key);
				if (entry?.newest !== newest) entry = {newest, revision: state.keptRevision, part: keptPart(reader, key, newest, {me})};
				else if (entry.revision !== state.keptRevision) {
					entry.part.refresh();
					entry.revision = state.keptRevision;
				}

				remembered.delete(key);
				remembered.set(key, entry);
				if (remembered.size > rememberedParts) remembered.delete(remembered.keys().next().value!);
				return compositeSource(entry.part, lines);
			},
		};
	}, [reader, me]);
}
