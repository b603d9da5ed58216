import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ContactStore} from '../../source/client/contact-store.js';
import {openAccountDatabase} from '../../source/client/store/account-database.js';
import {endToEndFor} from '../../source/client/ratchet/account-ratchet.js';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {sealEnvelope} from '../../source/crypto/envelope.js';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import type {DeliveredEnvelope} from '../../source/net/messages.js';
import {tempDir} from '../helpers/temp-dir.js';

/** alice's end-to-end layer over real files, with bob pinned; `fromBob` seals any plaintext as bob would. */
function aliceWithBob() {
	const aliceKeys = generateIdentity();
	const bobKeys = generateIdentity();
	const db = openAccountDatabase(join(tempDir(), 'account.db'));
	const contacts = new ContactStore(db);
	contacts.observe('bob', publicIdentity(bobKeys, 'bob'));
	const {e2e} = endToEndFor({database: db, username: 'alice', keys: aliceKeys, contacts});
	let delivery = 0;
	const fromBob = (plaintext: object | string): DeliveredEnvelope => {
		const id = `m${++delivery}`;
		const {ephemeral, body} = sealEnvelope({
			sender: {name: 'bob', identity: bobKeys.identity.publicRaw, x25519: bobKeys.x25519.publicRaw, x25519Secret: bobKeys.x25519.privateKey},
			recipient: {name: 'alice', identity: aliceKeys.identity.publicRaw, x25519: aliceKeys.x25519.publicRaw},
			id,
			kind: 'direct',
			payload: typeof plaintext === 'string' ? plaintext : JSON.stringify(plaintext),
		});
		return {delivery, from: 'bob', time: delivery, id, to: 'alice', kind: 'direct', ephemeral: toBase64Url(ephemeral), body};
	};
	/** bob's receive state as committed: a new store over the same database reads its rows afresh. */
	const stored = () => new ContactStore(db).get('bob')!.receive;
	return {e2e, fromBob, stored};
}

const text = (counter: number) => ({v: 1, counter, type: 'text', text: `text ${counter}`, sent: 0});

describe('EndToEnd.open: an authenticated payload that is malformed (PROTOCOL.md section 10)', () => {
	it('spends a counter it can read, on disk, and is rejected as malformed with the gap it made', () => {
		const {e2e, fromBob, stored} = aliceWithBob();
		expect(e2e.open(fromBob({v: 1, counter: 0, type: 'typing'}))).toEqual({type: 'rejected', from: 'bob', code: 'malformed', reason: 'payload: unknown "type"', gap: 0});
		expect(stored()).toEqual({next: 1, missing: []});
		expect(e2e.open(fromBob({v: 1, counter: 3, type: 'text', text: 1, sent: 0}))).toMatchObject({type: 'rejected', code: 'malformed', gap: 2});
		expect(stored()).toEqual({next: 4, missing: [1, 2]});
		// a late counter, skipped before, is spent too, and makes no gap
		expect(e2e.open(fromBob({v: 1, counter: 2, type: 'receipt', ids: []}))).toMatchObject({type: 'rejected', code: 'malformed', gap: 0});
		expect(stored()).toEqual({next: 4, missing: [1]});
		expect(e2e.open(fromBob(text(4)))).toMatchObject({type: 'text', text: 'text 4', gap: 0});
		// nothing of a malformed one waits to be shown
		expect(e2e.inbox().map(({accepted}) => accepted.id)).toEqual(['m4']);
	});

	it('is a replay when that counter was spent already', () => {
		const {e2e, fromBob, stored} = aliceWithBob();
		expect(e2e.open(fromBob(text(0)))).toMatchObject({type: 'text', gap: 0});
		expect(e2e.open(fromBob({v: 1, counter: 0, type: 'typing'}))).toEqual({type: 'rejected', from: 'bob', code: 'replay', reason: 'it repeats a message already received'});
		expect(stored()).toEqual({next: 1, missing: []});
	});

	it.each<[string, object | string]>([
		['not JSON', '{"v":1,"counter":0,'],
		['an array', [text(0)]],
		['v 2', {...text(0), v: 2}],
		['no counter', {v: 1, type: 'typing'}],
		['a negative counter', {...text(0), counter: -1}],
		['a fractional counter', {...text(0), counter: 1.5}],
		['a counter as a string', {...text(0), counter: '0'}],
		['a counter of 2^53', '{"v":1,"counter":9007199254740992,"type":"typing"}'],
	])('spends nothing when the counter cannot be read: %s', (_, plaintext) => {
		const {e2e, fromBob, stored} = aliceWithBob();
		expect(e2e.open(fromBob(plaintext))).toMatchObject({type: 'rejected', code: 'malformed'});
		expect(stored()).toEqual({next: 0, missing: []});
		expect(e2e.open(fromBob(text(0)))).toMatchObject({type: 'text', gap: 0});
	});
});
