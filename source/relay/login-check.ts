import {fromBase64Url} from '../crypto/base64url.js';
import {sameIdentity, verifyBinding, verifyLoginProof, type PublicIdentity} from '../crypto/identity.js';
import type {LoginMessage} from '../net/messages.js';
import {checkUsername} from '../net/usernames.js';
import type {StoredUser} from './relay-store.js';

/** Decides a login (PROTOCOL.md section 9, steps 1 to 3). Pure: no sessions, no I/O. */
export type LoginVerdict =
	| {ok: true; username: string; register: boolean}
	| {ok: false; code: 'invalid_username' | 'reserved_username' | 'bad_login' | 'username_taken'; message: string};

export type LoginContext = {
	relayIdentity: Buffer;
	transcriptHash: Buffer;
	registered: (username: string) => StoredUser | undefined;
};

export function checkLogin(login: LoginMessage, context: LoginContext): LoginVerdict {
	const name = checkUsername(login.username);
	if (!name.ok) return name;
	const {username} = name;
	const record = {
		identity: fromBase64Url(login.identity, 32),
		x25519: fromBase64Url(login.x25519, 32),
		binding: fromBase64Url(login.binding, 64),
	};
	const proof = fromBase64Url(login.proof, 64);
	const existing = context.registered(username);
	// A returning user's record, byte for byte: its binding was verified when it was registered.
	const known = existing !== undefined && sameIdentity(storedKeys(existing), record);
	if (!known && !verifyBinding(username, record)) {
		return {ok: false, code: 'bad_login', message: 'the x25519 key binding does not verify'};
	}
	if (!verifyLoginProof(record.identity, proof, context.relayIdentity, context.transcriptHash, username)) {
		return {ok: false, code: 'bad_login', message: 'the login proof does not verify for this connection'};
	}
	if (existing === undefined) return {ok: true, username, register: true};
	if (!known) {
		return {ok: false, code: 'username_taken', message: `${username} is registered to someone else; pick another name`};
	}
	return {ok: true, username, register: false};
}

function storedKeys(user: StoredUser): PublicIdentity {
	return {
		identity: Buffer.from(user.identity, 'base64url'),
		x25519: Buffer.from(user.x25519, 'base64url'),
		binding: Buffer.from(user.binding, 'base64url'),
	};
}
