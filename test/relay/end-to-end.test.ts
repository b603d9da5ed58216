import {randomBytes} from 'node:crypto';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import {describe, expect, it} from 'vitest';
import {fromBase64Url, toBase64Url} from '../../source/crypto/base64url.js';
import {sealEnvelope} from '../../source/crypto/envelope.js';
import {accountKeysIn, copyAccount} from '../helpers/account.js';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import {jsonLineLogger} from '../../source/relay/logger.js';
import {logIn, meet, next, registerOffline, newClient, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {parseRelayMessage} from '../../source/net/messages.js';
import {loggedInPeer} from '../helpers/logged-in-peer.js';
import {RawPeer} from '../helpers/raw-peer.js';
import {tempDir} from '../helpers/temp-dir.js';

const databaseFile = 'relay.sqlite';

/** Every way a marker could sit in a file: UTF-8, UTF-16, base64, base64url and hex. */
function encodings(marker: string): string[] {
	const utf8 = Buffer.from(marker, 'utf8');
	return [
		marker,
		Buffer.from(marker, 'utf16le').toString('latin1'),
		utf8.toString('base64').replace(/=+$/, ''),
		utf8.toString('base64url'),
		utf8.toString('hex'),
		utf8.toString('hex').toUpperCase(),
	];
}

function filesIn(dir: string): string[] {
	return readdirSync(dir).map(name => join(dir, name));
}

describe('end-to-end encryption through a real relay', () => {
	it('the relay database, its WAL and its logs never hold the text', async () => {
		const dataDir = tempDir();
		let logs = '';
		const relay = await relayForTest({dataDir, log: jsonLineLogger(line => (logs += line))});
		const alice = await onlineClient(relay, 'alice');
		await registerOffline(relay, 'bob', [alice]);
		await meet(alice, await onlineClient(relay, 'carol'));
		const marker = `marker-${randomBytes(12).toString('hex')}`;
		const accepted = next(alice, 'accepted');
		alice.send('bob', marker);
		await accepted;
		const carolGot = next(alice, 'delivered');
		alice.send('carol', `${marker} again`);
		await carolGot;
		const files = filesIn(dataDir);
		expect(files.map(file => file.slice(dataDir.length + 1)).sort()).toEqual(
			expect.arrayContaining([databaseFile, `${databaseFile}-wal`, 'relay_identity.json']),
		);
		const contents = [...files.map(file => readFileSync(file).toString('latin1')), logs];
		for (const encoded of encodings(marker)) {
			for (const content of contents) expect(content.includes(encoded), encoded).toBe(false);
		}
	});

	it('a second client claiming a registered name is refused, online or not', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const impostor = newClient(relay);
		const asked = next(impostor, 'login-request');
		impostor.connect();
		await asked;
		const refused = next(impostor, 'login-error');
		impostor.login('alice');
		expect((await refused)[0].code).toBe('username_taken');
		await alice.close();
		await expect.poll(() => relay.onlineUsernames()).toEqual([]);
		const again = next(impostor, 'login-error');
		impostor.login('alice');
		expect((await again)[0].code).toBe('username_taken');
	});

	it('the same identity logging in again replaces its older session', async () => {
		const relay = await relayForTest();
		const dataDir = tempDir();
		// The same keys on a second device (one client per account database at a time).
		const otherDevice = copyAccount(dataDir, relay.fingerprint, 'alice');
		const first = await onlineClient(relay, 'alice', {dataDir});
		const bob = await onlineClient(relay, 'bob');
		await meet(first, bob);
		const replaced = next(first, 'closed');
		const second = await onlineClient(relay, 'alice', {dataDir: otherDevice});
		expect((await replaced)[0].code).toBe('session_replaced');
		await meet(second, bob);
		expect(relay.onlineUsernames()).toEqual(['alice', 'bob']);
		const received = next(second, 'message');
		bob.send('alice', 'to the new session');
		expect((await received)[0].text).toBe('to the new session');
	});

	it('a login statement replayed on a new connection fails', async () => {
		const relay = await relayForTest();
		const keys = generateIdentity();
		const first = await RawPeer.open(relay.port);
		const firstChannel = await first.handshake();
		firstChannel.opener.open(await first.line(1));
		const login = RawPeer.login(firstChannel, 'alice', keys);
		first.write(firstChannel.sealer.seal([login]) + '\n');
		expect((firstChannel.opener.open(await first.line(2)) as Array<{type: string}>)[0]?.type).toBe('welcome');
		first.socket.destroy();

		const second = await RawPeer.open(relay.port);
		const secondChannel = await second.handshake();
		secondChannel.opener.open(await second.line(1));
		second.write(secondChannel.sealer.seal([login]) + '\n');
		expect(secondChannel.opener.open(await second.line(2))).toEqual([expect.objectContaining({code: 'bad_login', fatal: false})]);
		// the real owner of the keys still gets in on this connection
		second.write(secondChannel.sealer.seal([RawPeer.login(secondChannel, 'alice', keys)]) + '\n');
		expect(secondChannel.opener.open(await second.line(3))).toEqual([expect.objectContaining({type: 'welcome'})]);
	});
});

