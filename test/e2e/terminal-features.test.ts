import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {onlineClient, record} from '../helpers/chat.js';
import {noPassphraseIn} from '../helpers/first-start.js';
import {clientBin, spawnRelay, type RelayProcess} from '../helpers/relay-process.js';
import {tempDir} from '../helpers/temp-dir.js';
import {privateTmux, shellQuote, tmuxVersion, type Tmux} from '../helpers/tmux.js';
import {waitFor} from '../helpers/wait-for.js';

// The built client in tmux, for what only a real terminal shows: colours or their absence,
// bracketed paste, scrolling the log, a relay that is not there yet, and the exit code.

const columns = 100;
const rows = 30;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function needTmux(context: {skip: (note: string) => void}): void {
	if (tmuxVersion() !== undefined) return;
	if (process.env.IM_TUI_REAL_CI === 'true') throw new Error('tmux is not installed, and CI must run the real-terminal tests: install tmux (apt-get install tmux).');
	context.skip('tmux is not installed; the real-terminal tests need it');
}

async function relayProcess(args: string[] = []): Promise<RelayProcess> {
	const relay = await spawnRelay(['--data-dir', join(tempDir(), 'relay'), ...args]);
	cleanups.push(async () => {
		relay.child.kill('SIGTERM');
		await relay.exited;
	});
	return relay;
}

/** Starts the built client in a tmux session; the shell then prints its exit code. */
async function startClient(tmux: Tmux, session: string, port: number, fingerprint: string, {env = '', flags = [] as string[]} = {}) {
	const home = tempDir();
	const client = [process.execPath, clientBin, '--host', '127.0.0.1', '--port', String(port), '--trust', fingerprint, '--user', session, ...flags];
	const stderr = join(home, 'stderr.txt');
	const command = `${env} XDG_CONFIG_HOME=${shellQuote(join(home, 'config'))} XDG_DATA_HOME=${shellQuote(join(home, 'data'))} ${client.map(shellQuote).join(' ')} 2>${shellQuote(stderr)}; echo "EXIT=$?"; sleep 600`;
	await tmux.newSession(session, command, {columns, rows});
	return {stderr: () => readFileSync(stderr, 'utf8')};
}

/** Presses Up until the status view is selected. */
async function toStatusView(tmux: Tmux, session: string): Promise<void> {
	for (let presses = 0; !(await tmux.capture(session)).includes('status>'); presses++) {
		if (presses > 6) throw new Error(`${session}: Up never reached the status view`);
		const before = await tmux.capture(session);
		await tmux.sendKeys(session, 'Up');
		await tmux.waitForScreen(session, screen => screen !== before);
	}
}

/** The screen with its escape sequences, as tmux holds it (colours included). */
async function styledScreen(tmux: Tmux, session: string): Promise<string> {
	const {execFile} = await import('node:child_process');
	return new Promise((resolve, reject) => {
		execFile('tmux', ['-L', tmux.socket, 'capture-pane', '-e', '-p', '-t', session], {encoding: 'utf8'}, (error, stdout) => (error ? reject(error) : resolve(stdout)));
	});
}

