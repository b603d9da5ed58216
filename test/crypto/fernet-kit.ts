import {Buffer} from 'node:buffer';
import {Fernet, FernetError} from '../../source/crypto/fernet.js';

export const key = Buffer.from(Array.from({length: 32}, (_, index) => index * 7));
export const fernet = new Fernet(key);
export const time = 1_700_000_000;

export {toBase64UrlPadded as padded} from '../../source/crypto/base64url.js';

/** The FernetError code `action` throws, or a description of what happened instead. */
export function codeOf(action: () => unknown): string {
	try {
		action();
	} catch (error) {
		if (error instanceof FernetError) {
			return error.code;
		}
		return `not a FernetError: ${String(error)}`;
	}
	return 'no error';
}
