import process from 'node:process';
import type {Writable} from 'node:stream';
import {ChatClient} from '../client/chat-client.js';
import type {ClientOptions} from '../client/client-events.js';
import {sanitizeText} from '../sanitize.js';
import {jsonExitCodes} from './exit-codes.js';
import {JsonSession} from './json-session.js';

/** Resolves once everything written to `stream` has been handed to the system. */
async function drained(stream: Writable): Promise<void> {
	if (stream.writableLength === 0 || stream.destroyed) return;
	await new Promise<void>(resolve => {
		stream.once('drain', resolve);
		stream.once('error', resolve);
		stream.once('close', resolve);
	});
}

/** `im-tui --json`: the session over this process's stdin and stdout, then the exit. */
export async function jsonMain(options: ClientOptions & {username: string}): Promise<never> {
	const {username, ...clientOptions} = options;
	const session = new JsonSession({
		connection: new ChatClient(clientOptions),
		username,
		input: process.stdin,
		output: process.stdout,
		errors: process.stderr,
	});
	const exit = async (code: number) => {
		await drained(process.stdout);
		process.exit(code);
	};
	const crash = (error: unknown) => {
		process.stderr.write(`im-tui: ${sanitizeText(error instanceof Error ? error.message : String(error)).slice(0, 400)}\n`);
		void exit(jsonExitCodes.error);
	};
	process.on('uncaughtException', crash);
	process.on('unhandledRejection', crash);
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => session.quit());
	return exit(await session.start().done) as Promise<never>;
}
