import process from 'node:process';
import meow, {type AnyFlags, type Options, type Result} from 'meow';

/** Bad flags: a line saying what is wrong and where the flags are listed, then exit code 2. */
export function usageError(program: string, message: string): never {
	process.stderr.write(`${program}: ${message}\nRun ${program} --help to see the flags.\n`);
	process.exit(2);
}

function kebab(name: string): string {
	return name.replaceAll(/[A-Z]/g, letter => `-${letter.toLowerCase()}`);
}

/** The flag as the person typed it, for the message: `--no-colour`, not `colour`. */
function typed(key: string): string {
	const pattern = new RegExp(`^--?(?:no-)?${key.replaceAll(/[^\w-]/g, '')}(?:=|$)`, 'i');
	const word = process.argv.slice(2).find(argument => pattern.test(argument));
	return word?.split('=')[0] ?? `--${key}`;
}

/**
 * meow, made strict and kind: an unknown flag, a stray argument or a flag given twice is refused
 * with a sentence and a pointer to --help (meow alone prints only "Unknown flag --bogus", or
 * throws with a stack for a repeated flag).
 */
export function parseFlags<Flags extends AnyFlags>(program: string, help: string, options: Options<Flags>): Result<Flags> {
	let cli: Result<Flags>;
	try {
		cli = meow(help, {...options, allowUnknownFlags: true});
	} catch (error) {
		usageError(program, error instanceof Error ? error.message.replace(/^The flag/, 'the flag') : String(error));
	}

	const known = new Set(['help', 'version', ...Object.keys(options.flags ?? {}).flatMap(name => [name, kebab(name)])]);
	const unknown = Object.keys(cli.unnormalizedFlags).find(key => !known.has(key));
	if (unknown !== undefined) usageError(program, `unknown flag ${typed(unknown)}`);
	if (cli.input.length > 0) usageError(program, `unexpected argument "${cli.input[0]}" (every option is a --flag)`);
	return cli;
}
