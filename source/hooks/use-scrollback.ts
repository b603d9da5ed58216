import {useCallback, useState} from 'react';
import type {ConversationKey} from '../chat-state.js';
import type {LineSource} from '../components/message-log/line-source.js';
import {following, scrollBy, scrollToTop, type RowsOf, type ScrollPosition} from '../components/message-log/scroll.js';

export type Scrollback = {
	position: ScrollPosition;
	/** Scrolls by `rows`: negative is up, towards older lines. */
	scroll(rows: number): void;
	/** The oldest lines. */
	top(): void;
	/** The newest lines, following what arrives. */
	bottom(): void;
};

/** Where each conversation's log is scrolled to; a conversation not scrolled follows its newest line. */
export function useScrollback(key: ConversationKey, source: LineSource, rowsOf: RowsOf, height: number): Scrollback {
	const [positions, setPositions] = useState<ReadonlyMap<ConversationKey, ScrollPosition>>(new Map());
	// Each update starts from the one before: keys in one burst (PgUp, PgUp) must both count.
	const update = useCallback(
		(change: (position: ScrollPosition) => ScrollPosition) => {
			setPositions(map => {
				const next = change(map.get(key) ?? following);
				return next === (map.get(key) ?? following) ? map : new Map(map).set(key, next);
			});
		},
		[key],
	);
	return {
		position: positions.get(key) ?? following,
		scroll(rows) {
			update(position => scrollBy(source, position, rows, height, rowsOf));
		},
		top() {
			update(() => scrollToTop(source, height, rowsOf));
		},
		bottom() {
			update(() => following);
		},
	};
}
