import React, {useCallback, useMemo, useRef, useState} from 'react';
import {Box} from 'ink';
import {roomKeys, roomStatus, sidebarEntries} from '../hooks/chat-state/conversations.js';
import {isRoomKey} from '../hooks/chat-state/room-keys.js';
import {roomSummary} from '../hooks/chat-state/rooms.js';
import {everyone, statusView, type ChatState} from '../hooks/chat-state/types.js';
import type {ChatActions} from '../hooks/use-chat.js';
import {maxTextBytes} from '../hooks/use-chat.js';
import {useBell} from '../hooks/use-bell.js';
import {useKeys} from '../hooks/use-keys.js';
import {useNow} from '../hooks/use-now.js';
import {useLogSources} from '../hooks/use-log-sources.js';
import {useScrollback} from '../hooks/use-scrollback.js';
import {isKey, type Key} from '../terminal/keys.js';
import {completeCommand, foldRows, helpText, parseCommand, type ParsedCommand} from './commands.js';
import {inputPrompt, InputBox} from './input-box.js';
import {editorHeight} from './line-editor/line-editor-view.js';
import {useLineEditor} from './line-editor/use-line-editor.js';
import {lineRows, type Row} from './message-log/line-rows.js';
import {MessageLog} from './message-log/message-log.js';
import {logWindow} from './message-log/scroll.js';
import {Sidebar} from './sidebar.js';
import {matchingEntries, searchKey} from './sidebar-search.js';
import {searchPage, SearchView} from './search/search-view.js';
import {useHistoryCommands, type Mark} from './search/use-history-commands.js';
import {StatusLine} from './status-line.js';

type Props = {
	state: ChatState;
	actions: ChatActions;
	width: number;
	height: number;
	onQuit: () => void;
	/** Ring the terminal bell when a message arrives in a conversation not on screen (default on). */
	bell?: boolean;
	/** /passphrase: the screen that asks for a new one. */
	onPassphrase?: () => void;
};

/** Rows the mouse wheel scrolls per notch. */
const wheelRows = 3;

function completionNames(state: ChatState): string[] {
	const names = new Set([...state.contacts.keys(), ...state.who.names]);
	names.delete(everyone);
	names.delete(statusView);
	if (state.me !== undefined) names.delete(state.me);
	return [...[...names].sort(), ...roomKeys(state)];
}

/** A line a search jumped to, in reverse video. */
function marked(rows: readonly Row[]): Row[] {
	return rows.map(row => row.map(segment => ({text: segment.text, style: {...segment.style, inverse: true}})));
}

function sidebarWidthFor(width: number): number {
	return Math.min(Math.max(Math.floor(width / 4), 14), 26);
}

