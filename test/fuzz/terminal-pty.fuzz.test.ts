import {join} from 'node:path';
import fc from 'fast-check';
import {afterEach, describe, expect, test} from 'vitest';
import {onlineClient, record} from '../helpers/chat.js';
import {noPassphraseInPty} from '../helpers/first-start.js';
import {spawnPty, type PtyProcess} from '../helpers/pty.js';
import {clientBin, spawnRelay, type RelayProcess} from '../helpers/relay-process.js';
import {resetInput, terminalInput} from '../helpers/terminal-bytes.js';
import {tempDir} from '../helpers/temp-dir.js';
import {waitFor} from '../helpers/wait-for.js';

const runs = Number(process.env.IM_TUI_FUZZ_RUNS ?? 300);

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The last input prompt the client drew in `text` ("to bob", "status", ...). */
function lastPrompt(text: string): string | undefined {
	return [...text.matchAll(/(to [#\w -]+?(?: \((?:offline|key changed)\))?|status|nobody selected)>/g)].at(-1)?.[1];
}

const pause = async (ms: number) =>
	new Promise(resolve => {
		setTimeout(resolve, ms);
	});

// The built program in a real pseudo-terminal: random bytes go in exactly as a terminal would pass
// them on (escape sequences, pastes, NUL, UTF-8 cut anywhere). The process must never end (Ctrl+C
// and /quit are left out of the generator), and the next normal message must still go out.
describe('random bytes typed into the built client in a pty', () => {
	test(`never end it, and a normal message still goes out (${runs} bursts)`, {timeout: 180_000}, async () => {
		const relay: RelayProcess = await spawnRelay(['--data-dir', join(tempDir(), 'relay'), '--rate-limit', 'off']);
		cleanups.push(async () => {
			relay.child.kill('SIGTERM');
			await relay.exited;
		});
		const bob = await onlineClient(relay, 'bob');
		const home = tempDir();
		const client: PtyProcess = spawnPty(process.execPath, [clientBin, '--host', '127.0.0.1', '--port', String(relay.port), '--trust', relay.fingerprint, '--user', 'alice', '--config-dir', join(home, 'config'), '--data-dir', join(home, 'data')], {columns: 80, rows: 24});
		cleanups.push(async () => client.kill());
		await noPassphraseInPty(client);
		await client.waitFor(text => text.includes('[online]'), {description: 'the client to log in'});

		await fc.assert(
			fc.asyncProperty(terminalInput, async chunks => {
				for (const chunk of chunks) client.write(chunk);
				await pause(2);
				expect(client.exit()).toBeUndefined();
			}),
			{numRuns: runs},
		);

		for (const reset of resetInput) client.write(reset);
		await pause(150);
		// The draft may hold what the fuzz typed, over several lines, where Down moves within it and
		// draws no prompt: each round empties a line (Ctrl+K, Ctrl+U) and joins it to the one before.
		// Esc, alone (after a quiet), closes what the fuzz may have opened: the sidebar search
		// (Ctrl+G), the /search results, the /passphrase questions.
		for (let escapes = 0; escapes < 2; escapes++) {
			client.write('\u001B');
			await pause(150);
		}
		const emptyDraft = '\u000B\u0015\u007F'.repeat(64);
		client.write(emptyDraft);
		for (let presses = 0; ; presses++) {
			const from = client.output().length;
			client.write('\u001B[B');
			const drawn = await client.waitFor(text => lastPrompt(text) !== undefined, {from, description: 'the prompt to be drawn again'});
			if (lastPrompt(drawn) === 'to bob') break;
			if (presses > 10) throw new Error(`Down never reached bob; the last prompt was ${lastPrompt(drawn)}`);
		}

		// bob's own draft, likewise.
		client.write(emptyDraft);
		const marker = `after-fuzz-${Date.now()}`;
		const received = record(bob, 'message');
		client.write(marker);
		await client.waitFor(text => text.includes(marker), {description: 'the marker in the input'});
		client.write('\r');
		// What the fuzz's own Enters sent goes out first, in order: on a loaded machine that can take a while.
		await waitFor(() => expect(received.map(([message]) => message.text)).toContain(marker), {timeoutMs: 30_000}).catch((error: unknown) => {
			// What the screen showed when the marker did not arrive: the next failure says why.
			throw new Error(`${(error as Error).message}\nthe screen's last output:\n${JSON.stringify(client.output().slice(-3000))}`);
		});
		expect(client.exit()).toBeUndefined();

		// Ctrl+C still leaves, cleanly.
		client.write('\u0003');
		expect(await client.exited).toMatchObject({exitCode: 0});
	});
});
