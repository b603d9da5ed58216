import {createHash, randomBytes} from 'node:crypto';

const fingerprintPattern = /^[0-9a-f]{64}$/;

/** A random 128-bit key as 32 lower-case hex characters. */
export function generateKey(): string {
	return randomBytes(16).toString('hex');
}

/** Groups of four separated by spaces, for people to read and compare. */
export function formatKey(key: string): string {
	const compact = key.replace(/\s+/g, '');
	const groups: string[] = [];
	for (let index = 0; index < compact.length; index += 4) {
		groups.push(compact.slice(index, index + 4));
	}
	return groups.join(' ');
}

/** Lower-case hex SHA-256 of a public key (PROTOCOL.md section 7). */
export function fingerprint(publicKey: Uint8Array): string {
	return createHash('sha256').update(publicKey).digest('hex');
}

/** A fingerprint typed by a person (any case, spaces or ':' between digits), or undefined. */
export function parseFingerprint(text: string): string | undefined {
	if (typeof text !== 'string') {
		return undefined;
	}
	const compact = text.replace(/[\s:]+/g, '').toLowerCase();
	return fingerprintPattern.test(compact) ? compact : undefined;
}