describe('offline delivery', () => {
	it('a message to an offline user is stored, survives a relay restart, and arrives once, in order', async () => {
		const relayDir = tempDir();
		const bobDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const alice = await onlineClient(relay, 'alice');
		await registerOffline(relay, 'bob', [alice], {dataDir: bobDir});
		const texts = ['one', 'two', 'three'];
		const accepted = record(alice, 'accepted');
		const ids = texts.map(text => alice.send('bob', text));
		while (accepted.length < 3) await next(alice, 'accepted');
		expect(accepted.map(([ack]) => ack.id)).toEqual(ids);
		await relay.close();

		const restarted = await relayForTest({dataDir: relayDir});
		const back = newClient(restarted, {dataDir: bobDir});
		const got = record(back, 'message');
		const asked = next(back, 'login-request');
		back.connect();
		await asked;
		back.login('bob');
		while (got.length < 3) await next(back, 'message');
		expect(got.map(([message]) => message.text)).toEqual(texts);
		await back.close();

		// acknowledged: a third login gets nothing again
		const third = newClient(restarted, {dataDir: bobDir});
		const again = record(third, 'message');
		const rejected = record(third, 'rejected');
		await logIn(third, 'bob');
		const sender = await onlineClient(restarted, 'carol');
		const marker = next(third, 'message');
		sender.send('bob', 'after');
		await marker;
		expect(again.map(([message]) => message.text)).toEqual(['after']);
		expect(rejected).toEqual([]);
	});

	it('a backlog far larger than maxBufferedBytes arrives whole and in order, with new messages after it', async () => {
		const bobDir = tempDir();
		// The rate limit is lifted: 120 texts of 8,000 characters cost 3 tokens each, more than the
		// burst, and a refused one goes out again after later ones (PROTOCOL.md section 11).
		const relay = await relayForTest({limits: {maxBufferedBytes: 128 * 1024, rateBurst: Infinity, ratePerSecond: Infinity}});
		const alice = await onlineClient(relay, 'alice');
		await registerOffline(relay, 'bob', [alice], {dataDir: bobDir});
		const texts = Array.from({length: 120}, (_, i) => `${i} ${'x'.repeat(8000)}`);
		const accepted = record(alice, 'accepted');
		for (const text of texts) alice.send('bob', text);
		while (accepted.length < texts.length) await next(alice, 'accepted');

		const bob = newClient(relay, {dataDir: bobDir});
		const got = record(bob, 'message');
		const closed = record(bob, 'closed');
		await logIn(bob, 'bob');
		alice.send('bob', 'written during the catch-up');
		while (got.length < texts.length + 1) await next(bob, 'message', 10_000);
		expect(got.map(([message]) => message.text.split(' ')[0])).toEqual([...texts.map((_, i) => String(i)), 'written']);
		expect(closed).toEqual([]);
	});

	it('"delivered" comes from the recipient, not the relay', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bobDir = tempDir();
		await registerOffline(relay, 'bob', [alice], {dataDir: bobDir});
		const delivered = record(alice, 'delivered');
		const accepted = next(alice, 'accepted');
		const id = alice.send('bob', 'while you were away');
		await accepted;
		expect(delivered).toEqual([]);
		const receipt = next(alice, 'delivered');
		await onlineClient(relay, 'bob', {dataDir: bobDir});
		expect((await receipt)[0]).toEqual({id, by: 'bob'});
	});

	it('refuses with queue_full when too many messages wait, and says which', async () => {
		const relay = await relayForTest({limits: {maxQueuedPerUser: 2}});
		const alice = await onlineClient(relay, 'alice');
		await registerOffline(relay, 'bob', [alice]);
		const accepted = record(alice, 'accepted');
		const refused = next(alice, 'relay-error');
		alice.send('bob', 'one');
		alice.send('bob', 'two');
		const third = alice.send('bob', 'three');
		expect((await refused)[0]).toMatchObject({code: 'queue_full', ref: third});
		expect(accepted).toHaveLength(2);
	});

	it('a message withheld by the relay shows as a gap', async () => {
		const relayDir = tempDir();
		const bobDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const alice = await onlineClient(relay, 'alice');
		await registerOffline(relay, 'bob', [alice], {dataDir: bobDir});
		const accepted = record(alice, 'accepted');
		for (const text of ['one', 'two', 'three']) alice.send('bob', text);
		while (accepted.length < 3) await next(alice, 'accepted');
		// the relay (here: whoever holds its database) withholds the second one
		const db = new Database(join(relayDir, databaseFile));
		db.prepare("delete from queue where delivery = (select min(delivery) + 1 from queue where recipient = 'bob')").run();
		db.close();

		const bob = newClient(relay, {dataDir: bobDir});
		const got = record(bob, 'message');
		const gap = next(bob, 'gap');
		bob.connect();
		await next(bob, 'login-request');
		bob.login('bob');
		expect((await gap)[0]).toEqual({from: 'alice', missing: 1});
		while (got.length < 2) await next(bob, 'message');
		expect(got.map(([message]) => message.text)).toEqual(['one', 'three']);
	});

	it('a replayed message is rejected, also after the client restarts', async () => {
		const relayDir = tempDir();
		const bobDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const alice = await onlineClient(relay, 'alice');
		await registerOffline(relay, 'bob', [alice], {dataDir: bobDir});
		const accepted = next(alice, 'accepted');
		alice.send('bob', 'only once');
		await accepted;
		const db = new Database(join(relayDir, databaseFile));
		const row = db.prepare("select * from queue where recipient = 'bob'").get() as Record<string, unknown>;

		const bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		const receipt = next(alice, 'delivered');
		// bob's first session sees it; wait until its ack has reached the relay (then the receipt follows)
		await receipt;
		await expect.poll(() => db.prepare("select count(*) as n from queue where recipient = 'bob'").get()).toEqual({n: 0});
		await bob.close();

		// the relay's operator puts the very same envelope back in the queue and restarts it
		await relay.close();
		db.prepare(
			'insert into queue (recipient, sender, id, kind, ephemeral, ratchet, body, time) values (@recipient, @sender, @id, @kind, @ephemeral, @ratchet, @body, @time)',
		).run(row);
		db.close();
		const again = await relayForTest({dataDir: relayDir});
		const restarted = newClient(again, {dataDir: bobDir});
		const messages = record(restarted, 'message');
		const rejected = next(restarted, 'rejected');
		restarted.connect();
		await next(restarted, 'login-request');
		restarted.login('bob');
		expect((await rejected)[0]).toMatchObject({from: 'alice', code: 'replay'});
		expect(messages).toEqual([]);
	});
});

