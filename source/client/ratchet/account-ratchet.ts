import {publicIdentity, type IdentityKeys} from '../../crypto/identity.js';
import type {ContactStore} from '../contact-store.js';
import type {History} from '../history.js';
import {EndToEnd} from '../end-to-end.js';
import {OutboxStore} from '../outbox-store.js';
import type {SqliteDatabase} from '../store/account-database.js';
import {OwnPrekeys} from './own-prekeys.js';
import {PrekeyPublisher} from './prekey-publisher.js';
import {RatchetEnvelopes} from './ratchet-envelopes.js';
import {RatchetSessions} from './ratchet-sessions.js';
import {SentTexts} from './sent-texts.js';
import {SessionStore} from './session-store.js';

/** `history`: a text received is kept in the same transaction as the session state it advanced. */
export type RatchetAccount = {database: SqliteDatabase; username: string; keys: IdentityKeys; contacts: ContactStore; history?: History};

/**
 * The end-to-end layer of an open account, over its database: sessions, prekeys and sent texts.
 * What has expired (skipped keys, old base keys, texts past their time) goes first.
 */
export function endToEndFor(account: RatchetAccount, clock: () => number = Date.now): {e2e: EndToEnd; publisher: PrekeyPublisher} {
	const {database: db, username, keys, contacts} = account;
	const own = publicIdentity(keys, username);
	const me = {name: username, identity: own.identity, x25519: own.x25519, x25519Secret: keys.x25519.privateKey};
	const prekeys = new OwnPrekeys(db, keys, username);
	const sessions = new RatchetSessions(me, new SessionStore(db), prekeys, clock);
	const sentTexts = new SentTexts(db);
	sessions.prune();
	sentTexts.prune(clock());
	return {
		e2e: new EndToEnd(username, keys, contacts, new RatchetEnvelopes(db, me, contacts, sessions, sentTexts, new OutboxStore(db), clock, account.history)),
		publisher: new PrekeyPublisher(prekeys, clock),
	};
}
