import React, {useState} from 'react';
import {Box, Text} from 'ink';
import {everyone, type ConversationKey} from '../chat-state.js';
import {safeName} from '../sanitize.js';
import {parseCommand, type ParsedCommand} from './commands.js';
import {LineInput} from './line-input.js';

/** A bound on what the input holds; the protocol's own limit (8 KiB of UTF-8) is checked on send. */
export const maxInputLength = 16_384;

type Props = {
	to: ConversationKey | undefined;
	/** The recipient is offline: the relay will keep what is sent. */
	offline?: boolean;
	/** The recipient's identity key changed: nothing can be sent until /trust. */
	keyChanged?: boolean;
	width: number;
	/** Returns false when the text was not sent; it then stays in the input. */
	onSend: (text: string) => boolean;
	/** A line starting with / (except //): a command, or why it is not one. */
	onCommand: (command: ParsedCommand) => void;
};

function prompt(to: ConversationKey | undefined, offline: boolean, keyChanged: boolean): {text: string; color: string} {
	if (to === undefined) return {text: 'nobody selected>', color: 'gray'};
	if (to === everyone) return {text: 'to # everyone>', color: 'cyan'};
	if (keyChanged) return {text: `to ${safeName(to)} (key changed)>`, color: 'red'};
	return {text: `to ${safeName(to)}${offline ? ' (offline)' : ''}>`, color: 'cyan'};
}

export function InputBox({to, offline = false, keyChanged = false, width, onSend, onCommand}: Props) {
	const [value, setValue] = useState('');

	const submit = (text: string): boolean => {
		if (text.trim() === '') return true;
		const command = parseCommand(text);
		if (command !== undefined) {
			setValue('');
			onCommand(command);
			return true;
		}

		const sent = onSend(text.startsWith('//') ? text.slice(1) : text);
		if (sent) setValue('');
		return sent;
	};

	const label = prompt(to, offline, keyChanged);
	return (
		<Box width={width} height={1} flexShrink={0} overflow="hidden">
			<Box flexShrink={0} marginRight={1}>
				<Text bold color={label.color}>
					{label.text}
				</Text>
			</Box>
			<LineInput
				value={value}
				placeholder={to ? '' : 'press Up/Down to choose someone'}
				maxLength={maxInputLength}
				onChange={setValue}
				onSubmit={submit}
			/>
		</Box>
	);
}