/** bob, a hand-driven client with his own keys, online with alice (a real ChatClient), and a way to seal any plaintext for her. */
async function aliceAndRawBob() {
	const relay = await relayForTest();
	const alice = await onlineClient(relay, 'alice');
	const bobKeys = generateIdentity();
	const bob = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
	await expect.poll(() => alice.contacts.some(contact => contact.username === 'bob')).toBe(true);
	const welcome = parseRelayMessage(await bob.until(message => message.type === 'welcome'));
	if (welcome.type !== 'welcome') throw new Error('bob was not welcomed');
	const aliceRecord = welcome.users.find(user => user.username === 'alice')!;
	const sender = {name: 'bob', identity: bobKeys.identity.publicRaw, x25519: bobKeys.x25519.publicRaw, x25519Secret: bobKeys.x25519.privateKey};
	const recipient = {name: 'alice', identity: fromBase64Url(aliceRecord.identity, 32), x25519: fromBase64Url(aliceRecord.x25519, 32)};
	let sent = 0;
	/** bob sends alice an envelope holding `payload` (JSON-encoded), sealed and authenticated as a real one. */
	const send = (payload: object) => {
		const id = `raw-${sent++}`;
		const {ephemeral, body} = sealEnvelope({sender, recipient, id, kind: 'direct', payload: JSON.stringify(payload)});
		bob.send({type: 'send', id, to: 'alice', kind: 'direct', ephemeral: toBase64Url(ephemeral), body});
		return id;
	};
	/** Everything alice reports about bob's envelopes, in order. */
	const seen: Array<[string, unknown]> = [];
	for (const event of ['message', 'rejected', 'gap'] as const) alice.on(event, (value: unknown) => seen.push([event, value]));
	return {alice, bob, send, seen};
}

const text = (counter: number, body: string) => ({v: 1, counter, type: 'text', text: body, sent: 1_767_225_601_000});

