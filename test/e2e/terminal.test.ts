import {randomBytes} from 'node:crypto';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {noPassphraseIn} from '../helpers/first-start.js';
import {clientBin, type RelayProcess} from '../helpers/relay-process.js';
import {type Cleanups, headlessUser, needTmux, relayUntilEnd, runCleanups} from '../helpers/real-terminal.js';
import {tempDir} from '../helpers/temp-dir.js';
import {privateTmux, shellQuote, type Tmux} from '../helpers/tmux.js';
import {waitFor} from '../helpers/wait-for.js';

// The built client in a real terminal: tmux gives it a pty, keys arrive as a person's would, and
// the screen is read back with capture-pane. Every step waits for what the screen shows.

const columns = 100;
const rows = 30;
const waitMs = 15_000;

const cleanups: Cleanups = [];

afterEach(async () => runCleanups(cleanups));

type Pattern = string | RegExp | ((screen: string) => boolean);

function matches(screen: string, pattern: Pattern): boolean {
	if (typeof pattern === 'string') return screen.includes(pattern);
	return typeof pattern === 'function' ? pattern(screen) : pattern.test(screen);
}

function describePatterns(patterns: Pattern[]): string {
	return patterns.map(pattern => (typeof pattern === 'string' ? JSON.stringify(pattern) : String(pattern))).join(' and ');
}

function screenRows(screen: string): string[] {
	return screen.replace(/\n$/, '').split('\n');
}

