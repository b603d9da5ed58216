// A person at the keyboard: the built client in a real pseudo-terminal (node-pty), timed from a
// byte written to the pty to the changed frame read back from it, with 10,000 messages in the open
// conversation; and from launch to the first prompt.
import {mkdtempSync, rmSync} from 'node:fs';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {percentile, round} from './measure.mjs';
import {personClient} from './person-client.mjs';

const require = createRequire(import.meta.url);
const clientBin = fileURLToPath(new URL('../dist/im-tui.js', import.meta.url));

const pause = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Output as drawn: colour and style sequences (SGR) taken out. */
const withoutStyles = text => text.replaceAll(/\u001B\[[\d;]*m/g, '');

/** What the bench keeps of the client's output: a few frames (one is under 20 KB). */
const keptOutput = 65_536;

/**
 * The built client in a pty. `mark()` starts a new stretch of output; `waitFor(test)` resolves with
 * the time at which the output since the mark (its last 64 KiB), styles taken out, passed `test`.
 * Only recent output is kept: testing a whole session's output on every read would cost the
 * bench itself more than the client takes to draw.
 */
function terminal(args, {columns = 120, rows = 35} = {}) {
	const {spawn} = require('node-pty');
	const env = {...process.env, TERM: 'xterm-256color'};
	delete env.CI;
	const started = performance.now();
	const pty = spawn(process.execPath, [...(process.env.IM_TUI_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.IM_TUI_BENCH_PROF] : []), clientBin, ...args], {name: 'xterm-256color', cols: columns, rows, env});
	let recent = '';
	let waiter;
	pty.onData(data => {
		recent = recent.length + data.length > keptOutput ? (recent + data).slice(-keptOutput) : recent + data;
		waiter?.();
	});
	let exited = false;
	pty.onExit(() => {
		exited = true;
		waiter?.();
	});
	return {
		started,
		write: data => pty.write(data),
		mark() {
			recent = '';
		},
		waitFor(test, timeoutMs = 60_000) {
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => {
					waiter = undefined;
					reject(new Error(`the client did not draw what was expected in ${timeoutMs} ms; it wrote:\n${recent.slice(-1500)}`));
				}, timeoutMs);
				waiter = () => {
					if (exited) {
						clearTimeout(timer);
						waiter = undefined;
						reject(new Error(`the client exited; it wrote:\n${recent.slice(-1500)}`));
					} else if (test(withoutStyles(recent))) {
						clearTimeout(timer);
						waiter = undefined;
						resolve(performance.now());
					}
				};
				waiter();
			});
		},
		kill() {
			if (exited) return;
			// Profiling: leave with Ctrl+C, so that node writes the profile.
			if (process.env.IM_TUI_BENCH_PROF) pty.write('\u0003');
			else pty.kill('SIGKILL');
		},
	};
}

/** Launch to the first prompt: no flags, so the first thing drawn is the question for the relay's host. */
async function launchToPrompt(runs) {
	const samples = [];
	for (let run = 0; run < runs; run++) {
		const place = mkdtempSync(join(tmpdir(), 'im-tui-bench-launch-'));
		const client = terminal(['--config-dir', place, '--data-dir', place]);
		try {
			samples.push((await client.waitFor(text => text.includes('Relay host:'))) - client.started);
		} finally {
			client.kill();
			rmSync(place, {recursive: true, force: true});
		}
	}
	return samples.sort((a, b) => a - b);
}

export async function terminalKeys(relay, {messages = 10_000, keys = 500} = {}) {
	const place = mkdtempSync(join(tmpdir(), 'im-tui-bench-keys-'));
	const rows = [];
	let alice;
	let bob;
	try {
		({client: bob} = await personClient(relay, `kb${process.pid}`, join(place, 'bob')));
		alice = terminal(['--host', '127.0.0.1', '--port', String(relay.port), '--trust', relay.fingerprint, '--user', `ka${process.pid}`, '--config-dir', join(place, 'alice'), '--data-dir', join(place, 'alice')]);
		// A first start on this device: no passphrase (Enter).
		await alice.waitFor(text => text.includes('Passphrase to encrypt your messages'));
		alice.write('\r');
		await alice.waitFor(text => text.includes('[online]') && text.includes(`to kb${process.pid}>`));
		const loaded = performance.now();
		// In runs the outbox can hold (1,000), each run sent once the relay has taken the one before.
		let accepted = 0;
		bob.on('accepted', () => accepted++);
		for (let sent = 0; sent < messages; ) {
			const run = Math.min(500, messages - sent);
			for (let index = sent; index < sent + run; index++) bob.send(`ka${process.pid}`, `message ${index} of the backlog, about as long as a chat line`);
			sent += run;
			while (accepted < sent) await pause(5);
		}
		await alice.waitFor(text => text.includes(`message ${messages - 1} of the backlog`), 300_000);
		const fillSeconds = (performance.now() - loaded) / 1000;

		const samples = [];
		const letters = 'abcdefghijklmnopr';
		for (let index = 0; index < keys; index++) {
			const letter = letters[index % letters.length];
			alice.mark();
			const start = performance.now();
			alice.write(letter);
			samples.push((await alice.waitFor(text => text.includes(`> ${letter}`))) - start);
			// Empty the input again (Ctrl+U), then leave a person's pause before the next key.
			alice.mark();
			alice.write('\u0015');
			// The input is empty again when the prompt is followed by the cursor cell and the row's end.
			await alice.waitFor(text => /> \s*\r?\n/.test(text) || text.endsWith('> '));
			await pause(30);
		}

		samples.sort((a, b) => a - b);
		const label = `keypress, ${messages.toLocaleString('en')} messages open`;
		rows.push(
			{benchmark: label, metric: 'p50', value: round(percentile(samples, 50), 2), unit: 'ms', note: `byte written to the pty → changed frame read back, ${keys} keys; the backlog took ${round(fillSeconds, 1)} s to arrive`},
			{benchmark: label, metric: 'p99', value: round(percentile(samples, 99), 2), unit: 'ms', note: 'target p99 < 16 ms'},
		);
	} finally {
		alice?.kill();
		await bob?.close();
		rmSync(place, {recursive: true, force: true});
	}

	const launches = await launchToPrompt(10);
	rows.push({benchmark: 'launch to first prompt', metric: 'p50', value: round(percentile(launches, 50), 0), unit: 'ms', note: `spawn → "Relay host:" drawn, 10 launches (max ${round(launches.at(-1), 0)} ms); target < 500 ms`});
	return rows;
}