describe('an authenticated envelope whose payload is malformed', () => {
	it('is rejected, not counted as withheld: its counter is spent, and the next good one shows no gap', async () => {
		const {bob, send, seen} = await aliceAndRawBob();
		send({v: 1, counter: 0, type: 'typing'});
		send(text(1, 'a'.repeat(8193)));
		send(text(2, 'after two bad ones'));
		await expect.poll(() => seen.length).toBe(3);
		expect(seen).toEqual([
			['rejected', {from: 'bob', code: 'malformed', reason: 'payload: unknown "type"'}],
			['rejected', {from: 'bob', code: 'malformed', reason: 'payload: "text" is 8193 UTF-8 bytes, more than 8192'}],
			['message', expect.objectContaining({from: 'bob', text: 'after two bad ones'})],
		]);
		// acknowledged like any other envelope: the relay answers bob for all three
		await expect.poll(() => bob.messages().filter(message => message.type === 'accepted').map(message => message.id)).toEqual(['raw-0', 'raw-1', 'raw-2']);
	});

	it('that skips counters shows that gap once; the good one after it shows none', async () => {
		const {send, seen} = await aliceAndRawBob();
		for (const counter of [0, 1, 2]) send(text(counter, `good ${counter}`));
		send({...text(5, 'x'), sent: 'yesterday'});
		send(text(6, 'good 6'));
		await expect.poll(() => seen.length).toBe(6);
		expect(seen.map(([event, value]) => (event === 'message' ? [event, (value as {text: string}).text] : [event, value]))).toEqual([
			['message', 'good 0'],
			['message', 'good 1'],
			['message', 'good 2'],
			['gap', {from: 'bob', missing: 2}],
			['rejected', {from: 'bob', code: 'malformed', reason: 'payload: "sent" is not an integer'}],
			['message', 'good 6'],
		]);
	});

	it('whose counter was spent already is a replay; one whose counter cannot be read spends nothing', async () => {
		const {send, seen} = await aliceAndRawBob();
		send(text(0, 'good 0'));
		send({v: 1, counter: 0, type: 'typing'});
		send({v: 2, counter: 1, type: 'text', text: 'from the future', sent: 0});
		send(text(1, 'good 1'));
		await expect.poll(() => seen.length).toBe(4);
		expect(seen).toEqual([
			['message', expect.objectContaining({text: 'good 0'})],
			['rejected', {from: 'bob', code: 'replay', reason: 'it repeats a message already received'}],
			['rejected', {from: 'bob', code: 'malformed', reason: 'payload: "v" is not 1'}],
			['message', expect.objectContaining({text: 'good 1'})],
		]);
	});
});

