import {join} from 'node:path';
import React from 'react';
import {describe, expect, test} from 'vitest';
import {App, type AppProps} from '../../source/components/app.js';
import {ChatClient} from '../../source/client/chat-client.js';
import type {ClientOptions} from '../../source/client/client-events.js';
import type {RunningRelay} from '../../source/relay/server.js';
import {next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {firstStartPrompt, noPassphrase} from '../helpers/first-start.js';
import {keys, press} from '../helpers/keys.js';
import {renderApp, type AppView} from '../helpers/render-app.js';
import {tempDir} from '../helpers/temp-dir.js';
import {waitFor} from '../helpers/wait-for.js';

/**
 * The relay stops waiting for a login some seconds after the handshake (login_timeout). A person
 * who takes longer to type a name, or to compare the relay's fingerprint, loses nothing.
 */

function startApp(relay: RunningRelay, props: Partial<AppProps> = {}) {
	const created: ChatClient[] = [];
	const createConnection = (options: ClientOptions) => {
		const client = new ChatClient(options);
		created.push(client);
		return client;
	};
	const view = renderApp(
		<App
			host="127.0.0.1"
			port={relay.port}
			username="alice"
			trustFingerprint={relay.fingerprint}
			knownRelaysPath={join(tempDir(), 'known_relays.json')}
			dataDir={tempDir()}
			createConnection={createConnection}
			{...props}
		/>,
	);
	noPassphrase(view);
	return {view, client: () => created[0]!, created};
}

async function online(view: AppView, name: string) {
	await waitFor(() => expect(view.lastFrame()).toMatch(new RegExp(String.raw`\[online\].*you: ${name}`)), {timeoutMs: 10_000});
}

/** Nothing on screen, in any frame, about the relay having given up on the login. */
function saidNothingAboutIt(view: AppView) {
	for (const frame of view.stdout.frames) {
		expect(frame).not.toMatch(/login_timeout|connection ended|Not connected|Could not log in/i);
	}
}

describe('a person slower than the relay’s login timeout', () => {
	test('what they typed at the name prompt stays while the client reconnects, and Enter logs in on the new connection', async () => {
		const relay = await relayForTest({limits: {loginTimeoutMs: 800}});
		await onlineClient(relay, 'bob');
		const {view, client} = startApp(relay, {username: 'bob'});
		await waitFor(() => expect(view.lastFrame()).toContain('bob is registered to someone else'));
		const timedOut = next(client(), 'reconnecting', 10_000);
		const askedAgain = next(client(), 'login-request', 10_000);
		// typed, not yet sent, when the relay gives up waiting
		await press(view, 'bob');
		await waitFor(() => expect(view.lastFrame()).toContain('Username: bob'));
		expect((await timedOut)[0].code).toBe('login_timeout');
		await askedAgain;
		await press(view, '2');
		await waitFor(() => expect(view.lastFrame()).toContain('Username: bob2'));
		expect(view.lastFrame()).toContain('bob is registered to someone else');
		await press(view, keys.enter);
		await online(view, 'bob2');
		expect(relay.onlineUsernames().sort()).toEqual(['bob', 'bob2']);
		saidNothingAboutIt(view);
	});

	test('a name entered while the client is between connections goes out on the next one', async () => {
		const relay = await relayForTest({limits: {loginTimeoutMs: 500}});
		await onlineClient(relay, 'bob');
		const {view, client} = startApp(relay, {username: 'bob'});
		await waitFor(() => expect(view.lastFrame()).toContain('bob is registered to someone else'));
		const timedOut = next(client(), 'reconnecting', 10_000);
		await press(view, 'carol');
		await timedOut;
		await press(view, keys.enter);
		await online(view, 'carol');
		saidNothingAboutIt(view);
	});

	test('the trust question stays up while the relay gives up and is tried again; a late "y" pins it and logs in', async () => {
		const relay = await relayForTest({limits: {loginTimeoutMs: 300}});
		const {view, client, created} = startApp(relay, {trustFingerprint: undefined});
		await waitFor(() => expect(view.lastFrame()).toContain('Trust this relay? [y/n]'));
		const drops = record(client(), 'reconnecting');
		await waitFor(() => expect(drops.length).toBeGreaterThanOrEqual(2), {timeoutMs: 10_000});
		// the relay's login_timeout waits, sealed, behind the question: the client sees the close
		expect(drops.map(([drop]) => drop.code)).toEqual(drops.map(() => 'closed'));
		expect(view.lastFrame()).toContain('Trust this relay? [y/n]');
		await waitFor(
			() => {
				if (!(view.lastFrame() ?? '').includes('Trust this relay?')) return;
				view.stdin.write('y');
				throw new Error('not answered yet');
			},
			{timeoutMs: 5000, intervalMs: 100},
		);
		await online(view, 'alice');
		expect(created).toHaveLength(1);
		saidNothingAboutIt(view);
	});
});

describe('a passphrase chosen slower than the relay’s login timeout', () => {
	test('chosen while the client is between connections: it goes out with the name on the next one, and the account is encrypted', async () => {
		// Not shorter: making an encrypted account (PBKDF2) takes a moment after the relay asked.
		const relay = await relayForTest({limits: {loginTimeoutMs: 1000}});
		let client: ChatClient | undefined;
		const view = renderApp(
			<App
				host="127.0.0.1"
				port={relay.port}
				username="alice"
				trustFingerprint={relay.fingerprint}
				knownRelaysPath={join(tempDir(), 'known_relays.json')}
				dataDir={tempDir()}
				// Long enough between attempts that the passphrase is surely typed while there is no connection.
				createConnection={(options: ClientOptions) => (client = new ChatClient({...options, reconnect: {initialDelayMs: 4000, maxDelayMs: 4000}}))}
			/>,
		);
		await waitFor(() => expect(view.lastFrame()).toContain(firstStartPrompt));
		await next(client!, 'reconnecting', 10_000);
		const drops = record(client!, 'reconnecting');
		expect(client!.status).toBe('reconnecting');
		await press(view, 'slow typist');
		await press(view, keys.enter);
		await waitFor(() => expect(view.lastFrame()).toContain('Again, to confirm:'));
		await press(view, 'slow typist');
		await press(view, keys.enter);
		await online(view, 'alice');
		expect(client!.accountState('alice')).toBe('encrypted');
		// Logged in on the connection opened at once for the name, not after another drop.
		expect(drops).toEqual([]);
	});
});
