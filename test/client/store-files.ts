import {randomBytes} from 'node:crypto';
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {fingerprint} from '../../source/crypto/keys.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';

// Shared by the tests of the client's account database: a relay fingerprint, and a look at every
// byte of every file a store left on disk.

export function relayFingerprint(): string {
	return fingerprint(generateRawKeyPair('ed25519').publicRaw);
}

/** A word no file holds by chance: letters only, so the full-text index keeps it whole. */
export function marker(prefix = 'marker'): string {
	return `${prefix}${randomBytes(12).toString('hex').replace(/[0-9]/g, digit => 'qrstuvwxyz'[Number(digit)]!)}`;
}

/** Every regular file under `directory`, recursively (a missing directory has none). */
export function filesUnder(directory: string): string[] {
	let entries;
	try {
		entries = readdirSync(directory, {withFileTypes: true});
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
		throw error;
	}
	return entries.flatMap(entry => {
		const path = join(directory, entry.name);
		if (entry.isDirectory()) return filesUnder(path);
		return entry.isFile() ? [path] : [];
	});
}

/**
 * `text` as it could sit in a file: UTF-8, UTF-16LE, hex (either case) and base64 / base64url of
 * its UTF-8 bytes at each of the three alignments a longer encoded run can put it at.
 */
export function encodings(text: string): Array<{name: string; bytes: Buffer}> {
	const utf8 = Buffer.from(text, 'utf8');
	const found = [
		{name: 'utf8', bytes: utf8},
		{name: 'utf16le', bytes: Buffer.from(text, 'utf16le')},
		{name: 'hex', bytes: Buffer.from(utf8.toString('hex'))},
		{name: 'HEX', bytes: Buffer.from(utf8.toString('hex').toUpperCase())},
	];
	for (let offset = 0; offset < 3; offset++) {
		const padded = Buffer.concat([Buffer.alloc(offset), utf8]);
		const first = Math.ceil(offset / 3) * 4;
		const last = Math.floor(padded.length / 3) * 4;
		for (const encoding of ['base64', 'base64url'] as const) {
			found.push({name: `${encoding}+${offset}`, bytes: Buffer.from(padded.toString(encoding).slice(first, last))});
		}
	}
	return found;
}

/** The files under `directory` (and how) that hold `text` in any of its encodings(). */
export function filesHolding(directory: string, text: string, files = filesUnder(directory)): string[] {
	const forms = encodings(text);
	const holding: string[] = [];
	for (const path of files) {
		let content: Buffer;
		try {
			content = readFileSync(path);
		} catch (error) {
			// A file another process (or test) removed since it was listed.
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
			throw error;
		}
		for (const {name, bytes} of forms) if (content.includes(bytes)) holding.push(`${path} (${name})`);
	}
	return holding;
}

export function mode(path: string): number {
	return statSync(path).mode & 0o777;
}
