import {join} from 'node:path';
import fc from 'fast-check';
import React from 'react';
import {describe, expect, test} from 'vitest';
import {App} from '../../source/components/app.js';
import {onlineClient, record, relayForTest} from '../helpers/chat.js';
import {noPassphrase} from '../helpers/first-start.js';
import {keys} from '../helpers/keys.js';
import {renderApp} from '../helpers/render-app.js';
import {resetInput, terminalInput} from '../helpers/terminal-bytes.js';
import {tempDir} from '../helpers/temp-dir.js';
import {waitFor} from '../helpers/wait-for.js';

const runs = Number(process.env.IM_TUI_FUZZ_RUNS ?? 300);

// Whatever a terminal delivers, the client does not end (only Ctrl+C and /quit do, and the
// generator leaves both out), and the next normal message still goes out. In process, through
// Ink's rendering with ink-testing-library's kind of stdin, against a real relay.
describe('random terminal input to the App', () => {
	test(`never ends the client, and a normal message still goes out after it (${runs} bursts)`, {timeout: 120_000}, async () => {
		const relay = await relayForTest();
		const bob = await onlineClient(relay, 'bob');
		const view = renderApp(
			<App host="127.0.0.1" port={relay.port} username="alice" trustFingerprint={relay.fingerprint} knownRelaysPath={join(tempDir(), 'known_relays.json')} dataDir={tempDir()} />,
			{columns: 80, rows: 24},
		);
		noPassphrase(view);
		await waitFor(() => expect(view.lastFrame()).toMatch(/\[online\].*you: alice/));

		await fc.assert(
			fc.asyncProperty(terminalInput, async chunks => {
				for (const chunk of chunks) view.stdin.write(chunk);
				await new Promise(resolve => {
					setImmediate(resolve);
				});
				expect(view.hasExited).toBe(false);
			}),
			{numRuns: runs},
		);

		for (const reset of resetInput) view.stdin.write(reset);
		// A cut-off escape sequence is given up after 50 ms of quiet.
		await new Promise(resolve => {
			setTimeout(resolve, 120);
		});
		// Esc, alone (after a quiet), closes what the fuzz may have opened: the sidebar search
		// (Ctrl+G), the /search results, the /passphrase questions.
		for (let escapes = 0; escapes < 2; escapes++) {
			view.stdin.write('\u001B');
			await new Promise(resolve => {
				setTimeout(resolve, 120);
			});
		}
		// The draft may hold what the fuzz typed, over several lines, where Down moves within it:
		// each round empties a line (Ctrl+K, Ctrl+U) and joins it to the one before (Backspace).
		view.stdin.write('\u000B\u0015\u007F'.repeat(64));
		// Back to bob, whatever the keys selected: Down until the prompt says so.
		await waitFor(
			() => {
				if (!/to bob>/.test(view.lastFrame() ?? '')) {
					view.stdin.write(keys.down);
					throw new Error(`not on bob yet:\n${view.lastFrame()}`);
				}
			},
			{intervalMs: 30},
		);
		// bob's own draft, likewise.
		view.stdin.write('\u000B\u0015\u007F'.repeat(64));
		const marker = `after-fuzz-${Date.now()}`;
		const received = record(bob, 'message');
		view.stdin.write(marker);
		await waitFor(() => expect(view.lastFrame()).toContain(marker));
		view.stdin.write(keys.enter);
		await waitFor(() => expect(received.map(([message]) => message.text)).toContain(marker), {timeoutMs: 10_000});
		expect(view.hasExited).toBe(false);
	});
});
