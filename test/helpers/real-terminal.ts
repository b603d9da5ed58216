import {join} from 'node:path';
import {ChatClient} from '../../source/client/chat-client.js';
import {next} from './chat.js';
import {spawnRelay, type RelayProcess} from './relay-process.js';
import {tempDir} from './temp-dir.js';
import {tmuxVersion} from './tmux.js';

// What the real-terminal tests (test/e2e) each set up the same way: tmux or a skip, a relay
// process, people who take part without a screen.

/** What a test undoes when it ends, last first (its afterEach runs them). */
export type Cleanups = Array<() => Promise<unknown>>;

export async function runCleanups(cleanups: Cleanups): Promise<void> {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** Skips the test where tmux is missing; in CI (IM_TUI_REAL_CI=true) that is a failure instead. */
export function needTmux(context: {skip: (note: string) => void}): void {
	if (tmuxVersion() !== undefined) return;
	if (process.env.IM_TUI_REAL_CI === 'true') throw new Error('tmux is not installed, and CI must run the real-terminal tests: install tmux (apt-get install tmux).');
	context.skip('tmux is not installed; the real-terminal end-to-end test needs it');
}

/** A relay process on a data directory of its own, stopped when the test ends. */
export async function relayUntilEnd(cleanups: Cleanups, args: string[] = []): Promise<RelayProcess> {
	const relay = await spawnRelay(['--data-dir', join(tempDir(), 'relay'), ...args]);
	cleanups.push(async () => {
		relay.child.kill('SIGTERM');
		await relay.exited;
	});
	return relay;
}

/** `username` logged in with a ChatClient (no screen), closed when the test ends. */
export async function headlessUser(relay: RelayProcess, username: string, cleanups: Cleanups, waitMs = 15_000): Promise<ChatClient> {
	const client = new ChatClient({
		host: '127.0.0.1',
		port: relay.port,
		knownRelaysPath: join(tempDir(), 'known_relays.json'),
		dataDir: tempDir(),
		trustFingerprint: relay.fingerprint,
	});
	cleanups.push(async () => client.close());
	const asked = next(client, 'login-request', waitMs);
	client.connect();
	await asked;
	const welcomed = next(client, 'welcome', waitMs);
	client.login(username);
	await welcomed;
	return client;
}
