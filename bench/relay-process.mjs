// Starts the built relay in its own process on a free port, as an operator would.
import {spawn} from 'node:child_process';
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

export async function startRelayProcess(extraArgs = []) {
	const dataDir = mkdtempSync(join(tmpdir(), 'im-tui-bench-'));
	const child = spawn(process.execPath, ['dist/server-cli.js', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...extraArgs], {
		stdio: ['ignore', 'pipe', 'ignore'],
	});
	const port = await new Promise((resolve, reject) => {
		let out = '';
		child.stdout.setEncoding('utf8').on('data', chunk => {
			out += chunk;
			const match = /--port (\d+) --trust/.exec(out);
			if (match) resolve(Number(match[1]));
		});
		child.once('exit', code => reject(new Error(`relay exited with ${code}: ${out}`)));
	});
	return {
		port,
		pid: child.pid,
		async stop() {
			child.kill('SIGTERM');
			await new Promise(resolve => child.once('exit', resolve));
		},
	};
}
