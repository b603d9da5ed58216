import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {clientBin} from '../helpers/relay-process.js';
import {type Cleanups, headlessUser, needTmux, relayUntilEnd, runCleanups} from '../helpers/real-terminal.js';
import {tempDir} from '../helpers/temp-dir.js';
import {noPassphraseIn} from '../helpers/first-start.js';
import {privateTmux, shellQuote, type Tmux} from '../helpers/tmux.js';

// The built client in a real terminal: what bob was sent in one run is on his screen in the next,
// PgUp reaches the oldest of it, and /search finds it.

const columns = 100;
const rows = 30;
const waitMs = 15_000;

const cleanups: Cleanups = [];

afterEach(async () => runCleanups(cleanups));


describe('the history kept on this device, in a real terminal (tmux)', () => {
	it('bob quits and starts again: the conversation with alice is on screen, PgUp reaches its oldest message, /search finds one', {timeout: 120_000}, async context => {
		needTmux(context);

		const relay = await relayUntilEnd(cleanups);
		const tmux: Tmux = privateTmux();
		cleanups.push(async () => tmux.kill());
		const home = tempDir('im-tui-e2e-');
		const client = [process.execPath, clientBin, '--host', '127.0.0.1', '--port', String(relay.port), '--trust', relay.fingerprint, '--user', 'bob'];
		const command = `XDG_CONFIG_HOME=${shellQuote(join(home, 'config'))} XDG_DATA_HOME=${shellQuote(join(home, 'data'))} ${client.map(shellQuote).join(' ')}; echo "EXIT=$?"; sleep 600`;
		const ui = async (session: string, ...patterns: Array<string | RegExp>) =>
			tmux.waitForScreen(session, screen => patterns.every(pattern => (typeof pattern === 'string' ? screen.includes(pattern) : pattern.test(screen))), {
				timeoutMs: waitMs,
				description: patterns.map(String).join(' and '),
			});

		await tmux.newSession('first', command, {columns, rows});
		await noPassphraseIn(tmux, 'first');
		await ui('first', '[online]', 'you: bob');
		const alice = await headlessUser(relay, 'alice', cleanups);
		// Delivered: bob's client has them all, and kept them.
		const delivered = new Promise<void>((resolve, reject) => {
			const confirmed = new Set<string>();
			const timer = setTimeout(() => reject(new Error(`${confirmed.size} of 60 messages were confirmed`)), waitMs);
			alice.on('delivered', ({id}) => {
				confirmed.add(id);
				if (confirmed.size === 60) {
					clearTimeout(timer);
					resolve();
				}
			});
		});
		for (let index = 1; index <= 60; index++) alice.send('bob', index === 7 ? 'the pineapple plan' : `note ${index}`);
		await delivered;

		await ui('first', /alice \(60\)|<alice> note 60/);
		await tmux.type('first', '/quit');
		await tmux.sendKeys('first', 'Enter');
		expect(/EXIT=(\d+)/.exec(await ui('first', /EXIT=\d+/))?.[1]).toBe('0');

		await tmux.newSession('second', command, {columns, rows});
		// The conversation kept from before opens, newest at the bottom, with its date.
		await ui('second', '[online]', 'to alice>', /<alice> note 60\s*\n/, /<alice> note 45/);
		for (let page = 0; page < 5; page++) await tmux.sendKeys('second', 'PPage');
		await ui('second', /<alice> note 1\s*\n/, /<alice> note 2\s*\n/, 'lines below');

		await tmux.type('second', '/search pineapple');
		await tmux.sendKeys('second', 'Enter');
		await ui('second', 'Search "pineapple": 1 message', /alice\s+<alice> the pineapple plan/);
		await tmux.sendKeys('second', 'Enter');
		// The results close and the conversation shows the message (the prompt and the text are on
		// screen while the results are too, so the wait is for the results to be gone).
		await tmux.waitForScreen('second', screen => !screen.includes('Search "pineapple"') && /<alice> the pineapple plan\s*\n/.test(screen), {
			description: 'the conversation with the message found, the results closed',
		});
		expect(await tmux.capture('second')).toContain('to alice>');
	});
});
