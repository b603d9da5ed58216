import {describe, expect, test} from 'vitest';
import {clientBin, runToExit, serverBin} from './helpers/relay-process.js';

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
		for (const flag of ['--no-color', '--bell on|off', '--mouse']) expect(result.stdout).toContain(flag);
	});
});
