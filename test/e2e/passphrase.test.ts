import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {firstStartPrompt} from '../helpers/first-start.js';
import {clientBin} from '../helpers/relay-process.js';
import {type Cleanups, needTmux, relayUntilEnd, runCleanups} from '../helpers/real-terminal.js';
import {tempDir} from '../helpers/temp-dir.js';
import {privateTmux, shellQuote} from '../helpers/tmux.js';

// The built client in a real terminal: a passphrase chosen at the first start is asked for at the
// next one. (That the account's database holds no message in plaintext is tested with the store.)

const waitMs = 15_000;

const cleanups: Cleanups = [];

afterEach(async () => runCleanups(cleanups));

describe('a passphrase in a real terminal (tmux)', () => {
	it('chosen at the first start, asked for at the next: a wrong one is said so, the right one logs in', {timeout: 90_000}, async context => {
		needTmux(context);

		const relay = await relayUntilEnd(cleanups);
		const tmux = privateTmux();
		cleanups.push(async () => tmux.kill());
		const home = tempDir('im-tui-e2e-');
		const client = [process.execPath, clientBin, '--host', '127.0.0.1', '--port', String(relay.port), '--trust', relay.fingerprint, '--user', 'alice'];
		const command = `XDG_CONFIG_HOME=${shellQuote(join(home, 'config'))} XDG_DATA_HOME=${shellQuote(join(home, 'data'))} ${client.map(shellQuote).join(' ')}; echo "EXIT=$?"; sleep 600`;
		const secret = 'correct horse battery';
		const screens: string[] = [];
		const ui = async (session: string, ...texts: Array<string | RegExp>) =>
			tmux.waitForScreen(
				session,
				screen => {
					screens.push(screen);
					return texts.every(text => (typeof text === 'string' ? screen.includes(text) : text.test(screen)));
				},
				{timeoutMs: waitMs, description: texts.map(String).join(' and ')},
			);

		await tmux.newSession('first', command, {columns: 100, rows: 30});
		await ui('first', firstStartPrompt);
		await tmux.type('first', secret);
		await ui('first', `› ${'•'.repeat(secret.length)}`);
		await tmux.sendKeys('first', 'Enter');
		await ui('first', 'Again, to confirm:');
		await tmux.type('first', secret);
		await ui('first', `› ${'•'.repeat(secret.length)}`);
		await tmux.sendKeys('first', 'Enter');
		await ui('first', /\[online\].*you: alice/);
		await tmux.sendKeys('first', 'C-c');
		await ui('first', 'EXIT=0');

		await tmux.newSession('again', command, {columns: 100, rows: 30});
		await ui('again', 'Passphrase for alice on this device:');
		await tmux.type('again', 'correct horse battery staple');
		await tmux.sendKeys('again', 'Enter');
		await ui('again', 'Wrong passphrase, nothing was changed.', 'Passphrase for alice on this device:');
		await tmux.type('again', secret);
		await ui('again', `› ${'•'.repeat(secret.length)}`);
		await tmux.sendKeys('again', 'Enter');
		await ui('again', /\[online\].*you: alice/);
		await tmux.sendKeys('again', 'C-c');
		await ui('again', 'EXIT=0');
		for (const screen of screens) expect(screen).not.toContain('horse');
	});
});
