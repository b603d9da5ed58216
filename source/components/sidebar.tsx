import React from 'react';
import {Box, Text} from 'ink';
import type {PeerEntry} from '../chat-state.js';
import {safeName} from '../sanitize.js';

type Props = {
	entries: PeerEntry[];
	width: number;
	height: number;
};

/** Everyone you can write to; the selected person is marked and highlighted. */
export function Sidebar({entries, width, height}: Props) {
	const capacity = Math.max(height - 1, 0);
	const selectedIndex = entries.findIndex(entry => entry.selected);
	const start = Math.min(Math.max(selectedIndex - Math.floor(capacity / 2), 0), Math.max(entries.length - capacity, 0));
	const shown = entries.slice(start, start + capacity);
	return (
		<Box
			flexDirection="column"
			flexShrink={0}
			width={width}
			height={height}
			overflow="hidden"
			borderStyle="single"
			borderTop={false}
			borderBottom={false}
			borderLeft={false}
		>
			<Text bold wrap="truncate-end">
				People
			</Text>
			{entries.length === 0 ? <Text dimColor>nobody online</Text> : null}
			{shown.map(entry => (
				<Entry key={entry.name} entry={entry} />
			))}
		</Box>
	);
}

function Entry({entry}: {entry: PeerEntry}) {
	const {name, online, unread, selected} = entry;
	return (
		<Box height={1}>
			<Box flexShrink={1}>
				<Text wrap="truncate-end" inverse={selected} bold={selected} dimColor={!online}>
					{`${selected ? '›' : ' '} ${safeName(name)}`}
				</Text>
			</Box>
			{online ? null : (
				<Box flexShrink={0}>
					<Text dimColor> (offline)</Text>
				</Box>
			)}
			{unread > 0 ? (
				<Box flexShrink={0}>
					<Text bold color="yellow">{` (${unread > 999 ? '999+' : unread})`}</Text>
				</Box>
			) : null}
		</Box>
	);
}
