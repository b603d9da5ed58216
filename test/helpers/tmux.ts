import {execFile, spawnSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {rm} from 'node:fs/promises';
import {promisify} from 'node:util';

const run = promisify(execFile);

/** The installed tmux's version line ("tmux 3.3a"), or undefined when there is no tmux to run. */
export function tmuxVersion(): string | undefined {
	const result = spawnSync('tmux', ['-V'], {encoding: 'utf8'});
	return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Quotes one word for the POSIX shell tmux runs a session's command with. */
export function shellQuote(word: string): string {
	return `'${word.replaceAll("'", `'\\''`)}'`;
}

export type ScreenCondition = RegExp | ((screen: string) => boolean);

export type Tmux = {
	/** The -L socket name: a tmux server of its own, so no other tmux server is touched. */
	readonly socket: string;
	/** A detached session of `columns`×`rows` running `command` with /bin/sh, TERM=xterm-256color. */
	newSession(session: string, command: string, size: {columns: number; rows: number}): Promise<void>;
	/** The visible screen of the session's pane, one line per row, without colours. */
	capture(session: string): Promise<string>;
	/** tmux key names (Down, Enter, C-c) or text that names no key. */
	sendKeys(session: string, ...keys: string[]): Promise<void>;
	/** Text typed as it is, never read as key names. */
	type(session: string, text: string): Promise<void>;
	/** A tmux format evaluated for the session's pane, e.g. '#{alternate_on}'. */
	display(session: string, format: string): Promise<string>;
	/**
	 * Polls the screen every ~50 ms until the condition holds and returns that screen; on timeout
	 * throws with `description` (or the condition) and the last screen seen.
	 */
	waitForScreen(session: string, condition: ScreenCondition, options?: {timeoutMs?: number; description?: string}): Promise<string>;
	/** Stops this tmux server and everything running in it. */
	kill(): Promise<void>;
};

/**
 * A private tmux server (its own -L socket, no config file) for real-terminal tests. Its
 * environment is this process's without CI (Ink draws only the last frame when CI is set) and
 * without TMUX (the tests may themselves run inside tmux).
 */
export function privateTmux(): Tmux {
	const socket = `im-tui-test-${process.pid}-${randomBytes(4).toString('hex')}`;
	const env = {...process.env};
	delete env.CI;
	delete env.TMUX;
	delete env.TMUX_PANE;
	const tmux = async (...args: string[]) => {
		const {stdout} = await run('tmux', ['-L', socket, '-f', '/dev/null', ...args], {env, encoding: 'utf8'});
		return stdout;
	};

	const capture = async (session: string) => tmux('capture-pane', '-p', '-t', session);

	return {
		socket,
		async newSession(session, command, {columns, rows}) {
			// Options first: one command list, so they hold before the session's shell starts.
			await tmux(
				...['set-option', '-g', 'default-terminal', 'xterm-256color', ';'],
				...['set-option', '-g', 'default-shell', '/bin/sh', ';'],
				...['set-option', '-g', 'status', 'off', ';'],
				...['new-session', '-d', '-s', session, '-x', String(columns), '-y', String(rows), command],
			);
		},
		capture,
		async sendKeys(session, ...keys) {
			await tmux('send-keys', '-t', session, ...keys);
		},
		async type(session, text) {
			await tmux('send-keys', '-t', session, '-l', text);
		},
		async display(session, format) {
			return (await tmux('display-message', '-p', '-t', session, format)).trim();
		},
		async waitForScreen(session, condition, {timeoutMs = 15_000, description = String(condition)} = {}) {
			const holds = typeof condition === 'function' ? condition : (screen: string) => condition.test(screen);
			const deadline = Date.now() + timeoutMs;
			let screen = '';
			for (;;) {
				screen = await capture(session);
				if (holds(screen)) return screen;
				if (Date.now() >= deadline) break;
				await new Promise(resolve => {
					setTimeout(resolve, 50);
				});
			}

			throw new Error(`tmux session ${session}: waited ${timeoutMs} ms for ${description}; the screen was:\n${screen}`);
		},
		async kill() {
			const path = await tmux('display-message', '-p', '#{socket_path}').catch(() => '');
			await tmux('kill-server').catch(() => undefined);
			// tmux leaves its socket file behind; this server was ours alone, so remove it.
			if (path.trim() !== '') await rm(path.trim(), {force: true});
		},
	};
}
