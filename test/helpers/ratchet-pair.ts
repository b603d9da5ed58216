import {copyFileSync, existsSync} from 'node:fs';
import {join} from 'node:path';
import {ContactStore} from '../../source/client/contact-store.js';
import type {EndToEnd} from '../../source/client/end-to-end.js';
import {endToEndFor} from '../../source/client/ratchet/account-ratchet.js';
import type {PrekeyPublisher} from '../../source/client/ratchet/prekey-publisher.js';
import type {Bundle} from '../../source/client/ratchet/ratchet-sessions.js';
import {openAccountDatabase, type SqliteDatabase} from '../../source/client/store/account-database.js';
import {fromBase64Url} from '../../source/crypto/base64url.js';
import {generateIdentity, publicIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import type {ClientMessage, DeliveredEnvelope, Envelope} from '../../source/net/messages.js';
import {tempDir} from './temp-dir.js';

/** One user's end-to-end layer over a real account database of its own, without a relay. */
export type RatchetUser = {
	name: string;
	keys: IdentityKeys;
	directory: string;
	db: SqliteDatabase;
	e2e: EndToEnd;
	publisher: PrekeyPublisher;
	/** The prekeys the relay would hold for this user: what bundle() hands out. */
	published: {signed?: Bundle['signed']; oneTime: Array<{id: number; key: Buffer}>};
};

let delivery = 0;

/** A user whose database is in `directory` (new by default), with `keys` (new by default). */
export function ratchetUser(name: string, keys: IdentityKeys = generateIdentity(), directory = tempDir()): RatchetUser {
	const db = openAccountDatabase(join(directory, 'account.db'));
	const contacts = new ContactStore(db);
	const {e2e, publisher} = endToEndFor({database: db, username: name, keys, contacts});
	const user: RatchetUser = {name, keys, directory, db, e2e, publisher, published: {oneTime: []}};
	publish(user, {oneTime: 0, signed: null});
	return user;
}

/** Runs the user's publisher as if the relay held `relay`; what it uploads is what bundle() serves. */
export function publish(user: RatchetUser, relay: {oneTime: number; signed: number | null}): void {
	const message = user.publisher.update(relay);
	if (message === undefined || message.type !== 'prekeys') return;
	if (message.signed) {
		const {id, key, signature} = message.signed;
		user.published.signed = {id, key: fromBase64Url(key, 32), signature: fromBase64Url(signature, 64)};
	}
	for (const {id, key} of message.oneTime ?? []) user.published.oneTime.push({id, key: fromBase64Url(key, 32)});
}

/** A bundle of `user`'s, as the relay would hand it out: the signed prekey and, unless drained, one one-time prekey (used up). */
export function bundle(user: RatchetUser, withOneTime = true): Bundle {
	const oneTime = withOneTime ? user.published.oneTime.shift() : undefined;
	return {signed: user.published.signed!, ...(oneTime ? {oneTime} : {})};
}

/** Two users who have pinned each other. */
export function ratchetPair(): {alice: RatchetUser; bob: RatchetUser} {
	const alice = ratchetUser('alice');
	const bob = ratchetUser('bob');
	pin(alice, bob);
	pin(bob, alice);
	return {alice, bob};
}

export function pin(user: RatchetUser, other: RatchetUser): void {
	const record = publicIdentity(other.keys, other.name);
	expectVerdict(user.e2e.observeAll([{username: other.name, online: true, identity: record.identity.toString('base64url'), x25519: record.x25519.toString('base64url'), binding: record.binding.toString('base64url')}])[0]);
}

function expectVerdict(verdict: string | undefined): void {
	if (verdict !== 'pinned' && verdict !== 'same') throw new Error(`pinning failed: ${verdict}`);
}

/** `envelope` as the relay delivers it, from `from`. */
export function delivered(from: string, envelope: Envelope): DeliveredEnvelope {
	delivery++;
	return {...envelope, delivery, from, time: Date.now()};
}

/** `from` writes `text` to `to` (starting a session from `to`'s bundle if needed); the envelope as delivered. */
export function write(from: RatchetUser, to: RatchetUser, text: string, id = `m${delivery + 1}`): DeliveredEnvelope {
	let envelope = from.e2e.seal(to.name, 'direct', id, text);
	if (envelope === undefined) {
		from.e2e.startSession(to.name, bundle(to));
		[envelope] = from.e2e.sealWaiting(to.name, 1);
	}
	return delivered(from.name, envelope!);
}

/** A copy of the user's database as it is now (a stolen disk, or a backup), opened as a second user. */
export function copyOf(user: RatchetUser, directory = tempDir()): RatchetUser {
	user.db.pragma('wal_checkpoint(FULL)');
	copyFileSync(join(user.directory, 'account.db'), join(directory, 'account.db'));
	if (existsSync(join(user.directory, 'account.db-wal'))) copyFileSync(join(user.directory, 'account.db-wal'), join(directory, 'account.db-wal'));
	const db = openAccountDatabase(join(directory, 'account.db'));
	const contacts = new ContactStore(db);
	const {e2e, publisher} = endToEndFor({database: db, username: user.name, keys: user.keys, contacts});
	return {...user, directory, db, e2e, publisher, published: {signed: user.published.signed, oneTime: [...user.published.oneTime]}};
}

export type {ClientMessage};
