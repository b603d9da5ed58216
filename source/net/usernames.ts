import {maxUsernameLength, reservedUsernames, usernamePattern, isValidUsername} from '../crypto/username-rule.js';

export {maxUsernameLength, reservedUsernames, isValidUsername};

/** ASCII case folding, the only folding the protocol does (PROTOCOL.md section 4). */
export function foldUsername(name: string): string {
	return name.replace(/[A-Z]/g, letter => letter.toLowerCase());
}

export type UsernameCheck = {ok: true; username: string} | {ok: false; code: 'invalid_username' | 'reserved_username'; message: string};

export function checkUsername(raw: string): UsernameCheck {
	const username = foldUsername(raw);
	if (!usernamePattern.test(username)) {
		return {
			ok: false,
			code: 'invalid_username',
			message: `a username is 1 to ${maxUsernameLength} of a-z, 0-9, _ and -`,
		};
	}
	if (reservedUsernames.has(username)) {
		return {ok: false, code: 'reserved_username', message: `"${username}" is reserved`};
	}
	return {ok: true, username};
}

/** A folded name of the username's shape, reserved or not: what a lookup's `missing` may hold. */
export function isFoldedName(name: string): boolean {
	return usernamePattern.test(name);
}
