import {useCallback, useState} from 'react';
import type {ConversationKey} from './chat-state/types.js';
import type {LineSource} from '../components/message-log/line-source.js';
import {following, revealLine, scrollBy, scrollToTop, type RowsOf, type ScrollPosition} from '../components/message-log/scroll.js';

export type Scrollback = {
	position(key: ConversationKey): ScrollPosition;
	/** Scrolls conversation `key` (its lines in `source`) by `rows`: negative is up, towards older lines. */
	scroll(key: ConversationKey, source: LineSource, rows: number): void;
	/** The oldest lines. */
	top(key: ConversationKey, source: LineSource): void;
	/** The newest lines, following what arrives. */
	bottom(key: ConversationKey): void;
	/** Line `seq` of `source` on screen. */
	reveal(key: ConversationKey, source: LineSource, seq: number): void;
};

/**
 * Where each conversation's log is scrolled to; a conversation not scrolled follows its newest
 * line. Every call names its conversation and lines, as they are when the key comes: in a burst of
 * keys (Down, PgUp) React has not rendered the conversation Down chose yet.
 */
export function useScrollback(rowsOf: RowsOf, height: number): Scrollback {
	const [positions, setPositions] = useState<ReadonlyMap<ConversationKey, ScrollPosition>>(new Map());
	// Each update starts from the one before: keys in one burst (PgUp, PgUp) must both count.
	const update = useCallback((key: ConversationKey, change: (position: ScrollPosition) => ScrollPosition) => {
		setPositions(map => {
			const before = map.get(key) ?? following;
			const next = change(before);
			return next === before ? map : new Map(map).set(key, next);
		});
	}, []);
	return {
		position: key => positions.get(key) ?? following,
		scroll(key, source, rows) {
			update(key, position => scrollBy(source, position, rows, height, rowsOf));
		},
		top(key, source) {
			update(key, () => scrollToTop(source, height, rowsOf));
		},
		bottom(key) {
			update(key, () => following);
		},
		reveal(key, source, seq) {
			update(key, () => revealLine(source, seq, height, rowsOf));
		},
	};
}
