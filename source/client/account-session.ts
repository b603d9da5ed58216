import {toBase64Url} from '../crypto/base64url.js';
import {loginProof, publicIdentity, type IdentityKeys} from '../crypto/identity.js';
import type {LoginMessage} from '../net/messages.js';
import type {RelayHandshake} from './relay-connection.js';
import {ChatSession} from './chat-session.js';
import type {Emit} from './client-events.js';
import type {ClientLimits} from './client-limits.js';
import {Outbox} from './outbox.js';
import {endToEndFor} from './ratchet/account-ratchet.js';
import type {AccountStore} from './store/account-store.js';

export type AccountLogin = {username: string; keys: IdentityKeys};

/** The session over an open account's contacts, outbox and carry-over mark. Throws when its outbox is unreadable. */
export function openAccountSession(
	{account, limits}: {account: AccountStore; limits: ClientLimits},
	emit: Emit,
	redeliver: () => void,
): {session: ChatSession; outbox: Outbox} {
	const store = account.outbox;
	const outbox = new Outbox(limits, changes => store.save(changes), store.load());
	const {e2e, publisher} = endToEndFor(account);
	const session = new ChatSession(
		e2e,
		publisher,
		outbox,
		emit,
		redeliver,
		limits.whoIntervalMs,
		limits.strangerRetryMs,
		account.carryOver,
		{database: account.database, keys: account.keys, contacts: account.contacts, history: account.history},
	);
	return {session, outbox};
}

/** The session of `login`'s account, open in `account`; undefined when it cannot be (`failed` says why). */
export function openLoginSession(
	account: AccountStore | undefined,
	login: AccountLogin,
	limits: ClientLimits,
	{emit, redeliver, failed}: {emit: Emit; redeliver: () => void; failed: (message: string) => void},
): {session: ChatSession; outbox: Outbox} | undefined {
	try {
		if (account === undefined || account.username !== login.username) throw new Error("this account's database is not open");
		return openAccountSession({account, limits}, emit, redeliver);
	} catch (error) {
		failed((error as Error).message);
		return undefined;
	}
}

/** The login for `username` with `keys`: its record, and the proof bound to this connection's handshake (PROTOCOL.md section 4.2). */
export function loginMessage(keys: IdentityKeys, username: string, handshake: Pick<RelayHandshake, 'relayIdentity' | 'transcriptHash'>): LoginMessage {
	const record = publicIdentity(keys, username);
	return {
		type: 'login',
		username,
		identity: toBase64Url(record.identity),
		x25519: toBase64Url(record.x25519),
		binding: toBase64Url(record.binding),
		proof: toBase64Url(loginProof(keys, handshake.relayIdentity, handshake.transcriptHash, username)),
	};
}
