import React, {useRef} from 'react';
import {Box, Text} from 'ink';
import {useKeys} from '../hooks/use-keys.js';
import {usePaint, type ColorName} from './theme.js';
import {formatKey} from '../crypto/keys.js';
import type {RelayInfo} from '../client/client-events.js';
import {relayAddress} from '../client/known-relays.js';
import {sanitizeText} from '../sanitize.js';

/** A fingerprint in groups of four, eight groups a row, so it fits 40 columns. */
function Fingerprint({value, color}: {value: string; color?: ColorName}) {
	const paint = usePaint();
	const groups = formatKey(sanitizeText(value)).split(' ');
	const rows = [groups.slice(0, 8).join(' '), groups.slice(8).join(' ')].filter(row => row !== '');
	return (
		<Box flexDirection="column" paddingLeft={2}>
			{rows.map((row, index) => (
				// eslint-disable-next-line react/no-array-index-key
				<Text key={index} bold color={paint(color)}>
					{row}
				</Text>
			))}
		</Box>
	);
}

function address(relay: RelayInfo): string {
	return sanitizeText(relayAddress(relay.host, relay.port));
}

/**
 * Keys that come this soon after a question appears are not answers to it: the question can come
 * up while the person is typing (a relay that was down at start comes back), and a "y" meant for
 * the chat must not trust a relay.
 */
export const answerDelayMs = 500;

/** Whether the question shown at `shownAt` can be answered now. */
function answerable(shownAt: number, delayMs: number): boolean {
	return Date.now() - shownAt >= delayMs;
}

type PromptProps = {relay: RelayInfo; onDecide: (trust: boolean) => void; delayMs?: number};

/** First contact with a relay: show its fingerprint and ask whether to pin it. */
export function TrustPrompt({relay, onDecide, delayMs = answerDelayMs}: PromptProps) {
	const shownAt = useRef(Date.now());
	useKeys(key => {
		if (key.type !== 'text' || !answerable(shownAt.current, delayMs)) return;
		if (key.text === 'y' || key.text === 'Y') onDecide(true);
		else if (key.text === 'n' || key.text === 'N') onDecide(false);
	});

	return (
		<Box flexDirection="column" paddingX={1}>
			<Text bold>{`The relay at ${address(relay)} is not known yet.`}</Text>
			<Text> </Text>
			<Text>Its key fingerprint is:</Text>
			<Fingerprint value={relay.fingerprint} color="cyan" />
			<Text> </Text>
			<Text>Compare it with the fingerprint the relay's operator gave you (im-tui-server prints it).</Text>
			<Text>If they match, trust the relay; im-tui will remember its key and warn you if it ever changes.</Text>
			<Text> </Text>
			<Text bold>Trust this relay? [y/n]</Text>
		</Box>
	);
}

type ChangedProps = {relay: RelayInfo; pinnedFingerprint: string; knownRelaysPath: string; onExit: () => void; delayMs?: number};

/** The relay shows a different key from the pinned one: refuse, explain, leave on any key. */
export function RelayChanged({relay, pinnedFingerprint, knownRelaysPath, onExit, delayMs = answerDelayMs}: ChangedProps) {
	const paint = usePaint();
	const shownAt = useRef(Date.now());
	useKeys(() => {
		if (answerable(shownAt.current, delayMs)) onExit();
	});

	return (
		<Box flexDirection="column" borderStyle="double" borderColor={paint('red')} paddingX={1}>
			<Text bold color={paint('red')}>
				WARNING: THE RELAY'S KEY HAS CHANGED
			</Text>
			<Text> </Text>
			<Text>{`The relay at ${address(relay)} presented a different key from the one you trusted before.`}</Text>
			<Text>Someone may be intercepting the connection, or the operator replaced the relay's key.</Text>
			<Text>The connection was closed and nothing was sent.</Text>
			<Text> </Text>
			<Text>Pinned fingerprint:</Text>
			<Fingerprint value={pinnedFingerprint} />
			<Text>Fingerprint presented now:</Text>
			<Fingerprint value={relay.fingerprint} color="red" />
			<Text> </Text>
			<Text>{`If you know the change is expected, remove the "${address(relay)}" entry from`}</Text>
			<Text>{`  ${knownRelaysPath}`}</Text>
			<Text>and connect again to verify the new fingerprint.</Text>
			<Text> </Text>
			<Text bold>Press any key to exit.</Text>
		</Box>
	);
}
