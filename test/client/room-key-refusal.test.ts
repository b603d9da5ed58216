import {Buffer} from 'node:buffer';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ContactStore} from '../../source/client/contact-store.js';
import {endToEndFor} from '../../source/client/ratchet/account-ratchet.js';
import {openAccountDatabase} from '../../source/client/store/account-database.js';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {sealEnvelope} from '../../source/crypto/envelope.js';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import {craft} from '../attack-14/craft.js';
import {ratchetPair, write} from '../helpers/ratchet-pair.js';
import {tempDir} from '../helpers/temp-dir.js';

const roomKey = (counter: number) => ({v: 1, counter, type: 'room_key', room: 'team', index: 1, head: toBase64Url(Buffer.alloc(32, 1)), secret: toBase64Url(Buffer.alloc(32, 2))});

describe('a room key on the ordinary 1:1 path', () => {
	it('is refused as malformed in a ratchet session, its counter spent, the session going on', () => {
		const {alice, bob} = ratchetPair();
		expect(bob.e2e.open(write(alice, bob, 'hi'))).toMatchObject({type: 'text', text: 'hi'});
		expect(bob.e2e.open(craft(alice, bob, roomKey))).toMatchObject({type: 'rejected', from: 'alice', code: 'malformed', reason: 'payload: a room key outside a room change', gap: 0});
		expect(bob.e2e.open(write(alice, bob, 'still here'))).toMatchObject({type: 'text', text: 'still here', gap: 0});
		expect(bob.e2e.inbox().map(({accepted}) => accepted.type)).not.toContain('room_key');
	});

	it('is refused as malformed in a version 2 envelope', () => {
		const aliceKeys = generateIdentity();
		const bobKeys = generateIdentity();
		const db = openAccountDatabase(join(tempDir(), 'account.db'));
		const contacts = new ContactStore(db);
		contacts.observe('bob', publicIdentity(bobKeys, 'bob'));
		const {e2e} = endToEndFor({database: db, username: 'alice', keys: aliceKeys, contacts});
		const {ephemeral, body} = sealEnvelope({
			sender: {name: 'bob', identity: bobKeys.identity.publicRaw, x25519: bobKeys.x25519.publicRaw, x25519Secret: bobKeys.x25519.privateKey},
			recipient: {name: 'alice', identity: aliceKeys.identity.publicRaw, x25519: aliceKeys.x25519.publicRaw},
			id: 'k1',
			kind: 'direct',
			payload: JSON.stringify(roomKey(0)),
		});
		const envelope = {delivery: 1, from: 'bob', time: 1, id: 'k1', to: 'alice', kind: 'direct' as const, ephemeral: toBase64Url(ephemeral), body};
		expect(e2e.open(envelope)).toMatchObject({type: 'rejected', from: 'bob', code: 'malformed', gap: 0});
	});
});
