import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import React from 'react';
import {describe, expect, test} from 'vitest';
import {App, type AppProps} from '../../source/components/app.js';
import {safetyRows} from '../../source/components/verify-view.js';
import {ChatClient} from '../../source/client/chat-client.js';
import type {ClientOptions} from '../../source/client/client-events.js';
import type {RunningRelay} from '../../source/relay/server.js';
import {newClient, next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {noPassphrase} from '../helpers/first-start.js';
import {keys, press, submit} from '../helpers/keys.js';
import {renderApp, type AppView} from '../helpers/render-app.js';
import {tempDir} from '../helpers/temp-dir.js';
import {waitFor} from '../helpers/wait-for.js';

function startApp(relay: RunningRelay, props: Partial<AppProps> = {}, size?: {columns: number; rows: number}) {
	const knownRelaysPath = join(tempDir(), 'known_relays.json');
	const view = renderApp(
		<App
			host="127.0.0.1"
			port={relay.port}
			username="alice"
			trustFingerprint={relay.fingerprint}
			knownRelaysPath={knownRelaysPath}
			dataDir={tempDir()}
			{...props}
		/>,
		size,
	);
	noPassphrase(view);
	return {...view, knownRelaysPath};
}

async function online(view: AppView, name = 'alice') {
	await waitFor(() => expect(view.lastFrame()).toMatch(new RegExp(String.raw`\[online\].*you: ${name}`)));
}

const ended = new WeakSet<Promise<unknown>>();

/** Whether the app has exited (`view` may be a copy, so this watches its promise). */
function exited(view: AppView): boolean {
	if (!ended.has(view.exited)) void view.exited.then(() => ended.add(view.exited));
	return ended.has(view.exited);
}

/** Presses `key` until `done` holds: a question takes no answer in its first half second (answerDelayMs). */
async function answer(view: AppView, key: string, done: (frame: string) => boolean) {
	await waitFor(
		() => {
			if (done(view.lastFrame() ?? '')) return;
			view.stdin.write(key);
			throw new Error('not answered yet');
		},
		{timeoutMs: 5000, intervalMs: 100},
	);
}

/** Waits until a headless client lists `name` as an online contact (so it can write to them). */
async function knows(client: ChatClient, name: string) {
	await waitFor(() => expect(client.contacts.some(contact => contact.username === name && contact.online)).toBe(true));
}

/** The sidebar column of the frame, without its border. */
function sidebar(view: AppView): string[] {
	const rows = (view.lastFrame() ?? '').split('\n');
	const statusRow = rows.findIndex(row => row.startsWith('['));
	return rows
		.slice(0, statusRow)
		.map(row => /^(.*?)│/.exec(row)?.[1]?.trimEnd())
		.filter((cell): cell is string => cell !== undefined && cell !== '');
}

describe('App against a real relay', () => {
	test('logs in with --trust, lists who is online and exchanges messages end to end', async () => {
		const relay = await relayForTest({motd: 'Welcome to the test relay'});
		const bob = await onlineClient(relay, 'bob');
		const view = startApp(relay);
		await online(view);
		expect(view.lastFrame()).toContain(`127.0.0.1:${relay.port} ${relay.fingerprint.slice(0, 4)} ${relay.fingerprint.slice(4, 8)}`);
		// The message of the day is in the status view, marked unread, not in the conversation with bob.
		expect(sidebar(view)).toEqual(['People', '  * status (1)', '  # everyone', '› ● bob']);
		expect(view.lastFrame()).not.toContain('Welcome to the test relay');

		const received = next(bob, 'message');
		await submit(view, 'hello bob');
		const [message] = await received;
		expect(message).toMatchObject({from: 'alice', to: 'bob', kind: 'direct', text: 'hello bob'});
		await waitFor(() => expect(view.lastFrame()).toMatch(/<alice> hello bob ✓/));

		await knows(bob, 'alice');
		bob.send('alice', 'hi alice');
		await waitFor(() => expect(view.lastFrame()).toMatch(/\d\d:\d\d <bob> hi alice/));

		await press(view, keys.up + keys.up);
		await waitFor(() => expect(view.lastFrame()).toContain('*** relay: Welcome to the test relay'));
		expect(view.lastFrame()).toMatch(/-!- Logged in as alice\. 1 other person is online;/);
		expect(sidebar(view)).toEqual(['People', '› * status', '  # everyone', '  ● bob']);
	});

	test('Up and Down walk # everyone and the people; others’ messages count as unread', async () => {
		const relay = await relayForTest();
		const bob = await onlineClient(relay, 'bob');
		const cy = await onlineClient(relay, 'cy');
		const view = startApp(relay);
		await online(view);
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '› ● bob', '  ● cy']));

		await press(view, keys.down);
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '  ● bob', '› ● cy']));
		expect(view.lastFrame()).toContain('to cy>');

		const toCy = next(cy, 'message');
		await submit(view, 'for cy');
		expect((await toCy)[0]).toMatchObject({from: 'alice', text: 'for cy'});

		await knows(bob, 'alice');
		bob.send('alice', 'psst');
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '  ● bob (1)', '› ● cy']));
		expect(view.lastFrame()).not.toContain('psst');

		await press(view, keys.up);
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '› ● bob', '  ● cy']));
		expect(view.lastFrame()).toContain('<bob> psst');
		expect(view.lastFrame()).not.toContain('for cy');

		await press(view, keys.up);
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '› # everyone', '  ● bob', '  ● cy']));
		await press(view, keys.up);
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '› * status', '  # everyone', '  ● bob', '  ● cy']));
		await press(view, keys.up);
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '  ● bob', '› ● cy']));
	});

	test('picking # everyone and sending reaches both peers, each end to end; their receipts are counted', async () => {
		const relay = await relayForTest();
		const bob = await onlineClient(relay, 'bob');
		const cy = await onlineClient(relay, 'cy');
		const view = startApp(relay);
		await online(view);
		await press(view, keys.up);
		await waitFor(() => expect(view.lastFrame()).toContain('to # everyone>'));

		const toBob = next(bob, 'message');
		const toCy = next(cy, 'message');
		await submit(view, 'hello all');
		expect((await toBob)[0]).toMatchObject({from: 'alice', to: 'bob', kind: 'everyone', text: 'hello all'});
		expect((await toCy)[0]).toMatchObject({from: 'alice', to: 'cy', kind: 'everyone', text: 'hello all'});
		await waitFor(() => expect(view.lastFrame()).toContain('<alice> hello all ✓ 2/2'));

		await knows(bob, 'alice');
		bob.sendToEveryone('hi all, bob here');
		await waitFor(() => expect(view.lastFrame()).toMatch(/\d\d:\d\d <bob> hi all, bob here/));
		expect(sidebar(view)).toEqual(['People', '  * status', '› # everyone', '  ● bob', '  ● cy']);
	});

	test('a message to an offline registered user is stored, then delivered once they log in', async () => {
		const relay = await relayForTest();
		const bobData = tempDir();
		const first = await onlineClient(relay, 'bob', {dataDir: bobData});
		await first.close();
		const view = startApp(relay);
		await online(view);
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '› # everyone', '  ○ bob']));

		await press(view, keys.down);
		await waitFor(() => expect(view.lastFrame()).toContain('to bob (offline)>'));
		await submit(view, 'see you later');
		await waitFor(() => expect(view.lastFrame()).toContain('<alice> see you later · stored'));
		expect(view.lastFrame()).toContain('bob is offline: the relay keeps it until bob logs in');

		const bob = newClient(relay, {dataDir: bobData});
		const received = record(bob, 'message');
		const asked = next(bob, 'login-request');
		bob.connect();
		await asked;
		bob.login('bob');
		await waitFor(() => expect(received.map(([message]) => message.text)).toEqual(['see you later']));
		await waitFor(() => expect(view.lastFrame()).toContain('<alice> see you later ✓'));
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '› ● bob']));
	});

	test('/verify shows the same safety number as the peer computes; y marks the contact verified', async () => {
		const relay = await relayForTest();
		const bob = await onlineClient(relay, 'bob');
		const view = startApp(relay);
		await online(view);
		await knows(bob, 'alice');
		await submit(view, '/verify Bob');
		await waitFor(() => expect(view.lastFrame()).toContain('Safety number of alice and bob:'));
		const rows = safetyRows(bob.safetyNumber('alice'));
		expect(rows).toHaveLength(2);
		for (const row of rows) expect(view.lastFrame()).toContain(row);
		await press(view, 'y');
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '› ● bob ✓']));
		expect(view.lastFrame()).toContain('-!- bob is verified: you compared safety numbers.');

		await submit(view, '/unverify bob');
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '› ● bob']));
		await submit(view, '/trust bob');
		await waitFor(() => expect(view.lastFrame()).toContain("-!- bob's identity key has not changed: there is nothing to trust."));
		await submit(view, '/verify zed');
		await waitFor(() => expect(view.lastFrame()).toContain('=!= Nobody named zed is registered on this relay.'));
	});

	test('joins and leaves show as system lines; a leaver stays listed, offline, and can still be written to', async () => {
		const relay = await relayForTest();
		const view = startApp(relay);
		await online(view);
		expect(sidebar(view)).toEqual(['People', '  * status', '› # everyone']);
		const bob = await onlineClient(relay, 'bob');
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '› # everyone', '  ● bob']));
		// No conversation with bob yet: his join is in the status view, not in # everyone.
		expect(view.lastFrame()).not.toContain('bob joined');
		await press(view, keys.up);
		await waitFor(() => expect(view.lastFrame()).toMatch(/--> bob joined/));
		await press(view, keys.down + keys.down);
		await waitFor(() => expect(view.lastFrame()).toContain('to bob>'));
		await submit(view, 'are you there');
		await waitFor(() => expect(view.lastFrame()).toContain('are you there ✓'));

		await bob.close();
		// Now there is a conversation with him: his leave shows in it.
		await waitFor(() => expect(view.lastFrame()).toMatch(/<-- bob left/));
		expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '› ○ bob']);

		await submit(view, 'still there?');
		await waitFor(() => expect(view.lastFrame()).toContain('still there? · stored'));
	});

	test('text from others cannot drive the terminal', async () => {
		const relay = await relayForTest();
		const bob = await onlineClient(relay, 'bob');
		const view = startApp(relay);
		await online(view);
		await knows(bob, 'alice');
		bob.send('alice', 'clear\u001B[2J\u001B]0;title\u0007 abc\u202Etxt.exe\nnext -!- fake');
		relay.announce('maint\u001B[?1049lenance');
		// The newline stays a newline; nothing else of the control range does.
		await waitFor(() => expect(view.lastFrame()).toMatch(/<bob> clear abctxt\.exe\s*│?\n\s*│?\s*next -!- fake/));
		await press(view, keys.up + keys.up);
		await waitFor(() => expect(view.lastFrame()).toContain('*** relay: maintenance'));
		for (const frame of view.stdout.frames) {
			expect(frame).not.toMatch(/\u001B\[2J|\u001B\]|\u001B\[\?1049|\u202E/);
		}
	});

	test('a username registered to someone else is refused and asked again on the same connection', async () => {
		const relay = await relayForTest();
		await onlineClient(relay, 'bob');
		const created: ChatClient[] = [];
		const createConnection = (options: ClientOptions) => {
			const client = new ChatClient(options);
			created.push(client);
			return client;
		};

		const view = startApp(relay, {username: 'bob', createConnection});
		await waitFor(() => expect(view.lastFrame()).toContain('Username:'));
		expect(view.lastFrame()).toContain('bob is registered to someone else');
		await submit(view, 'bob2');
		await online(view, 'bob2');
		expect(relay.onlineUsernames().sort()).toEqual(['bob', 'bob2']);
		expect(created).toHaveLength(1);
	});
	test('asks for a missing port, then connects', async () => {
		const relay = await relayForTest();
		const view = startApp(relay, {port: undefined});
		await waitFor(() => expect(view.lastFrame()).toContain('Relay port:'));
		await submit(view, String(relay.port));
		await online(view);
	});

	test('an unknown relay: the fingerprint is shown, "y" pins it', async () => {
		const relay = await relayForTest();
		const view = startApp(relay, {trustFingerprint: undefined});
		await waitFor(() => expect(view.lastFrame()).toContain('Trust this relay? [y/n]'));
		const grouped = relay.fingerprint.match(/.{4}/g) ?? [];
		expect(view.lastFrame()).toContain(grouped.slice(0, 8).join(' '));
		expect(view.lastFrame()).toContain(grouped.slice(8).join(' '));
		// A "y" typed the moment the question appears is not taken as the answer.
		await press(view, 'y');
		await new Promise(resolve => {
			setTimeout(resolve, 100);
		});
		expect(view.lastFrame()).toContain('Trust this relay? [y/n]');
		await answer(view, 'y', frame => !frame.includes('Trust this relay?'));
		await online(view);
		const pins = JSON.parse(readFileSync(view.knownRelaysPath, 'utf8')) as Record<string, string>;
		expect(Object.keys(pins)).toEqual([`127.0.0.1:${relay.port}`]);
	});

	test('an unknown relay: "n" refuses, pins nothing and exits with an error', async () => {
		const relay = await relayForTest();
		const view = startApp(relay, {trustFingerprint: undefined});
		await waitFor(() => expect(view.lastFrame()).toContain('Trust this relay? [y/n]'));
		await answer(view, 'n', () => exited(view));
		const result = await view.exited;
		expect(result.ok).toBe(false);
		expect(result.ok ? '' : result.error.message).toMatch(/did not trust/);
		expect(() => readFileSync(view.knownRelaysPath, 'utf8')).toThrow();
		expect(relay.onlineUsernames()).toEqual([]);
	});

	test('--trust with another fingerprint: exits with an error, pins nothing, sends nothing', async () => {
		const relay = await relayForTest();
		const view = startApp(relay, {trustFingerprint: 'ab'.repeat(32)});
		const result = await view.exited;
		expect(result.ok ? '' : result.error.message).toMatch(/does not match --trust/);
		expect(() => readFileSync(view.knownRelaysPath, 'utf8')).toThrow();
		expect(relay.onlineUsernames()).toEqual([]);
	});

	test('a changed relay key: loud warning, both fingerprints, exit with an error on any key', async () => {
		const relay = await relayForTest();
		const knownRelaysPath = join(tempDir(), 'known_relays.json');
		writeFileSync(knownRelaysPath, JSON.stringify({[`127.0.0.1:${relay.port}`]: 'A'.repeat(43)}));
		const view = startApp(relay, {knownRelaysPath, trustFingerprint: undefined});
		await waitFor(() => expect(view.lastFrame()).toContain("WARNING: THE RELAY'S KEY HAS CHANGED"));
		// SHA-256 of 32 zero bytes: the fingerprint of the fake pin.
		expect(view.lastFrame()).toContain('6668 7aad f862 bd77');
		expect(view.lastFrame()).toContain(relay.fingerprint.slice(0, 4));
		expect(view.lastFrame()).toContain(knownRelaysPath);
		await answer(view, 'q', () => exited(view));
		const result = await view.exited;
		expect(result.ok).toBe(false);
		expect(result.ok ? '' : result.error.message).toMatch(/changed/);
		expect(JSON.parse(readFileSync(knownRelaysPath, 'utf8'))).toEqual({[`127.0.0.1:${relay.port}`]: 'A'.repeat(43)});
	});

	test('Ctrl+C says bye to the relay and exits cleanly', async () => {
		const relay = await relayForTest();
		const bob = await onlineClient(relay, 'bob');
		const view = startApp(relay);
		await online(view);
		const left = next(bob, 'user-left');
		await press(view, keys.ctrlC);
		expect(await view.exited).toEqual({ok: true, value: undefined});
		expect((await left)[0]).toBe('alice');
		expect(relay.onlineUsernames()).toEqual(['bob']);
	});

	test('/quit leaves too; /help lists the commands', async () => {
		const relay = await relayForTest();
		// Tall enough for the whole of /help.
		const view = startApp(relay, {}, {columns: 100, rows: 70});
		await online(view);
		await submit(view, '/help');
		// The output goes to the status view, which /help opens.
		await waitFor(() => expect(view.lastFrame()).toContain('-!- Commands:'));
		expect(view.lastFrame()).toContain('status>');
		for (const usage of ['/verify NAME', '/unverify NAME', '/trust NAME', '/msg NAME [text]', '/who', '/quit', '/create #ROOM [topic]', '/invite [#ROOM] NAME']) expect(view.lastFrame()).toContain(usage);
		await submit(view, '/quit');
		expect((await view.exited).ok).toBe(true);
		await waitFor(() => expect(relay.onlineUsernames()).toEqual([]));
	});

	test('alone on the relay, # everyone is selected and writing to it says nobody is online', async () => {
		const relay = await relayForTest();
		const view = startApp(relay);
		await online(view);
		expect(view.lastFrame()).toContain('to # everyone>');
		await submit(view, 'anyone?');
		await waitFor(() => expect(view.lastFrame()).toContain('=!= Not sent: nobody else is online'));
		expect(view.lastFrame()).toContain('anyone?');
	});

	test('relay shutdown is shown and the status line counts down to the next attempt', async () => {
		const relay = await relayForTest();
		const view = startApp(relay);
		await online(view);
		await relay.close('maintenance window');
		await waitFor(() => expect(view.lastFrame()).toMatch(/\[reconnecting in \d+ s…\] Disconnected, the relay went down: maintenance window/));
		await press(view, keys.up);
		await waitFor(() => expect(view.lastFrame()).toContain('=!= Disconnected, the relay went down: maintenance window.'));
	});

	test('the frame is one row shorter than the terminal and follows resizes', async () => {
		const relay = await relayForTest();
		const view = startApp(relay, {}, {columns: 80, rows: 20});
		await online(view);
		expect((view.lastFrame() ?? '').split('\n')).toHaveLength(19);
		view.resize(60, 12);
		await waitFor(() => expect((view.lastFrame() ?? '').split('\n')).toHaveLength(11));
		for (const row of (view.lastFrame() ?? '').split('\n')) expect(row.length).toBeLessThanOrEqual(60);
	});
});
