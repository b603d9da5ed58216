import {spawn, type ChildProcess} from 'node:child_process';

/** A node process whose stdout is collected as lines, as they come. */
export type LineProcess = {child: ChildProcess; lines: string[]; exited: Promise<number | null>};

/** Runs `script` with `args` under this node; its stdin is a pipe the test may write to, its stderr the test's. */
export function lineProcess(script: string, args: readonly string[]): LineProcess {
	const child = spawn(process.execPath, [script, ...args], {stdio: ['pipe', 'pipe', 'inherit']});
	const lines: string[] = [];
	let partial = '';
	child.stdout!.setEncoding('utf8');
	child.stdout!.on('data', (chunk: string) => {
		const parts = (partial + chunk).split('\n');
		partial = parts.pop()!;
		lines.push(...parts);
	});
	const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
	return {child, lines, exited};
}
