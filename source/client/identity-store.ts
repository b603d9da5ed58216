import {randomBytes} from 'node:crypto';
import {closeSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fromBase64Url, toBase64Url} from '../crypto/base64url.js';
import {generateIdentity, type IdentityKeys} from '../crypto/identity.js';
import {keyPairFromPrivate, privateRaw, type RawKeyPair} from '../crypto/raw-keys.js';
import {isValidUsername} from '../net/usernames.js';

export const identityFileName = 'identity.json';

const fingerprintPattern = /^[0-9a-f]{64}$/;

/** `<dataDir>/<relay fingerprint>/<username>`: the client's files for one account on one relay. */
export function accountDirectory(dataDir: string, relayFingerprint: string, username: string): string {
	if (!fingerprintPattern.test(relayFingerprint)) throw new TypeError('a relay fingerprint is 64 lower-case hex digits');
	if (!isValidUsername(username)) throw new TypeError('an account directory needs a folded, unreserved username');
	return join(dataDir, relayFingerprint, username);
}

/**
 * The user's identity for this relay and name (PROTOCOL.md section 9), made on first use. The file
 * is 0600 in 0700 directories, created atomically and never replaced; like ssh we refuse a key
 * file that others can read, or that is damaged, rather than making a new identity silently.
 */
export function loadOrCreateIdentity(dataDir: string, relayFingerprint: string, username: string): IdentityKeys {
	const directory = accountDirectory(dataDir, relayFingerprint, username);
	const path = join(directory, identityFileName);
	const existing = readPrivateFile(path);
	if (existing !== undefined) return parseIdentity(path, existing, relayFingerprint, username);
	mkdirSync(directory, {recursive: true, mode: 0o700});
	const keys = generateIdentity();
	const record = {
		version: 1,
		relay: relayFingerprint,
		username,
		identity: {secret: toBase64Url(privateRaw(keys.identity.privateKey)), public: toBase64Url(keys.identity.publicRaw)},
		x25519: {secret: toBase64Url(privateRaw(keys.x25519.privateKey)), public: toBase64Url(keys.x25519.publicRaw)},
	};
	if (writeFileAtomicSync(path, JSON.stringify(record) + '\n', {replace: false})) return keys;
	// Another instance created it first: use that one, so both agree.
	return parseIdentity(path, readPrivateFile(path)!, relayFingerprint, username);
}

/**
 * Reads a file only its owner may read (and write), or undefined when it does not exist. The
 * checks run on the opened descriptor, so the file checked is the file read.
 */
export function readPrivateFile(path: string): string | undefined {
	let fd: number;
	try {
		fd = openSync(path, 'r');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
	try {
		const stats = fstatSync(fd);
		if (!stats.isFile()) throw new Error(`${path} is not a regular file`);
		if ((stats.mode & 0o077) !== 0) {
			throw new Error(`${path} is accessible by other users (mode ${(stats.mode & 0o777).toString(8)}): run chmod 600 on it`);
		}
		if (process.getuid !== undefined && stats.uid !== process.getuid()) {
			throw new Error(`${path} belongs to another user (uid ${stats.uid})`);
		}
		return readFileSync(fd, 'utf8');
	} finally {
		closeSync(fd);
	}
}

/**
 * Writes `text` to `path` as a whole or not at all: a 0600 temporary file in the same directory,
 * flushed to disk, then renamed over `path` (`replace: true`) or linked to it only if it does not
 * exist (`replace: false`, returns false when it does). The directory is flushed after.
 */
export function writeFileAtomicSync(path: string, text: string, {replace}: {replace: boolean}): boolean {
	const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
	const fd = openSync(temporary, 'wx', 0o600);
	let created = true;
	try {
		try {
			writeFileSync(fd, text);
			fsyncSync(fd);
		} finally {
			closeSync(fd);
		}
		if (replace) {
			renameSync(temporary, path);
		} else {
			try {
				linkSync(temporary, path);
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
				created = false;
			}
		}
	} finally {
		try {
			unlinkSync(temporary);
		} catch {
			// Already renamed.
		}
	}
	if (created) syncDirectory(dirname(path));
	return created;
}

function syncDirectory(directory: string): void {
	let fd: number | undefined;
	try {
		fd = openSync(directory, 'r');
		fsyncSync(fd);
	} catch {
		// Not every platform can flush a directory; the rename itself is still atomic.
	} finally {
		if (fd !== undefined) closeSync(fd);
	}
}

function parseIdentity(path: string, text: string, relayFingerprint: string, username: string): IdentityKeys {
	const damaged = (why: string) =>
		new Error(`${path} is damaged (${why}): restore it from a backup; a new identity would not be let in under this name`);
	let record: unknown;
	try {
		record = JSON.parse(text);
	} catch {
		throw damaged('not JSON');
	}
	const fields = (typeof record === 'object' && record !== null ? record : {}) as Record<string, unknown>;
	if (fields.version !== 1) throw damaged('not a version 1 identity file');
	if (fields.relay !== relayFingerprint || fields.username !== username) {
		throw damaged(`it belongs to another relay or username than ${username} on this relay`);
	}
	return {
		identity: keyPair(fields.identity, 'ed25519', damaged),
		x25519: keyPair(fields.x25519, 'x25519', damaged),
	};
}

function keyPair(value: unknown, curve: 'ed25519' | 'x25519', damaged: (why: string) => Error): RawKeyPair {
	const {secret, public: publicKey} = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
	let pair: RawKeyPair;
	try {
		pair = keyPairFromPrivate(curve, fromBase64Url(secret as string, 32));
		if (!pair.publicRaw.equals(fromBase64Url(publicKey as string, 32))) throw new Error('mismatch');
	} catch {
		throw damaged(`the ${curve} key is missing, malformed or does not match its public half`);
	}
	return pair;
}
