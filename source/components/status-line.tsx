import React from 'react';
import {Box, Text} from 'ink';
import type {Notice} from '../chat-state.js';
import {formatKey} from '../crypto/keys.js';
import type {ClientStatus, RelayInfo} from '../net/client-events.js';
import {sanitizeText} from '../sanitize.js';

const statusLabel: Record<ClientStatus, string> = {
	idle: 'starting',
	connecting: 'connecting',
	verifying: 'verifying relay',
	login: 'logging in',
	online: 'online',
	closed: 'closed',
};

const statusColor: Record<ClientStatus, string> = {
	idle: 'yellow',
	connecting: 'yellow',
	verifying: 'yellow',
	login: 'yellow',
	online: 'green',
	closed: 'red',
};

/** The first four groups of a fingerprint: enough to recognise a relay at a glance. */
export function shortFingerprint(fingerprint: string): string {
	return formatKey(fingerprint).split(' ').slice(0, 4).join(' ');
}

type Props = {
	status: ClientStatus;
	relay: RelayInfo | undefined;
	me: string | undefined;
	notice: Notice | undefined;
	width: number;
};

/** The status, then the latest notice (it is what changed, so it comes before what the line always says), the relay and you. */
export function StatusLine({status, relay, me, notice, width}: Props) {
	const parts = [
		relay ? `${sanitizeText(relay.host)}:${relay.port} ${shortFingerprint(relay.fingerprint)}` : undefined,
		me ? `you: ${me}` : undefined,
	].filter(part => part !== undefined);
	return (
		<Box width={width} height={1} flexShrink={0}>
			<Text wrap="truncate-end">
				<Text bold color={statusColor[status]}>{`[${statusLabel[status]}]`}</Text>
				{notice ? <Text color={notice.tone === 'error' ? 'red' : undefined}>{` ${sanitizeText(notice.text)}${parts.length > 0 ? ' │' : ''}`}</Text> : null}
				{parts.map(part => ` ${part}`).join(' │')}
			</Text>
		</Box>
	);
}
