import {closeSync, openSync, readFileSync} from 'node:fs';
import {fromBase64Url} from '../../crypto/base64url.js';
import type {IdentityKeys, PublicIdentity} from '../../crypto/identity.js';
import {keyPairFromPrivate, type RawKeyPair} from '../../crypto/raw-keys.js';
import {checkPrivateDescriptor} from './private-file.js';
import {parseContact, parseNamedEntries, parseRecord} from '../contact-json.js';
import type {StoredContact} from '../contact-record.js';

// The JSON files of releases before 0.3 (identity.json, pins.json, contacts.json, outbox.json,
// carried-over.json), read once, to import them into the account's database.

/** Reads a file only its owner may read (and write), or undefined when it does not exist. */
export function readPrivateFile(path: string): string | undefined {
	let fd: number;
	try {
		fd = openSync(path, 'r');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
	try {
		checkPrivateDescriptor(fd, path, why => new Error(why));
		return readFileSync(fd, 'utf8');
	} finally {
		closeSync(fd);
	}
}

export function parseIdentityFile(path: string, text: string, relayFingerprint: string, username: string): IdentityKeys {
	const damaged = (why: string) => new Error(`${path} is damaged (${why}): restore it from a backup; a new identity would not be let in under this name`);
	const fields = asRecord(parseJson(text, () => damaged('not JSON')));
	if (fields?.version !== 1) throw damaged('not a version 1 identity file');
	if (fields.relay !== relayFingerprint || fields.username !== username) throw damaged(`it belongs to another relay or username than ${username} on this relay`);
	const keyPair = (value: unknown, curve: 'ed25519' | 'x25519'): RawKeyPair => {
		const {secret, public: publicKey} = asRecord(value) ?? {};
		try {
			const pair = keyPairFromPrivate(curve, fromBase64Url(secret as string, 32));
			if (pair.publicRaw.equals(fromBase64Url(publicKey as string, 32))) return pair;
		} catch {}
		throw damaged(`the ${curve} key is missing, malformed or does not match its public half`);
	};
	return {identity: keyPair(fields.identity, 'ed25519'), x25519: keyPair(fields.x25519, 'x25519')};
}

export function parsePinsFile(path: string, text: string): Map<string, PublicIdentity> {
	return parseNamedEntries(text, 'pins', entry => parseRecord(entry) ?? 'bad record', why => damagedFile(path, why));
}

export function parseContactsFile(path: string, text: string): Map<string, StoredContact> {
	return parseNamedEntries(text, 'contacts', parseContact, why => damagedFile(path, why));
}

/** The envelopes of an outbox.json, unchecked: the importer checks each like one from the database. */
export function parseOutboxFile(path: string, text: string): unknown[] {
	const top = asRecord(parseJson(text, () => damagedFile(path, 'not JSON')));
	if (top?.version !== 1 || !Array.isArray(top.envelopes)) throw damagedFile(path, 'not a version 1 outbox file');
	return top.envelopes;
}

function damagedFile(path: string, why: string): Error {
	return new Error(`${path} is damaged (${why}); fix or restore it, then start im-tui again (nothing was imported)`);
}

function parseJson(text: string, damaged: () => Error): unknown {
	try {
		return JSON.parse(text);
	} catch {
		throw damaged();
	}
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
	return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
