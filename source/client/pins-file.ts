import type {PublicIdentity} from '../crypto/identity.js';
import {parseNamedEntries, parseRecord, serialiseRecord} from './contacts-file.js';

// The format of pins.json: the users this account has seen but has nothing else about, each by the
// record it first saw (contact-store.ts). A name in contacts.json is read from there instead.

export function serialisePins(pins: ReadonlyMap<string, PublicIdentity>): string {
	// Object.fromEntries defines own properties, so even a user named "__proto__" is stored as data.
	const entries = [...pins].map(([name, record]) => [name, serialiseRecord(record)]);
	return JSON.stringify({version: 1, pins: Object.fromEntries(entries)}) + '\n';
}

export function parsePins(path: string, text: string): Map<string, PublicIdentity> {
	return parseNamedEntries(text, 'pins', entry => parseRecord(entry) ?? 'bad record', why => damaged(path, why));
}

function damaged(path: string, why: string): Error {
	return new Error(`${path} is damaged (${why}); fix or restore it (removing it forgets the keys first seen of the users never talked with)`);
}
