import {mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fromBase64Url, toBase64Url} from '../crypto/base64url.js';
import {generateRawKeyPair, keyPairFromPrivate, privateRaw, type RawKeyPair} from '../crypto/raw-keys.js';

export const identityFileName = 'relay_identity.json';

/**
 * The relay's long-term Ed25519 key, made on first start. The file is 0600 in a 0700 directory,
 * and like ssh we refuse a key file that others can read.
 */
export function loadOrCreateRelayIdentity(dataDir: string): RawKeyPair {
	mkdirSync(dataDir, {recursive: true, mode: 0o700});
	const path = join(dataDir, identityFileName);
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
		const identity = generateRawKeyPair('ed25519');
		const record = {type: 'ed25519', private: toBase64Url(privateRaw(identity.privateKey))};
		writeFileSync(path, JSON.stringify(record) + '\n', {mode: 0o600, flag: 'wx'});
		return identity;
	}
	if ((statSync(path).mode & 0o077) !== 0) {
		throw new Error(`${path} is readable by other users: run chmod 600 on it`);
	}
	let record: unknown;
	try {
		record = JSON.parse(text);
	} catch {
		throw new Error(`${path} is not a relay identity file (not JSON)`);
	}
	const {type, private: secret} = (record ?? {}) as Record<string, unknown>;
	if (type !== 'ed25519' || typeof secret !== 'string') {
		throw new Error(`${path} is not a relay identity file (expected an ed25519 key)`);
	}
	return keyPairFromPrivate('ed25519', fromBase64Url(secret, 32));
}
