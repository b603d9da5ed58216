import {keys, press} from './keys.js';
import type {AppView} from './render-app.js';

/** What a first start on this device asks before the account is made (passphrase-prompt.tsx). */
export const firstStartPrompt = 'Passphrase to encrypt your messages and keys on this device (Enter for none)';

/**
 * Answers the first-start question with Enter (no passphrase) each time it comes up, as someone
 * who wants none would: for tests about something else that log in new accounts with a real client.
 * Watches the frames as they are drawn; nothing is polled.
 */
export function noPassphrase(view: AppView): void {
	const {stdout} = view;
	const draw = stdout.write;
	let shown = false;
	stdout.write = (frame: string): boolean => {
		const written = draw(frame);
		const asking = frame.includes(firstStartPrompt);
		if (asking && !shown) void press(view, keys.enter);
		if (frame !== '\u0007') shown = asking;
		return written;
	};
}

type Screen = {waitForScreen(session: string, condition: (screen: string) => boolean, options?: {timeoutMs?: number; description?: string}): Promise<string>; sendKeys(session: string, ...keys: string[]): Promise<void>};

/** In a real terminal (tmux): waits for the first-start question and answers Enter (no passphrase). */
export async function noPassphraseIn(tmux: Screen, session: string, {timeoutMs = 15_000} = {}): Promise<void> {
	// Its beginning: the whole line wraps on a narrow terminal.
	await tmux.waitForScreen(session, screen => screen.includes('Passphrase to encrypt your messages'), {timeoutMs, description: 'the first-start passphrase question'});
	await tmux.sendKeys(session, 'Enter');
}

/** The same under node-pty. */
export async function noPassphraseInPty(client: {waitFor(condition: (text: string) => boolean, options?: {description?: string}): Promise<string>; write(data: string): void}): Promise<void> {
	await client.waitFor(text => text.includes('Passphrase to encrypt your messages'), {description: 'the first-start passphrase question'});
	client.write('\r');
}
