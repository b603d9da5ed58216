import React, {memo} from 'react';
import {Box, Text} from 'ink';
import {roomsHeader, type SidebarEntry} from '../hooks/chat-state/conversations.js';
import {conversationName} from '../hooks/chat-state/room-keys.js';
import {everyone, statusView} from '../hooks/chat-state/types.js';
import {safeName, sanitizeText} from '../sanitize.js';
import {checkUsername} from '../net/usernames.js';
import {usePaint} from './theme.js';

type Props = {
	entries: SidebarEntry[];
	width: number;
	height: number;
	/** The search field's text while it is open (Ctrl+G): it replaces the heading. */
	search?: string | undefined;
};

/** The rows to show so that the selected one stays in view, centred when it can be. */
export function visibleWindow(count: number, selectedIndex: number, capacity: number): {start: number; end: number} {
	if (count <= capacity) return {start: 0, end: count};
	const start = Math.min(Math.max(selectedIndex - Math.floor(capacity / 2), 0), count - capacity);
	return {start, end: start + capacity};
}

/**
 * `* status`, `# everyone`, then under a dimmed "rooms" the rooms (`#name`; an invitation marked
 * "invited", a stalled room a red !, one you left dimmed), then your contacts: ● online, ○ offline
 * (dimmed), ✓ verified, a red ! when their identity key changed, unread counts in yellow; then,
 * under a dimmed "online now", the names shown online who are not contacts. The header says how many rows are scrolled out above
 * (↑) and below (↓); while searching, it is the search field.
 */
export const Sidebar = memo(function Sidebar({entries, width, height, search}: Props) {
	const capacity = Math.max(height - 1, 0);
	const {start, end} = visibleWindow(
		entries.length,
		entries.findIndex(entry => entry.selected),
		capacity,
	);
	const above = start;
	const below = entries.length - end;
	return (
		<Box
			flexDirection="column"
			flexShrink={0}
			width={width}
			height={height}
			borderStyle="single"
			borderTop={false}
			borderBottom={false}
			borderLeft={false}
		>
			<Box height={1}>
				<Box flexShrink={1}>
					{search === undefined ? (
						<Text bold wrap="truncate-end">
							People
						</Text>
					) : (
						<Text wrap="truncate-start">{`/ ${sanitizeText(search)}▏`}</Text>
					)}
				</Box>
				{above > 0 || below > 0 ? (
					<Box flexShrink={0}>
						<Text dimColor>{`${above > 0 ? ` ↑${above}` : ''}${below > 0 ? ` ↓${below}` : ''}`}</Text>
					</Box>
				) : null}
			</Box>
			{entries.slice(start, end).map(entry => (
				<Entry key={entry.key} entry={entry} />
			))}
			{search !== undefined && entries.length === 0 ? <SearchHint search={search} /> : null}
		</Box>
	);
});

/** What Enter does when nobody listed matches: look the name up, or why it cannot. */
function SearchHint({search}: {search: string}) {
	const check = checkUsername(search.trim());
	const hint = search.trim() === '' ? 'type a name' : check.ok ? `Enter: look up ${safeName(check.username)}` : 'not a username';
	return (
		<Box height={1}>
			<Text dimColor wrap="truncate-end">{`  ${hint}`}</Text>
		</Box>
	);
}

function Entry({entry}: {entry: SidebarEntry}) {
	const paint = usePaint();
	if (entry.header) {
		return (
			<Box height={1}>
				<Text dimColor wrap="truncate-end">
					{entry.key === roomsHeader ? '  rooms' : '  online now'}
				</Text>
			</Box>
		);
	}

	if (entry.room !== undefined) return <RoomEntry entry={entry} />;

	const {key, online, verified, keyChanged, unread, selected} = entry;
	const isView = key === everyone || key === statusView;
	const glyph = key === statusView ? '*' : key === everyone ? '#' : online ? '●' : '○';
	const name = key === statusView ? 'status' : key === everyone ? 'everyone' : safeName(key);
	return (
		<Box height={1}>
			<Box flexShrink={0}>
				<Text bold={selected}>{selected ? '›' : ' '}</Text>
				<Text> </Text>
				<Text color={paint(keyChanged ? 'red' : online && !isView ? 'green' : undefined)} dimColor={!online}>{`${glyph} `}</Text>
			</Box>
			<Box flexShrink={1}>
				<Text wrap="truncate-end" inverse={selected} bold={selected || keyChanged} dimColor={!online && !keyChanged} color={paint(keyChanged ? 'red' : undefined)}>
					{name}
				</Text>
			</Box>
			{verified ? (
				<Box flexShrink={0}>
					<Text color={paint('green')}> ✓</Text>
				</Box>
			) : null}
			{keyChanged ? (
				<Alarm />
			) : null}
			<Unread count={unread} />
		</Box>
	);
}

/** A room's row: its `#name` where a person's row has its mark and name. */
function RoomEntry({entry}: {entry: SidebarEntry}) {
	const paint = usePaint();
	const {key, unread, selected, room} = entry;
	const stalled = room === 'stalled';
	const gone = room === 'left' || room === 'removed';
	return (
		<Box height={1}>
			<Box flexShrink={0}>
				<Text bold={selected}>{selected ? '›' : ' '}</Text>
				<Text> </Text>
			</Box>
			<Box flexShrink={1}>
				<Text wrap="truncate-end" inverse={selected} bold={selected || stalled} dimColor={gone} color={paint(stalled ? 'red' : undefined)}>
					{conversationName(key)}
				</Text>
			</Box>
			{room === 'invited' ? (
				<Box flexShrink={0}>
					<Text color={paint('yellow')}> invited</Text>
				</Box>
			) : null}
			{stalled ? (
				<Alarm />
			) : null}
			<Unread count={unread} />
		</Box>
	);
}

/** The red mark of a changed key or a stalled room. */
function Alarm() {
	const paint = usePaint();
	return (
		<Box flexShrink={0}>
			<Text bold color={paint('red')}>
				{' !'}
			</Text>
		</Box>
	);
}

function Unread({count}: {count: number}) {
	const paint = usePaint();
	if (count <= 0) return null;
	return (
		<Box flexShrink={0}>
			<Text bold color={paint('yellow')}>{` (${count > 999 ? '999+' : count})`}</Text>
		</Box>
	);
}
