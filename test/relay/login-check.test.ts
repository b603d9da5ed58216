import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {generateIdentity, loginProof, publicIdentity, type IdentityKeys, type PublicIdentity} from '../../source/crypto/identity.js';
import type {LoginMessage} from '../../source/net/messages.js';
import {checkLogin} from '../../source/relay/login-check.js';
import type {StoredUser} from '../../source/relay/relay-store.js';
import {RawPeer} from '../helpers/raw-peer.js';

const relayIdentity = randomBytes(32);
const transcriptHash = randomBytes(32);

/** The login a client holding `keys` sends on this connection, with `binding` in place of its own when given. */
function login(keys: IdentityKeys, username: string, binding?: Buffer): LoginMessage {
	const message = RawPeer.login({relayIdentity, transcript: transcriptHash}, username, keys);
	return binding === undefined ? message : {...message, binding: toBase64Url(binding)};
}

function stored(record: PublicIdentity, username: string): StoredUser {
	return {username, identity: toBase64Url(record.identity), x25519: toBase64Url(record.x25519), binding: toBase64Url(record.binding), registeredAt: 1, confirmed: true};
}

const context = (registered?: StoredUser) => ({relayIdentity, transcriptHash, registered: () => registered});

describe('checkLogin for a name that is registered', () => {
	const alice = generateIdentity();
	const record = publicIdentity(alice, 'alice');

	it('lets the same record in again without registering it twice', () => {
		expect(checkLogin(login(alice, 'alice'), context(stored(record, 'alice')))).toEqual({ok: true, username: 'alice', register: false});
	});

	it('still wants a login proof for this connection from a returning user', () => {
		const replayed = {...login(alice, 'alice'), proof: toBase64Url(loginProof(alice, relayIdentity, randomBytes(32), 'alice'))};
		expect(checkLogin(replayed, context(stored(record, 'alice')))).toMatchObject({ok: false, code: 'bad_login'});
	});

	it('checks the binding of any record that differs from the stored one, even by one byte', () => {
		const altered = Buffer.from(record.binding);
		altered[0]! ^= 1;
		expect(checkLogin(login(alice, 'alice', altered), context(stored(record, 'alice')))).toMatchObject({ok: false, code: 'bad_login'});
	});

	it('refuses someone else with a valid record of their own as username_taken', () => {
		const mallory = generateIdentity();
		expect(checkLogin(login(mallory, 'alice'), context(stored(record, 'alice')))).toMatchObject({ok: false, code: 'username_taken'});
	});

	it('refuses the same identity with a new x25519 key as username_taken', () => {
		const renewed = {identity: alice.identity, x25519: generateIdentity().x25519};
		expect(checkLogin(login(renewed, 'alice'), context(stored(record, 'alice')))).toMatchObject({ok: false, code: 'username_taken'});
	});
});
