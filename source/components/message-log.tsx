import React from 'react';
import {Box, Text} from 'ink';
import type {ChatLine, Delivery, MessageLine, SystemLine} from '../chat-state.js';
import {safeName, sanitizeText} from '../sanitize.js';

/** Starts every system line. A sender column always reads "<name>", so no sender can produce it. */
export const systemMarker = '-!-';

export function formatTime(time: number): string {
	const date = new Date(time);
	return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

type Props = {
	lines: ChatLine[];
	me: string | undefined;
	width: number;
	height: number;
};

/** The newest lines that fit, oldest at the top; long text wraps under its own column. */
export function MessageLog({lines, me, width, height}: Props) {
	// Every line takes at least one row, so at most `height` lines can show.
	const shown = lines.slice(-Math.max(height, 0));
	return (
		<Box flexDirection="column" justifyContent="flex-end" overflow="hidden" width={width} height={height}>
			{shown.map(line => (
				<Box key={line.seq} flexShrink={0} width={width}>
					<Box width={6} flexShrink={0}>
						<Text dimColor>{formatTime(line.time)}</Text>
					</Box>
					{line.kind === 'system' ? <SystemRow line={line} /> : <MessageRow line={line} mine={line.from === me} />}
				</Box>
			))}
		</Box>
	);
}

const toneColor = {info: 'yellow', error: 'red', warning: 'red', announcement: 'magenta'} as const;

function SystemRow({line}: {line: SystemLine}) {
	const color = toneColor[line.tone];
	return (
		<>
			<Box flexShrink={0} marginRight={1}>
				<Text bold color={color}>
					{systemMarker}
				</Text>
			</Box>
			<Text wrap="wrap" color={color} bold={line.tone === 'warning'} italic={line.tone !== 'warning'}>
				{sanitizeText(line.text)}
			</Text>
		</>
	);
}

function MessageRow({line, mine}: {line: MessageLine; mine: boolean}) {
	return (
		<>
			<Box flexShrink={0} marginRight={1}>
				<Text bold color={mine ? 'cyan' : 'green'}>{`<${safeName(line.from)}>`}</Text>
			</Box>
			<Text wrap="wrap">
				{sanitizeText(line.text)}
				{line.delivery ? <DeliveryMark delivery={line.delivery} receipts={line.receipts} /> : null}
			</Text>
		</>
	);
}

/** … sending, · waiting to be sent (offline), · stored by the relay, ✓ delivered end to end (✓ 2/3 for a message to everyone). */
function DeliveryMark({delivery, receipts}: {delivery: Delivery; receipts: MessageLine['receipts']}) {
	if (delivery.state === 'failed') {
		return <Text color="red">{` ✗ not sent: ${sanitizeText(delivery.message)} (${sanitizeText(delivery.code)})`}</Text>;
	}

	if (receipts !== undefined && receipts.by.length > 0) {
		const all = receipts.by.length === receipts.recipients.length;
		return <Text color={all ? 'green' : 'yellow'}>{` ✓ ${receipts.by.length}/${receipts.recipients.length}`}</Text>;
	}

	switch (delivery.state) {
		case 'sending': {
			return <Text dimColor> …</Text>;
		}

		case 'queued': {
			return <Text dimColor> · waiting to be sent</Text>;
		}

		case 'stored': {
			return <Text dimColor>{receipts === undefined ? ' · stored' : ` · stored 0/${receipts.recipients.length}`}</Text>;
		}

		case 'delivered': {
			return <Text color="green"> ✓</Text>;
		}
	}
}
