import {generateIdentity, type IdentityKeys} from '../../crypto/identity.js';
import {keyPairFromPrivate, privateRaw, type RawKeyPair} from '../../crypto/raw-keys.js';
import type {SqliteDatabase} from './account-database.js';

type AccountRow = {
	relay: string;
	username: string;
	identity_secret: Buffer;
	identity_public: Buffer;
	x25519_secret: Buffer;
	x25519_public: Buffer;
};

/**
 * The user's identity for this relay and name (PROTOCOL.md section 9): the account row, made on
 * first use. Like ssh with a damaged key file, a row that does not check out is an error, never
 * silently replaced by a new identity (the relay would not let a new one in under this name).
 */
export function loadOrCreateAccountKeys(db: SqliteDatabase, relayFingerprint: string, username: string): IdentityKeys {
	const row = db.prepare('SELECT * FROM account').get() as AccountRow | undefined;
	if (row !== undefined) return checkedKeys(row, relayFingerprint, username);
	const keys = generateIdentity();
	saveAccountKeys(db, relayFingerprint, username, keys);
	return keys;
}

/** Writes the account row; used at first use and when a release before 0.3's identity.json is imported. */
export function saveAccountKeys(db: SqliteDatabase, relayFingerprint: string, username: string, keys: IdentityKeys): void {
	db.prepare(
		`INSERT INTO account (only, relay, username, identity_secret, identity_public, x25519_secret, x25519_public, created_at)
		VALUES (1, ?, ?, ?, ?, ?, ?, ?)`,
	).run(relayFingerprint, username, privateRaw(keys.identity.privateKey), keys.identity.publicRaw, privateRaw(keys.x25519.privateKey), keys.x25519.publicRaw, Date.now());
}

function checkedKeys(row: AccountRow, relayFingerprint: string, username: string): IdentityKeys {
	const damaged = (why: string) => new Error(`this account's keys are damaged (${why}): restore its database from a backup; a new identity would not be let in under this name`);
	if (row.relay !== relayFingerprint || row.username !== username) throw damaged(`they belong to another relay or username than ${username} on this relay`);
	const pair = (curve: 'ed25519' | 'x25519', secret: Buffer, publicRaw: Buffer): RawKeyPair => {
		try {
			const keys = keyPairFromPrivate(curve, secret);
			if (keys.publicRaw.equals(publicRaw)) return keys;
		} catch {}
		throw damaged(`the ${curve} key is malformed or does not match its public half`);
	};
	return {identity: pair('ed25519', row.identity_secret, row.identity_public), x25519: pair('x25519', row.x25519_secret, row.x25519_public)};
}
