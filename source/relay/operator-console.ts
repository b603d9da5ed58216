import {createInterface} from 'node:readline';
import type {Readable, Writable} from 'node:stream';

/**
 * Lines the operator types become announcements. readline turns Ctrl+C into a 'SIGINT' event on
 * the interface rather than the process, so it is passed on to onInterrupt.
 */
export function startOperatorConsole(options: {
	input: Readable;
	output: Writable;
	announce: (text: string) => void;
	onInterrupt: () => void;
}): () => void {
	const prompt = createInterface({input: options.input, output: options.output, prompt: 'announce> '});
	prompt.on('line', line => {
		const text = line.trim();
		if (text.length > 0) options.announce(text);
		prompt.prompt();
	});
	prompt.on('SIGINT', options.onInterrupt);
	prompt.prompt();
	return () => prompt.close();
}
