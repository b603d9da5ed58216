import React from 'react';
import {Box, Text} from 'ink';
import type {Notice} from '../hooks/chat-state/types.js';
import {formatKey} from '../crypto/keys.js';
import type {ClientStatus, RelayInfo} from '../client/client-events.js';
import {useFresh} from '../hooks/use-fresh.js';
import {sanitizeText} from '../sanitize.js';
import {usePaint, type ColorName} from './theme.js';

const statusLabel: Record<ClientStatus, string> = {
	idle: 'starting',
	connecting: 'connecting',
	verifying: 'verifying relay',
	login: 'logging in',
	online: 'online',
	reconnecting: 'reconnecting…',
	closed: 'closed',
};

const statusColor: Record<ClientStatus, ColorName> = {
	idle: 'yellow',
	connecting: 'yellow',
	verifying: 'yellow',
	login: 'yellow',
	online: 'green',
	reconnecting: 'yellow',
	closed: 'red',
};

/** The first four groups of a fingerprint: enough to recognise a relay at a glance. */
export function shortFingerprint(fingerprint: string): string {
	return formatKey(fingerprint).split(' ').slice(0, 4).join(' ');
}

/**
 * What the status says in brackets. While the client reconnects by itself, it counts down to the
 * next attempt (`reconnectAt`, by the clock `now`), and says "reconnecting…" during the attempt.
 */
export function statusText(status: ClientStatus, reconnectAt?: number, now = Date.now()): string {
	if (reconnectAt === undefined) return statusLabel[status];
	if (status !== 'reconnecting') return status === 'closed' || status === 'online' ? statusLabel[status] : statusLabel.reconnecting;
	const seconds = Math.max(1, Math.ceil((reconnectAt - now) / 1000));
	return `reconnecting in ${seconds} s…`;
}

type Props = {
	status: ClientStatus;
	relay: RelayInfo | undefined;
	me: string | undefined;
	notice: Notice | undefined;
	/** The room on screen: its members and topic. */
	room?: string | undefined;
	width: number;
	/** While reconnecting: when the next attempt is due, and the clock to count down with. */
	reconnectAt?: number;
	now?: number;
};

/** How long a notice stays on the status line (the log keeps what matters for longer). */
export const noticeMs = 15_000;

/**
 * The status, then the latest notice for as long as it is news (it is what changed, so it comes
 * before what the line always says), the room on screen, the relay and you.
 */
export function StatusLine({status, relay, me, notice: latest, room, width, reconnectAt, now}: Props) {
	const paint = usePaint();
	const notice = useFresh(latest, noticeMs);
	const parts = [
		room === undefined ? undefined : sanitizeText(room.slice(0, width * 2)),
		relay ? `${sanitizeText(relay.host)}:${relay.port} ${shortFingerprint(relay.fingerprint)}` : undefined,
		me ? `you: ${me}` : undefined,
	].filter(part => part !== undefined);
	return (
		<Box width={width} height={1} flexShrink={0}>
			<Text wrap="truncate-end">
				<Text bold color={paint(statusColor[status])}>{`[${statusText(status, reconnectAt, now)}]`}</Text>
				{notice ? <Text color={paint(notice.tone === 'error' ? 'red' : undefined)}>{` ${sanitizeText(notice.text.slice(0, width * 2))}${parts.length > 0 ? ' │' : ''}`}</Text> : null}
				{parts.map(part => ` ${part}`).join(' │')}
			</Text>
		</Box>
	);
}