/** Whether the screen sets a colour: an SGR with 30-38, 40-48, 90-97 or 100-107 (39 and 49 only reset to the default). */
function hasColour(screen: string): boolean {
	return [...screen.matchAll(/\u001B\[([\d;]*)m/g)].some(([, parameters]) =>
		parameters!.split(';').some(parameter => {
			const value = Number(parameter);
			return (value >= 30 && value <= 38) || (value >= 40 && value <= 48) || (value >= 90 && value <= 97) || (value >= 100 && value <= 107);
		}),
	);
}

describe('im-tui in a real terminal: colours, paste, scrollback, startup', () => {
	it('NO_COLOR and --no-color draw no colour, and every kind of line still reads', {timeout: 90_000}, async context => {
		needTmux(context);
		const relay = await relayProcess(['--motd', 'hello from the operator']);
		const tmux = privateTmux();
		cleanups.push(async () => tmux.kill());
		await startClient(tmux, 'plain', relay.port, relay.fingerprint, {env: 'NO_COLOR=1'});
		await noPassphraseIn(tmux, 'plain');
		await tmux.waitForScreen('plain', /\[online\]/);
		// Joined after plain: plain's status view shows them joining.
		await startClient(tmux, 'flag', relay.port, relay.fingerprint, {flags: ['--no-color']});
		await startClient(tmux, 'colour', relay.port, relay.fingerprint);
		for (const session of ['flag', 'colour']) await noPassphraseIn(tmux, session);
		for (const session of ['flag', 'colour']) await tmux.waitForScreen(session, /\[online\]/);
		// The status view: a system line, an announcement, joins; every kind has its own marker.
		for (const session of ['plain', 'flag', 'colour']) await toStatusView(tmux, session);
		const screen = await tmux.waitForScreen('plain', screen => screen.includes('*** relay: hello from the operator') && screen.includes('--> colour joined'));
		expect(screen).toMatch(/-!- Logged in as plain/);
		await tmux.waitForScreen('flag', /\*\*\* relay: hello from the operator/);
		await tmux.waitForScreen('colour', /\*\*\* relay: hello from the operator/);
		expect(hasColour(await styledScreen(tmux, 'plain'))).toBe(false);
		expect(hasColour(await styledScreen(tmux, 'flag'))).toBe(false);
		// Without colour the styles stay: the input's cursor is still an inverse cell, bold and dim remain.
		for (const session of ['plain', 'flag']) expect(await styledScreen(tmux, session)).toMatch(/status> \u001B\[(?:\d+;)*7m/);
		// The same screen with colours allowed does use them: the check above can fail.
		expect(hasColour(await styledScreen(tmux, 'colour'))).toBe(true);
	});

	it('a bracketed paste is one message with its lines; the log scrolls with PgUp and stays put while messages arrive', {timeout: 90_000}, async context => {
		needTmux(context);
		const relay = await relayProcess(['--rate-limit', 'off']);
		const bob = await onlineClient(relay, 'bob');
		const tmux = privateTmux();
		cleanups.push(async () => tmux.kill());
		await startClient(tmux, 'alice', relay.port, relay.fingerprint);
		await noPassphraseIn(tmux, 'alice');
		await tmux.waitForScreen('alice', /to bob>/);

		const received = record(bob, 'message');
		const {execFile} = await import('node:child_process');
		const tmuxRun = async (...args: string[]) =>
			new Promise<void>((resolve, reject) => {
				execFile('tmux', ['-L', tmux.socket, ...args], error => (error ? reject(error) : resolve()));
			});
		await tmuxRun('set-buffer', '-b', 'lines', 'first line\nsecond line\nthird line');
		// -p: as the terminal pastes when the program asked for bracketed paste (mode 2004).
		await tmuxRun('paste-buffer', '-p', '-b', 'lines', '-t', 'alice');
		await tmux.waitForScreen('alice', screen => /to bob> first line\n\s*second line\n\s*third line/.test(screen));
		expect(received).toEqual([]);
		await tmux.sendKeys('alice', 'Enter');
		await waitFor(() => expect(received.map(([message]) => message.text)).toEqual(['first line\nsecond line\nthird line']), {timeoutMs: 10_000});
		await tmux.waitForScreen('alice', /<alice> first line\s*\n.*│\s+second line\s*\n.*│\s+third line ✓/);

		for (let index = 0; index < 60; index++) bob.send('alice', `backlog ${String(index).padStart(2, '0')}`);
		await tmux.waitForScreen('alice', /<bob> backlog 59/);
		expect(await tmux.capture('alice')).not.toContain('backlog 20');
		await tmux.sendKeys('alice', 'PPage');
		const up = await tmux.waitForScreen('alice', /lines below: PgDn scrolls down/);
		expect(up).not.toContain('backlog 59');
		const topRow = /backlog \d\d/.exec(up)?.[0];
		bob.send('alice', 'arrives while scrolled up');
		await tmux.waitForScreen('alice', /-- 1 new, \d+ lines below/);
		expect(/backlog \d\d/.exec(await tmux.capture('alice'))?.[0]).toBe(topRow);
		await tmux.sendKeys('alice', 'C-End');
		await tmux.waitForScreen('alice', screen => screen.includes('<bob> arrives while scrolled up') && !screen.includes('lines below'));
		await tmux.sendKeys('alice', 'C-Home');
		await tmux.waitForScreen('alice', /<alice> first line/);
	});

	it('a relay that is down at start is tried again with a countdown; leaving before it comes exits 1 with the reason', {timeout: 90_000}, async context => {
		needTmux(context);
		const relayDir = join(tempDir(), 'relay');
		const first = await spawnRelay(['--data-dir', relayDir]);
		const {port, fingerprint} = first;
		first.child.kill('SIGTERM');
		await first.exited;
		const tmux = privateTmux();
		cleanups.push(async () => tmux.kill());

		await startClient(tmux, 'alice', port, fingerprint);
		await tmux.waitForScreen('alice', /\[reconnecting in \d+ s…\] Could not reach the relay: could not reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
		const relay = await spawnRelay(['--data-dir', relayDir, '--port', String(port)]);
		cleanups.push(async () => {
			relay.child.kill('SIGTERM');
			await relay.exited;
		});
		await noPassphraseIn(tmux, 'alice', {timeoutMs: 45_000});
		await tmux.waitForScreen('alice', /\[online\].*you: alice/, {timeoutMs: 45_000});

		const gone = await startClient(tmux, 'bob', 1, fingerprint);
		await tmux.waitForScreen('bob', /\[reconnecting in \d+ s…\]/);
		await tmux.sendKeys('bob', 'C-c');
		await tmux.waitForScreen('bob', /EXIT=1/);
		expect(gone.stderr()).toMatch(/^im-tui: could not reach 127\.0\.0\.1:1 \(ECONNREFUSED\); you left before the relay could be reached\n/);
	});
});
