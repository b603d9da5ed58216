import {readdirSync, unlinkSync} from 'node:fs';
import {join} from 'node:path';
import {newContact, type StoredContact} from '../contact-record.js';
import {serialiseContact} from '../contact-json.js';
import {parseEnvelope} from '../outbox-store.js';
import type {SqliteDatabase} from './account-database.js';
import {saveAccountKeys} from './account-keys.js';
import {parseContactsFile, parseIdentityFile, parseOutboxFile, parsePinsFile, readPrivateFile} from './legacy-files.js';

/** The files of releases before 0.3 in an account directory, and what each became. */
export const legacyFiles = ['identity.json', 'pins.json', 'contacts.json', 'outbox.json', 'carried-over.json'] as const;

/**
 * Imports an account directory written by a release before 0.3 into its new, empty database, in
 * one transaction: the identity, every pin, contact, counter and inbox entry (contacts.json wins
 * over pins.json for a name in both, as it did), the outbox in its order, and the carry-over mark.
 * Only once the import is durable (a full checkpoint) are the JSON files deleted, with the lock
 * and temporary files the old store left; a damaged file stops the import and changes nothing.
 * Returns whether there was anything to import.
 */
export function importLegacyAccount(db: SqliteDatabase, directory: string, relayFingerprint: string, username: string): boolean {
	const read = (name: string) => ({path: join(directory, name), text: readPrivateFile(join(directory, name))});
	const identity = read('identity.json');
	const account = db.prepare('SELECT identity_public FROM account').get() as {identity_public: Buffer} | undefined;
	if (identity.text === undefined) return false;
	if (account !== undefined) {
		// What a process killed after the import left; files of another identity (a restored
		// backup, say), or that no longer read, are not this account's to delete.
		try {
			if (parseIdentityFile(identity.path, identity.text, relayFingerprint, username).identity.publicRaw.equals(account.identity_public)) removeLegacyFiles(directory);
		} catch {}
		return false;
	}
	const keys = parseIdentityFile(identity.path, identity.text, relayFingerprint, username);
	const contacts = new Map<string, StoredContact>();
	const pins = read('pins.json');
	if (pins.text !== undefined) for (const [name, pin] of parsePinsFile(pins.path, pins.text)) contacts.set(name, newContact(pin));
	const known = read('contacts.json');
	if (known.text !== undefined) for (const [name, contact] of parseContactsFile(known.path, known.text)) contacts.set(name, contact);
	const outbox = read('outbox.json');
	const envelopes = outbox.text === undefined ? [] : parseOutboxFile(outbox.path, outbox.text).map(entry => parseEnvelope(entry, outbox.path));
	const carried = read('carried-over.json');

	db.transaction(() => {
		saveAccountKeys(db, relayFingerprint, username, keys);
		const contact = db.prepare('INSERT INTO contacts (name, contact) VALUES (?, ?)');
		for (const [name, entry] of contacts) contact.run(name, JSON.stringify(serialiseContact(entry)));
		const envelope = db.prepare('INSERT OR IGNORE INTO outbox (id, recipient, envelope) VALUES (?, ?, ?)');
		// A copy of an envelope already taken is ignored (UNIQUE (id, recipient)): the first one stays.
		for (const entry of envelopes) envelope.run(entry.id, entry.to, JSON.stringify(entry));
		if (carried.text !== undefined) db.prepare('INSERT INTO settings (name, value) VALUES (?, ?)').run('carried-over-at', new Date().toISOString());
		db.prepare('INSERT INTO settings (name, value) VALUES (?, ?)').run('imported-json-at', new Date().toISOString());
	}).immediate();
	// synchronous=NORMAL does not flush a commit: this one must be on disk before the files go.
	db.pragma('wal_checkpoint(FULL)');
	removeLegacyFiles(directory);
	return true;
}

/** The JSON files, their locks and the temporary files a killed writer left; the identity last. */
function removeLegacyFiles(directory: string): void {
	const leftovers = readdirSync(directory).filter(name => /^(pins|contacts|outbox|carried-over)\.json(\.lock|\..*\.tmp)?$|^identity\.json\..*\.tmp$/.test(name));
	for (const name of [...leftovers, 'identity.json']) {
		try {
			unlinkSync(join(directory, name));
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
		}
	}
}
