import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, test} from 'vitest';
import {clientBin, runToExit, serverBin} from './helpers/relay-process.js';
import {tempDir} from './helpers/temp-dir.js';

// Finding 12: an unknown flag printed only "Unknown flag --bogus", with no pointer to --help; the
// relay took unknown flags silently, and a flag given twice ended in a stack trace.
describe('bad flags, for both programs', () => {
	test.each([
		['im-tui', clientBin, ['--bogus'], 'unknown flag --bogus'],
		['im-tui', clientBin, ['--no-colour'], 'unknown flag --no-colour'],
		['im-tui', clientBin, ['-z'], 'unknown flag -z'],
		['im-tui', clientBin, ['stray'], 'unexpected argument "stray" (every option is a --flag)'],
		['im-tui', clientBin, ['--host', 'a', '--host', 'b'], 'the flag --host can only be set once.'],
		['im-tui', clientBin, ['--bell', 'loud'], '--bell must be on or off'],
		['im-tui', clientBin, ['--keep-history', '0'], '--keep-history must be a number of days (1 to 36500), forever or off'],
		['im-tui', clientBin, ['--keep-history', '36501'], '--keep-history must be a number of days (1 to 36500), forever or off'],
		['im-tui', clientBin, ['--keep-history', '7.5'], '--keep-history must be a number of days (1 to 36500), forever or off'],
		['im-tui', clientBin, ['--keep-history', 'always'], '--keep-history must be a number of days (1 to 36500), forever or off'],
		['im-tui', clientBin, ['--keep-history', ''], '--keep-history must be a number of days (1 to 36500), forever or off'],
		['im-tui', clientBin, ['--passphrase-file', '/nonexistent/im-tui/passphrase'], '--passphrase-file: cannot read /nonexistent/im-tui/passphrase (ENOENT)'],
		['im-tui', clientBin, ['--json'], '--json needs --host, --port and --user (a script cannot answer questions on screen)'],
		['im-tui', clientBin, ['--json', '--host', 'h', '--port', '1'], '--json needs --host, --port and --user (a script cannot answer questions on screen)'],
		['im-tui-server', serverBin, ['--bogus'], 'unknown flag --bogus'],
		['im-tui-server', serverBin, ['--port', '1', '--port', '2'], 'the flag --port can only be set once.'],
	])('%s %j: a sentence, where the flags are listed, exit code 2', async (program, bin, args, message) => {
		const result = await runToExit(bin, args);
		expect(result.code).toBe(2);
		expect(result.stderr).toBe(`${program}: ${message}\nRun ${program} --help to see the flags.\n`);
		expect(result.stdout).toBe('');
	});

	test('--help lists the new flags', async () => {
		const result = await runToExit(clientBin, ['--help']);
		expect(result.code).toBe(0);
		for (const flag of ['--no-color', '--bell on|off', '--mouse', '--keep-history DAYS|forever|off', '--passphrase-file FILE', 'IM_TUI_PASSPHRASE', '--json']) {
			expect(result.stdout).toContain(flag);
		}
	});
});

test('without --json, stdin and stdout must be a terminal: exit 2, pointing at --json', async () => {
	const result = await runToExit(clientBin, ['--host', '127.0.0.1', '--port', '1', '--user', 'alice']);
	expect(result.code).toBe(2);
	expect(result.stderr).toBe('im-tui: stdin and stdout must be a terminal (im-tui is a full-screen chat; run it in a terminal, not a pipe, or use --json)\n');
});

describe('the passphrase: from a file or IM_TUI_PASSPHRASE, never echoed', () => {
	const usage = (message: string) => `im-tui: ${message}\nRun im-tui --help to see the flags.\n`;
	const jsonArgs = ['--json', '--host', '127.0.0.1', '--port', '1', '--user', 'alice'];

	test.each([
		['an empty file', '', 'is empty: a passphrase needs at least one character'],
		['a file of one line feed', '\n', 'is empty: a passphrase needs at least one character'],
		['a first line of CR LF', '\r\nsecret\n', 'is empty: a passphrase needs at least one character'],
		['a first line over 1024 bytes', `${'s'.repeat(2000)}\n`, 'is longer than 1024 bytes'],
		['a NUL in the first line', 'sec\0ret\n', 'holds a NUL character, which a passphrase cannot'],
	])('%s: a usage error naming the file, exit 2', async (_name, content, message) => {
		const file = join(tempDir(), 'passphrase');
		writeFileSync(file, content, {mode: 0o600});
		const result = await runToExit(clientBin, [...jsonArgs, '--passphrase-file', file], {IM_TUI_PASSPHRASE: ''});
		expect(result.code).toBe(2);
		expect(result.stderr).toBe(usage(`--passphrase-file: the first line of ${file} ${message}`));
		expect(result.stdout).toBe('');
	});

	test('a directory: cannot read it, exit 2', async () => {
		const dir = join(tempDir(), 'a-directory');
		mkdirSync(dir);
		const result = await runToExit(clientBin, [...jsonArgs, '--passphrase-file', dir]);
		expect(result.code).toBe(2);
		expect(result.stderr).toBe(usage(`--passphrase-file: cannot read ${dir} (EISDIR)`));
	});

	test('IM_TUI_PASSPHRASE set but empty: a usage error, exit 2', async () => {
		const result = await runToExit(clientBin, jsonArgs, {IM_TUI_PASSPHRASE: ''});
		expect(result.code).toBe(2);
		expect(result.stderr).toBe(usage('IM_TUI_PASSPHRASE is empty: a passphrase needs at least one character'));
	});

	test('a bad --keep-history is refused before the passphrase is read, which is never echoed', async () => {
		const result = await runToExit(clientBin, [...jsonArgs, '--keep-history', 'x'], {IM_TUI_PASSPHRASE: 'hunter2-secret'});
		expect(result.code).toBe(2);
		expect(result.stderr + result.stdout).not.toContain('hunter2');
	});
});
