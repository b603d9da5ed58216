import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {next, onlineClient} from '../helpers/chat.js';
import {serverBin} from '../helpers/relay-process.js';
import {tempDir} from '../helpers/temp-dir.js';
import {privateTmux, shellQuote, tmuxVersion} from '../helpers/tmux.js';

// The relay's operator console needs a terminal on stdin: tmux gives it one.

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('im-tui-server in a real terminal (tmux)', () => {
	it('sends what the operator types as an announcement, and Ctrl+C stops it cleanly', {timeout: 60_000}, async context => {
		if (tmuxVersion() === undefined) {
			if (process.env.IM_TUI_REAL_CI === 'true') throw new Error('tmux is not installed, and CI must run the real-terminal tests');
			context.skip('tmux is not installed; the operator console test needs it');
		}
		const tmux = privateTmux();
		cleanups.push(async () => tmux.kill());
		const dataDir = join(tempDir(), 'relay');
		const log = join(tempDir(), 'relay.log');
		const command = [process.execPath, serverBin, '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir]
			.map(shellQuote)
			.join(' ');
		await tmux.newSession('relay', `${command} 2> ${shellQuote(log)}; echo "EXIT=$?"; sleep 600`, {columns: 200, rows: 20});
		const screen = await tmux.waitForScreen('relay', /announce>/, {description: 'the operator prompt'});
		const [, port, fingerprint] = /--port (\d+) --trust ([0-9a-f]{64})/.exec(screen) ?? [];
		const alice = await onlineClient({port: Number(port), fingerprint: fingerprint!}, 'alice');

		const announced = next(alice, 'announcement');
		await tmux.type('relay', 'maintenance at noon');
		await tmux.sendKeys('relay', 'Enter');
		expect((await announced)[0].text).toBe('maintenance at noon');

		const closed = next(alice, 'closed');
		await tmux.sendKeys('relay', 'C-c');
		expect((await closed)[0].code).toBe('shutdown');
		await tmux.waitForScreen('relay', /EXIT=0/, {description: 'the relay exiting with 0'});
		const events = readFileSync(log, 'utf8')
			.trim()
			.split('\n')
			.map(line => (JSON.parse(line) as {event: string}).event);
		expect(events).toEqual(expect.arrayContaining(['announcement', 'signal', 'stopped']));
	});
});
