import React, {memo} from 'react';
import {Box, Text} from 'ink';
import {usePaint} from '../theme.js';
import type {Row} from './line-rows.js';
import type {LogWindow} from './scroll.js';

type Props = {
	window: LogWindow;
	/** Scrolled up: the bottom row says what is below. */
	pinned: boolean;
	width: number;
	height: number;
};

/** What the bottom row says while the log is scrolled up. */
export function belowMarker(below: number, fresh: number): string {
	const lines = `${below} ${below === 1 ? 'line' : 'lines'} below`;
	const news = fresh > 0 ? `${fresh} new, ` : '';
	return `-- ${news}${lines}: PgDn scrolls down, Ctrl+End (or Alt+End) jumps to the newest --`;
}

/**
 * The log: rows laid out by line-rows.ts, picked by scroll.ts, drawn as they are. Typing does not
 * redraw it: it depends only on its window.
 */
export const MessageLog = memo(function MessageLog({window, pinned, width, height}: Props) {
	const paint = usePaint();
	return (
		<Box flexDirection="column" justifyContent={pinned ? 'flex-start' : 'flex-end'} width={width} height={height}>
			{window.rows.map((row, index) => (
				// A row is a position on screen, redrawn whole.
				// eslint-disable-next-line react/no-array-index-key
				<LogRow key={index} row={row} paint={paint} />
			))}
			{pinned ? (
				<Box flexGrow={1} alignItems="flex-end">
					<Text inverse wrap="truncate-end">
						{belowMarker(window.below, window.fresh)}
					</Text>
				</Box>
			) : null}
		</Box>
	);
});

export function LogRow({row, paint}: {row: Row; paint: ReturnType<typeof usePaint>}) {
	return (
		<Box flexShrink={0} height={1}>
			<Text wrap="truncate-end">
				{row.map((segment, index) => (
					// eslint-disable-next-line react/no-array-index-key
					<Text key={index} color={paint(segment.style.color)} bold={segment.style.bold} dimColor={segment.style.dim} italic={segment.style.italic} inverse={segment.style.inverse}>
						{segment.text}
					</Text>
				))}
			</Text>
		</Box>
	);
}