/** Who the sidebar marks as selected. */
function selected(screen: string): string | undefined {
	return /› [●○#] (\S+)/.exec(screen)?.[1];
}

/** The row of the sidebar that lists `name`, selected or not. */
function sidebarRow(screen: string, name: string): number {
	return screenRows(screen).findIndex(row => row.startsWith(`› ● ${name} `) || row.startsWith(`  ● ${name} `));
}


/** The JSON lines of the relay's log with the given event and user. */
function logged(relay: RelayProcess, event: string, user: string): unknown[] {
	return relay
		.stderr()
		.split('\n')
		.filter(line => line.startsWith('{'))
		.map(line => JSON.parse(line) as {event?: string; user?: string})
		.filter(entry => entry.event === event && entry.user === user);
}

describe('im-tui in a real terminal (tmux)', () => {
	it('two people pick each other with the arrow keys, chat, and one leaves with Ctrl+C', {timeout: 90_000}, async context => {
		needTmux(context);

		const relay = await relayUntilEnd(cleanups);
		const tmux: Tmux = privateTmux();
		cleanups.push(async () => tmux.kill());

		// Screens seen with the last row filled while the UI ran: Ink would scroll, and the screen flicker.
		const fullFrames: string[] = [];
		/** Waits until the session's screen shows every pattern, checking each screen seen on the way. */
		const ui = async (session: string, ...patterns: Pattern[]) =>
			tmux.waitForScreen(
				session,
				screen => {
					if (screenRows(screen).at(-1)?.trim() !== '') fullFrames.push(`${session}:\n${screen}`);
					return patterns.every(pattern => matches(screen, pattern));
				},
				{timeoutMs: waitMs, description: describePatterns(patterns)},
			);

		const home = tempDir('im-tui-e2e-');
		/** Runs the built client in a tmux session; the shell then records its exit code and the tty's state. */
		const start = async (user: string) => {
			const config = join(home, user, 'config');
			const data = join(home, user, 'data');
			const stty = join(home, user, 'stty.txt');
			const client = [process.execPath, clientBin, '--host', '127.0.0.1', '--port', String(relay.port), '--trust', relay.fingerprint, '--user', user];
			const command = [
				`XDG_CONFIG_HOME=${shellQuote(config)} XDG_DATA_HOME=${shellQuote(data)} ${client.map(shellQuote).join(' ')}`,
				'echo "EXIT=$?"',
				`stty -a > ${shellQuote(stty)}`,
				'sleep 600',
			].join('; ');
			await tmux.newSession(user, command, {columns, rows});
			await noPassphraseIn(tmux, user);
			return {config, stty};
		};

		/** Presses Up or Down towards `name` in the sidebar, one key per frame, until it is selected. */
		const pick = async (session: string, name: string) => {
			for (let presses = 0; ; presses++) {
				const screen = await ui(session, /› \S/, screen => sidebarRow(screen, name) !== -1);
				const current = selected(screen);
				if (current === name) break;
				if (presses === 5) throw new Error(`${session} could not select ${name} with the arrow keys:\n${screen}`);
				await tmux.sendKeys(session, sidebarRow(screen, name) < sidebarRow(screen, current!) ? 'Up' : 'Down');
				await ui(session, screen => selected(screen) !== current);
			}

			return ui(session, `› ● ${name} `, `to ${name}>`);
		};

		// carol is online first, so alice (next) starts with carol selected and must choose bob herself.
		const carol = await headlessUser(relay, 'carol', cleanups);
		const alice = await start('alice');
		await ui('alice', '[online]', 'you: alice', '› ● carol ', 'to carol>');
		expect(await tmux.display('alice', '#{pane_width}x#{pane_height} #{alternate_on}')).toBe(`${columns}x${rows} 1`);
		await start('bob');
		await ui('bob', '[online]', 'you: bob');
		// No conversation with bob yet: his join is told in the status view; the sidebar lists him.
		await ui('alice', '  ● bob ', '› ● carol ');

		const marker = `hello-${randomBytes(6).toString('hex')}`;
		await pick('alice', 'bob');
		await tmux.type('alice', marker);
		await ui('alice', `to bob> ${marker}`);
		await tmux.sendKeys('alice', 'Enter');
		await ui('bob', new RegExp(`\\d\\d:\\d\\d <alice> ${marker}`));
		await ui('alice', new RegExp(`\\d\\d:\\d\\d <alice> ${marker} ✓`), /to bob> *\n/);

		const reply = `reply-${randomBytes(6).toString('hex')}`;
		await pick('bob', 'alice');
		await tmux.type('bob', reply);
		await ui('bob', `to alice> ${reply}`);
		await tmux.sendKeys('bob', 'Enter');
		await ui('alice', new RegExp(`\\d\\d:\\d\\d <bob> ${reply}`));
		await ui('bob', new RegExp(`\\d\\d:\\d\\d <bob> ${reply} ✓`));

		await tmux.sendKeys('alice', 'C-c');
		const after = await tmux.waitForScreen('alice', /EXIT=\d+/, {timeoutMs: waitMs});
		expect(/EXIT=(\d+)/.exec(after)?.[1]).toBe('0');
		expect(await tmux.display('alice', '#{alternate_on}')).toBe('0');
		const stty = await waitFor(
			() => {
				const text = readFileSync(alice.stty, 'utf8');
				if (!text.includes('icanon')) throw new Error(`stty -a has not written its report yet: ${JSON.stringify(text)}`);
				return text;
			},
			{timeoutMs: waitMs, intervalMs: 50},
		);
		expect(stty).toMatch(/(?<!-)\bicanon\b/);
		expect(stty).toMatch(/(?<!-)\becho\b/);
		// They talked: alice's leave is in bob's conversation with her.
		await ui('bob', /\d\d:\d\d <-- alice left/, '› ○ alice ');
		await waitFor(() => expect(logged(relay, 'leave', 'alice')).toHaveLength(1), {timeoutMs: waitMs, intervalMs: 50});

		expect(fullFrames).toEqual([]);
		// The pin went to XDG_CONFIG_HOME, not the real home; the relay never logged message text.
		expect(existsSync(join(alice.config, 'im-tui', 'known_relays.json'))).toBe(true);
		expect(relay.stdout() + relay.stderr()).not.toContain(marker);
		expect(carol.status).toBe('online');
	});
});
