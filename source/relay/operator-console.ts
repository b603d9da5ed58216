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
	const console = createInterface({input: options.input, output: options.output, prompt: 'announce> '});
	console.on('line', line => {
		const text = line.trim();
		if (text.length > 0) options.announce(text);
		console.prompt();
	});
	console.on('SIGINT', options.onInterrupt);
	console.prompt();
	return () => console.close();
}
