import type {PublicIdentity} from '../crypto/identity.js';
import {isValidUsername} from '../net/usernames.js';
import {asRecord, parseRecord, serialiseRecord} from './contacts-file.js';

// The format of pins.json: the users this account has seen but has nothing else about, each by the
// record it first saw (contact-store.ts). A name in contacts.json is read from there instead.

export function serialisePins(pins: ReadonlyMap<string, PublicIdentity>): string {
	// Object.fromEntries defines own properties, so even a user named "__proto__" is stored as data.
	const entries = [...pins].map(([name, record]) => [name, serialiseRecord(record)]);
	return JSON.stringify({version: 1, pins: Object.fromEntries(entries)}) + '\n';
}

export function parsePins(path: string, text: string): Map<string, PublicIdentity> {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		throw damaged(path, 'not JSON');
	}
	const top = asRecord(value);
	if (top?.version !== 1 || asRecord(top.pins) === undefined) throw damaged(path, 'not a version 1 pins file');
	const pins = new Map<string, PublicIdentity>();
	for (const [name, entry] of Object.entries(top.pins as Record<string, unknown>)) {
		if (!isValidUsername(name)) throw damaged(path, 'a name is not a username');
		const record = parseRecord(entry);
		if (record === undefined) throw damaged(path, `${name}: bad record`);
		pins.set(name, record);
	}
	return pins;
}

function damaged(path: string, why: string): Error {
	return new Error(`${path} is damaged (${why}); fix or restore it (removing it forgets the keys first seen of the users never talked with)`);
}
