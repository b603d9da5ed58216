import {join} from 'node:path';
import React from 'react';
import {describe, expect, test} from 'vitest';
import {App} from '../../source/components/app.js';
import {ChatClient} from '../../source/client/chat-client.js';
import type {ClientOptions} from '../../source/client/client-events.js';
import {next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {firstStartPrompt, noPassphrase} from '../helpers/first-start.js';
import {keys, press, submit} from '../helpers/keys.js';
import {renderApp} from '../helpers/render-app.js';
import {tempDir} from '../helpers/temp-dir.js';
import {waitFor} from '../helpers/wait-for.js';

/** Slow enough that a countdown shows, fast enough for a test. */
const reconnect = {initialDelayMs: 1500, maxDelayMs: 1500};

describe('App when the relay goes away and comes back', () => {
	test('the status line says reconnecting, then online; what was typed meanwhile is sent after, once', async () => {
		const relayDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const bob = await onlineClient(relay, 'bob', {reconnect: {initialDelayMs: 20, maxDelayMs: 200}});
		const view = renderApp(
			<App
				host="127.0.0.1"
				port={relay.port}
				username="alice"
				trustFingerprint={relay.fingerprint}
				knownRelaysPath={join(tempDir(), 'known_relays.json')}
				dataDir={tempDir()}
				createConnection={(options: ClientOptions) => new ChatClient({...options, reconnect})}
			/>,
		);
		noPassphrase(view);
		await waitFor(() => expect(view.lastFrame()).toMatch(/\[online\].*you: alice/));
		await waitFor(() => expect(view.lastFrame()).toContain('to bob>'));

		await relay.close('upgrade');
		await waitFor(() => expect(view.lastFrame()).toMatch(/\[reconnecting in [12] s…\]/));
		expect(view.lastFrame()).toContain('Disconnected, the relay went down: upgrade');
		expect(view.lastFrame()).toContain('to bob (offline)>');

		await submit(view, 'typed while the relay was down');
		await waitFor(() => expect(view.lastFrame()).toContain('<alice> typed while the relay was down · waiting to be sent'));
		// nothing went out while disconnected
		const received = record(bob, 'message');

		const bobBack = next(bob, 'welcome', 10_000);
		await relayForTest({dataDir: relayDir, port: relay.port});
		await bobBack;
		await waitFor(() => expect(view.lastFrame()).toMatch(/\[online\].*you: alice/), {timeoutMs: 10_000});
		await waitFor(() => expect(received.map(([message]) => message.text)).toEqual(['typed while the relay was down']));
		await waitFor(() => expect(view.lastFrame()).toContain('<alice> typed while the relay was down ✓'));

		bob.send('alice', 'welcome back');
		await waitFor(() => expect(view.lastFrame()).toContain('<bob> welcome back'));
		const frame = view.lastFrame() ?? '';
		expect(frame.split('typed while the relay was down')).toHaveLength(2);
		// The outage is told in the status view, not in the conversation.
		expect(frame).not.toContain('Back online');
		await press(view, keys.up + keys.up);
		await waitFor(() => expect(view.lastFrame()).toMatch(/=!= Disconnected, the relay went down: upgrade\.[\s\S]*-!- Back online\./));
		// Never printed over the UI: every frame is the full screen, status line included (after the
		// first start's question, a screen of its own).
		for (const written of view.stdout.frames.filter(frame => !frame.includes(firstStartPrompt))) expect(written).toMatch(/\[(online|reconnecting[^\]]*|connecting|logging in|starting)\]/);
	});
});
