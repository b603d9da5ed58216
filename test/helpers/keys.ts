import {expect} from 'vitest';
import {flushEffects, waitFor} from './wait-for.js';

type View = {stdin: {write(data: string): void; listenerCount(event: string): number}; lastFrame(): string | undefined};

export const keys = {
	up: '\u001B[A',
	down: '\u001B[B',
	left: '\u001B[D',
	right: '\u001B[C',
	enter: '\r',
	altEnter: '\u001B\r',
	ctrlC: '\u0003',
	pageUp: '\u001B[5~',
	pageDown: '\u001B[6~',
	ctrlEnd: '\u001B[1;5F',
	ctrlHome: '\u001B[1;5H',
	pasteStart: '\u001B[200~',
	pasteEnd: '\u001B[201~',
};

/** Wraps text in bracketed-paste markers, as a terminal in mode 2004 delivers a paste. */
export function paste(text: string): string {
	return `${keys.pasteStart}${text}${keys.pasteEnd}`;
}

/** Waits until the keyboard reads stdin and the current frame's effects have run. */
export async function ready(view: View): Promise<void> {
	await waitFor(() => expect(view.stdin.listenerCount('data')).toBeGreaterThan(0));
	await flushEffects();
}

/** Presses one key (or pastes text) once the handlers of the current frame are in place. */
export async function press(view: View, key: string): Promise<void> {
	await ready(view);
	view.stdin.write(key);
}

/** Types text, waits until the input shows it, then presses Enter. */
export async function submit(view: View, text: string): Promise<void> {
	await press(view, text);
	await waitFor(() => expect(view.lastFrame()).toContain(text));
	await press(view, keys.enter);
}
