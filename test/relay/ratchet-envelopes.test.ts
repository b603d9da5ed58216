import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import {describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {generateIdentity} from '../../source/crypto/identity.js';
import {parseRelayMessage} from '../../source/net/messages.js';
import {storedRowOverhead} from '../../source/relay/queue-ledger.js';
import {databaseFileName, openSqliteStore} from '../../source/relay/sqlite-store.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, type PeerMessage} from '../helpers/logged-in-peer.js';
import {registerWithContacts} from '../helpers/relay-users.js';
import {tempDir} from '../helpers/temp-dir.js';

const header = (bytes: number) => toBase64Url(randomBytes(bytes));

function ratchetSend(id: string, to: string, ratchet: string) {
	return {type: 'send', id, to, kind: 'direct', ratchet, body: `gAAAAB-${id}`};
}

const delivered = (peer: Awaited<ReturnType<typeof loggedInPeer>>) => peer.messages().filter(message => message.type === 'message');

describe('envelopes with a ratchet header (PROTOCOL.md section 10)', () => {
	it('are forwarded to a recipient online with the `ratchet` field and no ephemeral key, in headers of 74, 78 and 82 bytes', async () => {
		const relay = await relayForTest();
		const bob = await loggedInPeer(relay.port, 'bob');
		const alice = await loggedInPeer(relay.port, 'alice');
		const headers = [header(74), header(78), header(82)];
		expect(headers.map(text => text.length)).toEqual([99, 104, 110]);
		alice.send(...headers.map((ratchet, index) => ratchetSend(`m${index}`, 'bob', ratchet)));
		await expect.poll(() => delivered(bob)).toHaveLength(3);
		for (const [index, message] of delivered(bob).entries()) {
			expect(Object.keys(message)).toEqual(['type', 'delivery', 'id', 'to', 'kind', 'ratchet', 'body', 'from', 'time']);
			expect(message).toMatchObject({id: `m${index}`, from: 'alice', ratchet: headers[index], body: `gAAAAB-m${index}`});
			expect(parseRelayMessage(message)).toEqual(message);
		}
	});

	it('are queued for a recipient offline, counted in storedBytes, and delivered after a relay restart byte for byte', async () => {
		const dataDir = tempDir();
		let relay = await relayForTest({dataDir});
		const bobKeys = generateIdentity();
		(await loggedInPeer(relay.port, 'bob', {keys: bobKeys})).close();
		const alice = await loggedInPeer(relay.port, 'alice');
		const sent = [ratchetSend('r1', 'bob', header(82)), {type: 'send', id: 'e1', to: 'bob', kind: 'direct', ephemeral: header(32), body: 'gAAAAB-e1'}, ratchetSend('r2', 'bob', header(74))];
		alice.send(...sent);
		await expect.poll(() => alice.messages().filter(message => message.type === 'accepted')).toHaveLength(3);
		const bytes = (envelope: Record<string, string>) =>
			envelope.body!.length + 2 * envelope.id!.length + (envelope.ratchet ?? envelope.ephemeral)!.length + storedRowOverhead;
		const expected = sent.map(envelope => bytes(envelope as Record<string, string>)).reduce((sum, value) => sum + value);
		expect(relay.stats().storedBytes).toBe(expected);
		await relay.close();
		relay = await relayForTest({dataDir});
		expect(relay.stats().storedBytes).toBe(expected);
		const bob = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		await expect.poll(() => delivered(bob)).toHaveLength(3);
		const strip = ({type: _type, ...envelope}: Record<string, unknown>) => envelope;
		expect(delivered(bob).map(message => ({...message, delivery: 0, time: 0}))).toEqual(
			sent.map(envelope => ({type: 'message', delivery: 0, ...strip(envelope), from: 'alice', time: 0})),
		);
		expect('ephemeral' in delivered(bob)[0]!).toBe(false);
		expect('ratchet' in delivered(bob)[1]!).toBe(false);
		bob.send({type: 'ack', deliveries: delivered(bob).map(message => message.delivery as number)});
		await expect.poll(() => relay.stats().storedBytes).toBe(0);
	});

	it('an envelope with both key fields, neither, or a header of another length is a fatal bad_message', async () => {
		const relay = await relayForTest();
		(await loggedInPeer(relay.port, 'bob')).close();
		const keys = generateIdentity();
		const sends: object[] = [
			{...ratchetSend('both', 'bob', header(78)), ephemeral: header(32)},
			{type: 'send', id: 'neither', to: 'bob', kind: 'direct', body: 'gAAAA'},
			ratchetSend('short', 'bob', header(73)),
			ratchetSend('between', 'bob', header(80)),
			ratchetSend('long', 'bob', header(83)),
			ratchetSend('padded', 'bob', `${header(74)}=`),
			ratchetSend('number', 'bob', 74 as unknown as string),
			{...ratchetSend('null', 'bob', header(74)), ephemeral: null},
		];
		for (const send of sends) {
			const alice = await loggedInPeer(relay.port, 'alice', {keys});
			const from = alice.messages().length;
			alice.send(send);
			expect(await alice.until((message: PeerMessage) => message.type === 'error', from)).toMatchObject({code: 'bad_message', fatal: true});
			await alice.peer.untilClosed();
		}
	});

	it('a database from before the ratchet column opens, gains the column, and delivers what it had queued', async () => {
		const dataDir = tempDir();
		const bobKeys = generateIdentity();
		registerWithContacts(dataDir, 'bob', bobKeys, []);
		registerWithContacts(dataDir, 'alice', generateIdentity(), []);
		const db = new Database(join(dataDir, databaseFileName));
		const ephemeral = header(32);
		const time = Date.now();
		try {
			// what a 0.3 relay's queue table is
			db.exec('alter table queue drop column ratchet');
			db.prepare('insert into queue (recipient, sender, id, kind, ephemeral, body, time) values (?, ?, ?, ?, ?, ?, ?)').run(
				'bob',
				'alice',
				'old1',
				'direct',
				ephemeral,
				'gAAAAB-old',
				time,
			);
		} finally {
			db.close();
		}
		const relay = await relayForTest({dataDir});
		expect(relay.stats().storedBytes).toBe('gAAAAB-old'.length + 2 * 'old1'.length + 43 + storedRowOverhead);
		const bob = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		await expect.poll(() => delivered(bob)).toHaveLength(1);
		expect(delivered(bob)[0]).toEqual({type: 'message', delivery: 1, id: 'old1', to: 'bob', kind: 'direct', ephemeral, body: 'gAAAAB-old', from: 'alice', time});
		await relay.close();
		const store = openSqliteStore(dataDir);
		store.close();
		const check = new Database(join(dataDir, databaseFileName), {readonly: true});
		try {
			expect(check.prepare('select name from pragma_table_info(?)').pluck().all('queue')).toContain('ratchet');
		} finally {
			check.close();
		}
	});
});
