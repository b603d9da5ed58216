import {expect} from 'vitest';
import {flushEffects, waitFor} from './wait-for.js';

type View = {stdin: {write(data: string): void; listenerCount(event: string): number}; lastFrame(): string | undefined};

export const keys = {up: '\u001B[A', down: '\u001B[B', enter: '\r', ctrlC: '\u0003'};

/** Waits until Ink listens to stdin and the current frame's input handlers are attached. */
export async function ready(view: View): Promise<void> {
	await waitFor(() => expect(view.stdin.listenerCount('readable')).toBeGreaterThan(0));
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
