import React from 'react';
import {Box, Text} from 'ink';
import {sanitizeText} from '../../sanitize.js';
import {LogRow} from '../message-log/message-log.js';
import {usePaint} from '../theme.js';
import {firstShown, resultRow, type SearchState} from './search-results.js';

type Props = {
	search: SearchState;
	me: string | undefined;
	width: number;
	height: number;
};

/** Rows of the view that are not results: the heading and the keys. */
const chromeRows = 2;

/** Results shown at once. */
export function searchPage(height: number): number {
	return Math.max(height - chromeRows, 1);
}

/** The /search results, in the log's place: one per row, the chosen one in reverse video. */
export function SearchView({search, me, width, height}: Props) {
	const paint = usePaint();
	const page = searchPage(height);
	const first = firstShown(search, page);
	const shown = search.results.slice(first, first + page);
	const {length} = search.results;
	const count = length === 1 ? '1 message' : `${length} messages`;
	const newest = length >= search.limit ? ` (the newest ${search.limit})` : '';
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Text bold wrap="truncate-end">
				{`Search "${sanitizeText(search.words)}": ${count}${newest}, newest first — ${search.index + 1}/${length}`}
			</Text>
			{shown.map((entry, index) => (
				<LogRow key={entry.seq} row={resultRow(entry, search.words, first + index === search.index, me)} paint={paint} />
			))}
			<Box flexGrow={1} alignItems="flex-end">
				<Text dimColor wrap="truncate-end">
					Up/Down, PgUp/PgDn choose; Enter shows it in its conversation; Esc closes
				</Text>
			</Box>
		</Box>
	);
}