/** Sidebar and log side by side, then the status line and the input; every key is routed from here. */
export function ChatScreen({state, actions, width, height, onQuit, bell = true, onPassphrase}: Props) {
	const now = useNow(state.status === 'reconnecting');
	const [fold, setFold] = useState(true);
	useBell(state.bells, bell);
	const selected = state.selected ?? statusView;
	const contact = state.contacts.get(selected);

	const onCommand = (parsed: ParsedCommand) => {
		if (!parsed.ok) {
			actions.note(parsed.error, 'error');
			return;
		}

		const {command} = parsed;
		if (command.name === 'quit') onQuit();
		else if (command.name === 'help') {
			for (const line of helpText) actions.note(line, 'info', statusView);
			actions.select(statusView);
		} else if (command.name === 'fold') {
			const on = command.on ?? !fold;
			setFold(on);
			actions.note(on ? `Messages longer than ${foldRows} rows are folded; /fold off shows them whole.` : 'Messages are shown whole; /fold on folds long ones again.');
		} else if (command.name === 'msg') actions.openConversation(command.target, command.text);
		else if (command.name === 'who') actions.who();
		else if (command.name === 'search') history.open(command.words);
		else if (command.name === 'forget') history.forget(command.target);
		else if (command.name === 'passphrase') onPassphrase?.();
		else if ('room' in command) actions.room(command);
		else actions.command(command);
	};

	// Tab completes your contacts (those you have a conversation with among them) and those shown online, never a directory.
	const names = useMemo(() => completionNames(state), [state.contacts, state.who, state.me, state.rooms, state.invites]);
	const editor = useLineEditor({
		onSubmit(text) {
			const command = parseCommand(text);
			if (command !== undefined) {
				onCommand(command);
				// A line that is not a valid command stays, to be corrected (or sent with //).
				return command.ok;
			}

			const sent = actions.send(text.startsWith('//') ? text.slice(1) : text);
			if (sent) scrollback.bottom(actions.snapshot().selected ?? statusView);
			return sent;
		},
		onNotice(text) {
			actions.note(text, 'error');
		},
		complete(word, first) {
			if (first && word.startsWith('/')) return completeCommand(word);
			const lower = word.toLowerCase();
			return names.filter(name => name.startsWith(lower));
		},
		maxMessageBytes: maxTextBytes,
	});

	const sidebarWidth = sidebarWidthFor(width);
	const logWidth = Math.max(width - sidebarWidth - 1, 10);
	const room = isRoomKey(selected) ? roomStatus(state, selected) : undefined;
	const prompt = inputPrompt(state.selected, contact !== undefined && !contact.online, contact?.keyChanged ?? false, room);
	const inputRows = editorHeight(editor.state, prompt.text, width, Math.max(1, Math.min(8, Math.floor(height / 4))));
	const mainHeight = Math.max(height - 1 - inputRows, 1);

	const lines = state.conversations.get(selected);
	const sources = useLogSources(actions.history, state.me);
	const keptNewest = state.kept.get(selected);
	// eslint-disable-next-line react-hooks/exhaustive-deps
	const source = useMemo(() => sources.of(selected, state), [sources, selected, lines, keptNewest, state.keptRevision]);
	const layout = useCallback(
		(line: Parameters<typeof lineRows>[0]) => lineRows(line, {width: logWidth, me: state.me, maxRows: fold ? foldRows : Number.POSITIVE_INFINITY}),
		[logWidth, state.me, fold],
	);
	// Not recomputed per key: with a large directory this is milliseconds (BENCHMARKS.md, "sidebar rows").
	const entries = useMemo(() => sidebarEntries(state), [state.contacts, state.conversations, state.unread, state.selected, state.who, state.rooms, state.invites]);
	// Ctrl+G: the sidebar's search field, while open (undefined when closed).
	const [search, setSearch] = useState<string | undefined>(undefined);
	const searchRef = useRef(search);
	searchRef.current = search;
	const shownEntries = useMemo(() => (search === undefined ? entries : matchingEntries(entries, search)), [entries, search]);

	const submitSearch = (query: string) => {
		const first = matchingEntries(sidebarEntries(actions.snapshot()), query)[0];
		if (first === undefined) {
			if (query.trim() === '') return;
			actions.openConversation(query.trim());
		} else if (first.stranger) actions.openConversation(first.key);
		else actions.select(first.key);
	};

	const onSearchKey = (query: string, key: Key) => {
		const step = searchKey(query, key);
		if (step === undefined) return;
		const next = step.type === 'edit' ? step.query : undefined;
		searchRef.current = next;
		setSearch(next);
		if (step.type === 'submit') submitSearch(query);
	};
	// The line a search jumped to, marked.
	const [mark, setMark] = useState<Mark | undefined>(undefined);
	const markSeq = mark?.key === selected ? mark.seq : undefined;
	const rowsOf = useCallback((line: Parameters<typeof lineRows>[0]) => (line.seq === markSeq ? marked(layout(line)) : layout(line)), [layout, markSeq]);
	const scrollback = useScrollback(rowsOf, mainHeight);
	const history = useHistoryCommands({actions, sources, scrollback, setMark, pageRows: Math.max(searchPage(mainHeight) - 1, 1)});
	const position = scrollback.position(selected);
	const window = useMemo(() => logWindow(source, position, mainHeight, rowsOf), [source, position, mainHeight, rowsOf]);
	const page = Math.max(mainHeight - 2, 1);

	useKeys((key: Key) => {
		// The conversation on screen now: an earlier key of this burst may have chosen another.
		const latest = actions.snapshot();
		const shown = latest.selected ?? statusView;
		const lines = () => sources.of(shown, latest);
		const query = searchRef.current;
		if (history.handleKey(key)) return;
		if (query !== undefined) onSearchKey(query, key);
		else if (isKey(key, 'g', {ctrl: true})) {
			searchRef.current = '';
			setSearch('');
		} else if (isKey(key, 'up')) actions.selectPrevious();
		else if (isKey(key, 'down')) actions.selectNext();
		else if (isKey(key, 'pageup')) scrollback.scroll(shown, lines(), -page);
		else if (isKey(key, 'pagedown')) scrollback.scroll(shown, lines(), page);
		else if (isKey(key, 'home', {ctrl: true}) || isKey(key, 'home', {alt: true})) scrollback.top(shown, lines());
		else if (isKey(key, 'end', {ctrl: true}) || isKey(key, 'end', {alt: true})) scrollback.bottom(shown);
		else if (key.type === 'wheel') scrollback.scroll(shown, lines(), key.direction === 'up' ? -wheelRows : wheelRows);
		else if (isKey(key, 'a', {alt: true})) actions.selectUnread();
		else editor.handle(key);
	});

	return (
		<Box flexDirection="column" width={width} height={height}>
			<Box height={mainHeight} flexShrink={0}>
				<Sidebar entries={shownEntries} width={sidebarWidth} height={mainHeight} search={search} />
				<Box marginLeft={1}>
					{history.search ? (
						<SearchView search={history.search} me={state.me} width={logWidth} height={mainHeight} />
					) : (
						<MessageLog window={window} pinned={!position.follow} width={logWidth} height={mainHeight} />
					)}
				</Box>
			</Box>
			<StatusLine status={state.status} relay={state.relay} me={state.me} notice={state.notice} room={roomSummary(state, selected)} width={width} reconnectAt={state.reconnect?.at} now={now} />
			<InputBox prompt={prompt} state={editor.state} selected={state.selected} width={width} maxRows={inputRows} />
		</Box>
	);
}

