import {join} from 'node:path';
import {isValidUsername} from '../../net/usernames.js';

const fingerprintPattern = /^[0-9a-f]{64}$/;

export const databaseFileName = 'account.db';

/** `<dataDir>/<relay fingerprint>/<username>`: the client's files for one account on one relay. */
export function accountDirectory(dataDir: string, relayFingerprint: string, username: string): string {
	if (!fingerprintPattern.test(relayFingerprint)) throw new TypeError('a relay fingerprint is 64 lower-case hex digits');
	if (!isValidUsername(username)) throw new TypeError('an account directory needs a folded, unreserved username');
	return join(dataDir, relayFingerprint, username);
}

/** The account's database: everything the client keeps for one account on one relay. */
export function databasePath(dataDir: string, relayFingerprint: string, username: string): string {
	return join(accountDirectory(dataDir, relayFingerprint, username), databaseFileName);
}
