import {createRequire} from 'node:module';
import type {IPty} from 'node-pty';

const require = createRequire(import.meta.url);

export type PtyProcess = {
	readonly pty: IPty;
	/** Everything the program wrote, as text (escape sequences included). */
	output(): string;
	/** Set once the program has exited. */
	exit(): {exitCode: number; signal: number | undefined} | undefined;
	readonly exited: Promise<{exitCode: number; signal: number | undefined}>;
	write(data: string | Buffer): void;
	/**
	 * Resolves once the output written after `from` (an output() length), with its colour and style
	 * sequences (SGR) taken out so that text reads as drawn, satisfies `condition`.
	 */
	waitFor(condition: (text: string) => boolean, options?: {from?: number; timeoutMs?: number; description?: string}): Promise<string>;
	kill(): Promise<void>;
};

/**
 * A program in a real pseudo-terminal (node-pty): what it reads comes byte for byte from write(),
 * as a terminal would deliver keys, pastes and garbage; what it draws is collected raw.
 */
export function spawnPty(file: string, args: string[], options: {columns?: number; rows?: number; env?: NodeJS.ProcessEnv; cwd?: string} = {}): PtyProcess {
	const {spawn} = require('node-pty') as typeof import('node-pty');
	const env: NodeJS.ProcessEnv = {...(options.env ?? process.env), TERM: 'xterm-256color'};
	// Ink draws only the final frame when CI is set.
	delete env.CI;
	const pty = spawn(file, args, {name: 'xterm-256color', cols: options.columns ?? 100, rows: options.rows ?? 30, env: env as Record<string, string>, cwd: options.cwd});
	let text = '';
	let exit: {exitCode: number; signal: number | undefined} | undefined;
	const waiters = new Set<() => void>();
	pty.onData(data => {
		text += data;
		for (const waiter of [...waiters]) waiter();
	});
	const exited = new Promise<{exitCode: number; signal: number | undefined}>(resolve => {
		pty.onExit(result => {
			exit = {exitCode: result.exitCode, signal: result.signal};
			for (const waiter of [...waiters]) waiter();
			resolve({exitCode: result.exitCode, signal: result.signal});
		});
	});
	return {
		pty,
		output: () => text,
		exit: () => exit,
		exited,
		write(data) {
			pty.write(data);
		},
		async waitFor(condition, {from = 0, timeoutMs = 15_000, description = 'the condition'} = {}) {
			return new Promise((resolve, reject) => {
				const check = () => {
					const since = withoutStyles(text.slice(from));
					if (condition(since)) {
						done();
						resolve(since);
					} else if (exit !== undefined) {
						done();
						reject(new Error(`the program exited (${JSON.stringify(exit)}) while waiting for ${description}; it wrote:\n${text.slice(-2000)}`));
					}
				};

				const timer = setTimeout(() => {
					done();
					reject(new Error(`waited ${timeoutMs} ms for ${description}; the program wrote:\n${text.slice(-2000)}`));
				}, timeoutMs);
				const done = () => {
					clearTimeout(timer);
					waiters.delete(check);
				};

				waiters.add(check);
				check();
			});
		},
		async kill() {
			if (exit === undefined) {
				pty.kill('SIGKILL');
				await exited;
			}
		},
	};
}

/** Output with its SGR sequences (colours, bold, inverse) taken out. */
export function withoutStyles(text: string): string {
	return text.replaceAll(/\u001B\[[\d;]*m/g, '');
}
