import React from 'react';
import {Box, Text} from 'ink';
import {useKeys} from '../hooks/use-keys.js';
import {usePaint} from './theme.js';
import type {Verification} from '../hooks/chat-state/types.js';
import {formatKey} from '../crypto/keys.js';
import {safeName, sanitizeText} from '../sanitize.js';

type Props = {
	verification: Verification;
	me: string;
	onConfirm: () => void;
	onBack: () => void;
};

/** The safety number in groups of four, five groups a row. */
export function safetyRows(safetyNumber: string): string[] {
	const groups = formatKey(sanitizeText(safetyNumber)).split(' ');
	const rows: string[] = [];
	for (let index = 0; index < groups.length; index += 5) rows.push(groups.slice(index, index + 5).join(' '));
	return rows;
}

/** /verify NAME: the safety number both sides compute; "y" marks the contact verified, any other key goes back. */
export function VerifyView({verification, me, onConfirm, onBack}: Props) {
	const {safetyNumber, keyChanged} = verification;
	const them = safeName(verification.username);
	const paint = usePaint();
	useKeys(key => {
		if (key.type === 'wheel') return;
		if (key.type === 'text' && (key.text === 'y' || key.text === 'Y')) onConfirm();
		else onBack();
	});

	return (
		<Box flexDirection="column" paddingX={1}>
			<Text bold>{`Verify ${them}`}</Text>
			<Text> </Text>
			<Text>{`Safety number of ${safeName(me)} and ${them}:`}</Text>
			<Box flexDirection="column" paddingLeft={2} marginY={1}>
				{safetyRows(safetyNumber).map((row, index) => (
					// eslint-disable-next-line react/no-array-index-key
					<Text key={index} bold color={paint('cyan')}>
						{row}
					</Text>
				))}
			</Box>
			{keyChanged ? (
				<>
					<Text bold color={paint('red')}>{`${them}'s identity key changed: only a number that matches the one ${them} sees now proves the new key is ${them}'s.`}</Text>
					<Text> </Text>
				</>
			) : null}
			<Text>{`Ask ${them} to open /verify ${safeName(me)} and compare this number out of band: in person, or on a call`}</Text>
			<Text>where you recognise each other's voice. Not through this chat: the relay could change both.</Text>
			<Text>The numbers are the same on both screens only if nobody stands between you.</Text>
			<Text> </Text>
			<Text bold>
				{keyChanged
					? `Same number? Press y to accept ${them}'s new key and mark ${them} verified; any other key goes back.`
					: `Same number? Press y to mark ${them} verified; any other key goes back.`}
			</Text>
		</Box>
	);
}
