import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import {join} from 'node:path';
import {waitFor} from './wait-for.js';
import {clientBin} from './relay-process.js';

export type JsonLine = Record<string, unknown> & {type: string};

export type JsonClient = {
	child: ChildProcessWithoutNullStreams;
	/** Every line written so far, parsed. */
	lines: () => JsonLine[];
	stdout: () => string;
	stderr: () => string;
	/** Writes one command line (an object is encoded; a string or bytes go as they are, a line feed added). */
	send: (command: object | string | Buffer) => void;
	/** The first line from index `after` on whose fields include `match`. */
	waitLine: (match: Record<string, unknown>, options?: {after?: number; timeoutMs?: number}) => Promise<JsonLine>;
	exited: Promise<number | null>;
};

/**
 * The built im-tui in --json mode, with pipes for stdin and stdout, its config and data under
 * `home` (so a second start finds the same account). The passphrase variable is not inherited.
 */
export function spawnJsonClient(port: number, home: string, args: string[], env: NodeJS.ProcessEnv = {}): JsonClient {
	const {IM_TUI_PASSPHRASE: _ignored, ...inherited} = process.env;
	const child = spawn(process.execPath, [clientBin, '--json', '--host', '127.0.0.1', '--port', String(port), ...args], {
		env: {...inherited, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), ...env},
		stdio: ['pipe', 'pipe', 'pipe'],
	});
	let out = '';
	let err = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
	// A test may write after the process ended (that is what some assert): no unhandled EPIPE.
	child.stdin.on('error', () => undefined);
	const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
	const lines = () =>
		out
			.split('\n')
			.filter(line => line !== '')
			.map(line => JSON.parse(line) as JsonLine);
	const matches = (line: JsonLine, match: Record<string, unknown>) => Object.entries(match).every(([key, value]) => JSON.stringify(line[key]) === JSON.stringify(value));
	return {
		child,
		lines,
		stdout: () => out,
		stderr: () => err,
		send(command) {
			const line = typeof command === 'string' || Buffer.isBuffer(command) ? command : JSON.stringify(command);
			child.stdin.write(line);
			child.stdin.write('\n');
		},
		async waitLine(match, {after = 0, timeoutMs = 15_000} = {}) {
			return waitFor(
				() => {
					const found = lines()
						.slice(after)
						.find(line => matches(line, match));
					if (found === undefined) throw new Error(`no line like ${JSON.stringify(match)} yet; stdout:\n${out}\nstderr:\n${err}`);
					return found;
				},
				{timeoutMs, intervalMs: 20},
			);
		},
		exited,
	};
}
