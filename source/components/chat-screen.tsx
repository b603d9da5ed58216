import React from 'react';
import {Box, useInput} from 'ink';
import {sidebarEntries, visibleLines, type ChatState} from '../chat-state.js';
import type {ChatActions} from '../hooks/use-chat.js';
import {useNow} from '../hooks/use-now.js';
import {helpText, type ParsedCommand} from './commands.js';
import {InputBox} from './input-box.js';
import {MessageLog} from './message-log.js';
import {Sidebar} from './sidebar.js';
import {StatusLine} from './status-line.js';

type Props = {
	state: ChatState;
	actions: ChatActions;
	width: number;
	height: number;
	onQuit: () => void;
};

/** Sidebar and log side by side, then the status line and the input. */
export function ChatScreen({state, actions, width, height, onQuit}: Props) {
	const now = useNow(state.status === 'reconnecting');
	useInput((_input, key) => {
		if (key.upArrow) actions.selectPrevious();
		else if (key.downArrow) actions.selectNext();
	});

	const onCommand = (parsed: ParsedCommand) => {
		if (!parsed.ok) {
			actions.note(parsed.error, 'error');
			return;
		}

		const {command} = parsed;
		if (command.name === 'quit') onQuit();
		else if (command.name === 'help') for (const line of helpText) actions.note(line);
		else actions.command(command);
	};

	const contact = state.selected === undefined ? undefined : state.contacts.get(state.selected);
	const mainHeight = Math.max(height - 2, 1);
	const sidebarWidth = Math.min(Math.max(Math.floor(width / 4), 14), 26);
	const logWidth = Math.max(width - sidebarWidth - 1, 10);
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Box height={mainHeight} flexShrink={0}>
				<Sidebar entries={sidebarEntries(state)} width={sidebarWidth} height={mainHeight} />
				<Box marginLeft={1}>
					<MessageLog lines={visibleLines(state)} me={state.me} width={logWidth} height={mainHeight} />
				</Box>
			</Box>
			<StatusLine
				status={state.status}
				relay={state.relay}
				me={state.me}
				notice={state.notice}
				width={width}
				reconnectAt={state.reconnect?.at}
				now={now}
			/>
			<InputBox
				to={state.selected}
				offline={contact !== undefined && !contact.online}
				keyChanged={contact?.keyChanged}
				width={width}
				onSend={actions.send}
				onCommand={onCommand}
			/>
		</Box>
	);
}
