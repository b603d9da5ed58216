import {localLoginCodes} from '../client/client-events.js';
import {loginErrorCodes} from '../net/error-codes.js';

/** How a --json process ends (README, "Scripts and bots: --json"). */
export const jsonExitCodes = {
	/** quit, the end of stdin, SIGINT or SIGTERM: the relay was told, the database closed. */
	ok: 0,
	/** The relay could not be reached (once input had ended), closed for good, stdout went away. */
	error: 1,
	/** Bad flags. */
	usage: 2,
	/** The relay is not trusted: unknown and no --trust, --trust does not match, or its key changed. */
	untrustedRelay: 3,
	/** The relay refused the login: the name is taken, reserved, throttled… */
	loginRefused: 4,
	/** This device could not open the account: passphrase missing or wrong, in use by another im-tui, damaged. */
	account: 5,
} as const;



/** The exit code for a login-error code, or the code of a 'closed' the process did not ask for. */
export function exitCodeFor(code: string): number {
	if (code === 'refused_relay') return jsonExitCodes.untrustedRelay;
	if (loginErrorCodes.has(code)) return jsonExitCodes.loginRefused;
	if (localLoginCodes.has(code)) return jsonExitCodes.account;
	return jsonExitCodes.error;
}
