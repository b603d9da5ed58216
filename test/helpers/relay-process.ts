import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import {fileURLToPath} from 'node:url';

export const serverBin = fileURLToPath(new URL('../../dist/server-cli.js', import.meta.url));
/** The client's bin; IM_TUI_CLIENT_BIN runs the real-terminal tests against another build (an older release, say). */
export const clientBin = process.env.IM_TUI_CLIENT_BIN ?? fileURLToPath(new URL('../../dist/im-tui.js', import.meta.url));

export type RelayProcess = {
	child: ChildProcessWithoutNullStreams;
	port: number;
	fingerprint: string;
	stdout: () => string;
	stderr: () => string;
	exited: Promise<number | null>;
};

/**
 * Starts the built im-tui-server and waits for the line that tells clients how to connect. It
 * listens on 127.0.0.1 on a free port unless `args` name them (`--port N`: a restart on the port it had before).
 */
export async function spawnRelay(args: string[], env: NodeJS.ProcessEnv = {}, bin = serverBin): Promise<RelayProcess> {
	const port = args.includes('--port') ? [] : ['--port', '0'];
	const host = args.includes('--host') ? [] : ['--host', '127.0.0.1'];
	const child = spawn(process.execPath, [bin, ...host, ...port, ...args], {
		env: {...process.env, ...env},
	});
	let out = '';
	let err = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
	const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
	const ready = await new Promise<RegExpMatchArray>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`relay did not start:\n${out}\n${err}`)), 10_000);
		const check = () => {
			const match = /--port (\d+) --trust ([0-9a-f]{64})/.exec(out);
			if (match) {
				clearTimeout(timer);
				resolve(match);
			}
		};
		child.stdout.on('data', check);
		void exited.then(code => reject(new Error(`relay exited with ${code}:\n${out}\n${err}`)));
	});
	return {child, port: Number(ready[1]), fingerprint: ready[2]!, stdout: () => out, stderr: () => err, exited};
}

/** Runs a bin to completion and returns its exit code and output. */
export async function runToExit(bin: string, args: string[], env: NodeJS.ProcessEnv = {}) {
	const child = spawn(process.execPath, [bin, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
	const code = await new Promise<number | null>(resolve => child.on('exit', resolve));
	return {code, stdout, stderr};
}
