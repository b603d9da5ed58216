// The names the constructions here bind (identities, login proofs, envelopes): the protocol's
// username rule (PROTOCOL.md section 4). It lives here so that crypto depends on nothing else of
// ours; source/net/usernames.ts builds the wire's checks on it.

export const maxUsernameLength = 32;

export const reservedUsernames: ReadonlySet<string> = new Set(['system', 'everyone', 'relay', 'server', 'admin', 'root', 'all', 'me']);

/** 1 to 32 of a-z, 0-9, _ and -: a folded name of the username's shape, reserved or not. */
export const usernamePattern = /^[a-z0-9_-]{1,32}$/;

export function isValidUsername(name: string): boolean {
	return usernamePattern.test(name) && !reservedUsernames.has(name);
}