describe('contacts: pins, changed keys and safety numbers', () => {
	it('a community relay of hundreds of users lists them all to a newcomer, over several messages', async () => {
		const relayDir = tempDir();
		const first = await relayForTest({dataDir: relayDir});
		const {fingerprint} = first;
		await first.close();
		const db = new Database(join(relayDir, databaseFile));
		const insert = db.prepare('insert into users (username, identity, x25519, binding, registered_at) values (?, ?, ?, ?, 0)');
		const names = Array.from({length: 450}, (_, i) => `user${String(i).padStart(3, '0')}`);
		for (const name of names) {
			const record = publicIdentity(generateIdentity(), name);
			insert.run(name, toBase64Url(record.identity), toBase64Url(record.x25519), toBase64Url(record.binding));
		}
		db.close();
		const relay = await relayForTest({dataDir: relayDir, limits: {communityMaxUsers: 1000}});
		expect(relay.fingerprint).toBe(fingerprint);
		const client = newClient(relay);
		const [welcome] = await logIn(client, 'newcomer');
		expect(welcome.users.map(user => user.username)).toEqual(names);
		expect(client.status).toBe('online');
	});

	it('both sides compute the same safety number, and verified marks persist', async () => {
		const relay = await relayForTest();
		const aliceDir = tempDir();
		const alice = await onlineClient(relay, 'alice', {dataDir: aliceDir});
		const bob = await onlineClient(relay, 'bob');
		await expect.poll(() => alice.contacts.map(contact => contact.username)).toEqual(['bob']);
		const number = alice.safetyNumber('bob');
		expect(number).toMatch(/^[0-9a-f]{40}$/);
		expect(bob.safetyNumber('alice')).toBe(number);
		alice.setVerified('bob', true);
		await alice.close();
		const again = await onlineClient(relay, 'alice', {dataDir: aliceDir});
		expect(again.contacts).toEqual([{username: 'bob', online: true, verified: true, keyChanged: false}]);
	});

	it('a relay that swaps a contact key triggers the warning, holds messages and sends nothing until trusted', async () => {
		const relayDir = tempDir();
		const aliceDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const alice = await onlineClient(relay, 'alice', {dataDir: aliceDir});
		await registerOffline(relay, 'bob', [alice]);
		alice.setVerified('bob', true);
		await alice.close();
		await relay.close();

		// the relay's database now says bob is someone else: a new identity, validly bound, whose
		// keys sit in another client's data directory
		const newBobDir = tempDir();
		const swapped = publicIdentity(accountKeysIn(newBobDir, relay.fingerprint, 'bob'), 'bob');
		const db = new Database(join(relayDir, databaseFile));
		db.prepare("update users set identity = ?, x25519 = ?, binding = ? where username = 'bob'").run(
			toBase64Url(swapped.identity),
			toBase64Url(swapped.x25519),
			toBase64Url(swapped.binding),
		);
		db.close();

		const restarted = await relayForTest({dataDir: relayDir});
		const back = newClient(restarted, {dataDir: aliceDir});
		const welcomed = next(back, 'welcome');
		const changed = next(back, 'contact-updated');
		back.connect();
		await next(back, 'login-request');
		back.login('alice');
		expect((await welcomed)[0].users).toEqual([{username: 'bob', online: false, verified: false, keyChanged: true}]);
		expect((await changed)[0]).toEqual({username: 'bob', online: false, verified: false, keyChanged: true});
		expect(() => back.send('bob', 'secret')).toThrow(/changed/);
		expect(back.sendToEveryone('hi').recipients).toEqual([]);

		// "bob" (whoever holds the new keys) writes: held behind the warning
		const newBob = await onlineClient(restarted, 'bob', {dataDir: newBobDir});
		const messages = record(back, 'message');
		const held = next(back, 'held');
		newBob.send('alice', 'it is me, honest');
		expect((await held)[0]).toEqual({from: 'bob', count: 1});
		expect(messages).toEqual([]);

		// the number to compare before trusting is the one for the new key, the same on the other side
		await meet(back, newBob);
		expect(back.safetyNumber('bob')).toBe(newBob.safetyNumber('alice'));
		// trusting with the number the user compared refuses a key that changed again meanwhile
		expect(() => back.trust('bob', '0'.repeat(40))).toThrow(/changed again/);
		expect(back.contacts.find(contact => contact.username === 'bob')?.keyChanged).toBe(true);
		const opened = next(back, 'message');
		back.trust('bob', back.safetyNumber('bob'));
		expect((await opened)[0]).toMatchObject({from: 'bob', text: 'it is me, honest'});
		expect(back.contacts).toEqual([{username: 'bob', online: true, verified: false, keyChanged: false}]);
		const delivered = next(newBob, 'message');
		back.send('bob', 'now I send to the new key');
		expect((await delivered)[0].text).toBe('now I send to the new key');
	});
});

describe('storage failures', () => {
	it('a database that cannot be written costs the message a retry, never the relay', {timeout: 30_000}, async () => {
		const relayDir = tempDir();
		const bobDir = tempDir();
		const events: string[] = [];
		const relay = await relayForTest({dataDir: relayDir, log: event => events.push(event)});
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		await meet(alice, bob);
		// A ratchet session first (a text and its receipt), so the text below goes out at once with
		// no bundle to fetch; then bob leaves, so the relay must write it to its queue.
		const receipt = next(alice, 'delivered');
		alice.send('bob', 'hello');
		await receipt;
		await bob.close();
		await expect.poll(() => alice.contacts.find(contact => contact.username === 'bob')?.online).toBe(false);
		// another process holds the database: the relay's write waits for it, then gives up
		const locker = new Database(join(relayDir, databaseFile));
		locker.exec('begin exclusive');
		const refused = next(alice, 'relay-error', 15_000);
		const id = alice.send('bob', 'while the disk is stuck');
		expect((await refused)[0]).toMatchObject({code: 'storage_failed', ref: id});
		expect(events).toContain('storage_error');
		locker.exec('rollback');
		locker.close();
		const accepted = record(alice, 'accepted');
		const later = alice.send('bob', 'after it came back');
		// our client sends the refused envelope again by itself, unchanged, before the next one
		await expect.poll(() => accepted.map(([ack]) => ack.id), {timeout: 10_000}).toEqual([id, later]);
		const back = newClient(relay, {dataDir: bobDir});
		const received = record(back, 'message');
		await logIn(back, 'bob');
		await expect
			.poll(() => received.map(([message]) => message.text), {timeout: 10_000})
			.toEqual(['while the disk is stuck', 'after it came back']);
	});
});
