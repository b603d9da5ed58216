import React, {useState} from 'react';
import {Box, Text} from 'ink';
import {LineInput} from './line-input.js';
import {safeName} from '../sanitize.js';

/** A bound on what the input holds; the relay's own limit (8 KiB of UTF-8) is checked on send. */
export const maxInputLength = 16_384;

export const helpText = [
	'Commands: /help shows this, /quit leaves (so does Ctrl+C).',
	'Up/Down choose who to write to; Enter sends to them; start a message with // to send a leading /.',
];

type Props = {
	to: string | undefined;
	width: number;
	/** Returns false when the text was not sent; it then stays in the input. */
	onSend: (text: string) => boolean;
	onQuit: () => void;
	onHelp: () => void;
	onUnknownCommand: (command: string) => void;
};

export function InputBox({to, width, onSend, onQuit, onHelp, onUnknownCommand}: Props) {
	const [value, setValue] = useState('');

	const submit = (text: string): boolean => {
		if (text.trim() === '') return true;
		const command = /^\/(\S*)/.exec(text.trim());
		if (command && !text.startsWith('//')) {
			setValue('');
			if (command[1] === 'quit') onQuit();
			else if (command[1] === 'help') onHelp();
			else onUnknownCommand(`/${command[1] ?? ''}`);
			return true;
		}
		const sent = onSend(text.startsWith('//') ? text.slice(1) : text);
		if (sent) setValue('');
		return sent;
	};

	return (
		<Box width={width} height={1} flexShrink={0} overflow="hidden">
			<Box flexShrink={0} marginRight={1}>
				<Text bold color={to ? 'cyan' : 'gray'}>{to ? `to ${safeName(to)}>` : 'nobody selected>'}</Text>
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
