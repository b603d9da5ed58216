import {asObject} from '../net/messages.js';
import {sanitizeText} from '../sanitize.js';
import {relayAddress} from './known-relays.js';

/** The most of an unauthenticated refusal's text that is shown. */
export const maxUnverifiedChars = 200;

/** A plaintext error frame, whatever code it names (an unknown one too): the relay's claim, unchecked. */
export function tryPlaintextError(frame: string): {code: string; message: string} | undefined {
	try {
		const fields = asObject(JSON.parse(frame));
		if (fields.type !== 'error') return undefined;
		const text = (value: unknown) => (typeof value === 'string' ? value : '');
		return {code: text(fields.code), message: text(fields.message)};
	} catch {
		return undefined;
	}
}

/** What an unauthenticated refusal claimed, labelled as such, inert and cut short. */
export function unverifiedRefusal({host, port}: {host: string; port: number}, {code, message}: {code: string; message: string}): string {
	const claim = sanitizeText([code, message].filter(part => part !== '').join(': ')).trim();
	const characters = [...claim];
	const shown = characters.length > maxUnverifiedChars ? `${characters.slice(0, maxUnverifiedChars - 1).join('')}…` : claim;
	return `the relay at ${sanitizeText(relayAddress(host, port))} refused the connection (unverified: "${shown}")`;
}
