import {copyFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ChatSession} from '../../source/client/chat-session.js';
import {copyAccount, withAccount} from '../helpers/account.js';
import {Outbox, defaultOutboxLimits} from '../../source/client/outbox.js';
import {publicIdentity} from '../../source/crypto/identity.js';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import type {ChatClient} from '../../source/client/chat-client.js';
import type {ClientMessage} from '../../source/net/messages.js';
import type {RunningRelay} from '../../source/relay/server.js';
import {meet, newClient, next, onlineClient, record, registerOffline, relayForTest, type ClientPlace} from '../helpers/chat.js';
import {serveUserFrom} from '../helpers/relay-users.js';
import {tempDir} from '../helpers/temp-dir.js';
import {bundle, delivered, ratchetPair} from '../helpers/ratchet-pair.js';

/** Fast enough for tests; the defaults (0.5 s doubling to 30 s) are checked in test/client/reconnect.test.ts. */
const reconnect = {initialDelayMs: 20, maxDelayMs: 200};

function place(dataDir = tempDir()): ClientPlace {
	return {dataDir, reconnect};
}

/** Stops the relay and starts it again on the same port with the same data directory. */
async function restart(relay: RunningRelay, dataDir: string, relayDataDir = dataDir): Promise<RunningRelay> {
	await relay.close('restarting');
	return relayForTest({dataDir: relayDataDir, port: relay.port});
}

async function backOnline(client: ChatClient): Promise<void> {
	const [welcome] = await next(client, 'welcome', 10_000);
	expect(welcome.reconnected).toBe(true);
	expect(client.status).toBe('online');
}

describe('reconnecting', () => {
	it('after a relay restart both sides come back by themselves, and what was typed meanwhile arrives once, after', async () => {
		const relayDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const alice = await onlineClient(relay, 'alice', place());
		const bob = await onlineClient(relay, 'bob', place());
		await meet(alice, bob);
		const statuses = record(alice, 'status');
		const drops = record(alice, 'reconnecting');
		const logins = record(alice, 'login-request');
		const accepted = record(alice, 'accepted');
		const delivered = record(alice, 'delivered');
		const got = record(bob, 'message');

		const aliceBack = backOnline(alice);
		const bobBack = backOnline(bob);
		const dropped = next(alice, 'reconnecting');
		await relay.close('restarting');
		const [drop] = await dropped;
		expect(drop).toMatchObject({attempt: 1, code: 'shutdown', message: 'restarting'});
		expect(drop.at).toBeGreaterThan(Date.now() - 1000);
		expect(alice.status).toBe('reconnecting');
		expect(alice.reconnectAt).toBe(drop.at);
		// typed while the relay is down: it waits in the outbox
		const id = alice.send('bob', 'typed while you were gone');
		expect(() => alice.sendToEveryone('anyone?')).toThrow(/offline/);

		await relayForTest({dataDir: relayDir, port: relay.port});
		await aliceBack;
		await bobBack;
		expect(logins).toEqual([]);
		expect(statuses.map(([status]) => status)).toContain('reconnecting');
		expect(statuses.at(-1)).toEqual(['online']);
		expect(drops.length).toBeGreaterThanOrEqual(1);

		await expect.poll(() => delivered).toEqual([[{id, by: 'bob'}]]);
		expect(accepted.map(([ack]) => ack.id)).toEqual([id]);
		await meet(alice, bob);
		const marker = next(bob, 'message');
		alice.send('bob', 'and after');
		await marker;
		expect(got.map(([message]) => message.text)).toEqual(['typed while you were gone', 'and after']);
	});

	it('keeps trying while the relay is down, with growing delays, and stops when told to close', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice', place());
		const drops = record(alice, 'reconnecting');
		const closed = record(alice, 'closed');
		await relay.close();
		while (drops.length < 4) await next(alice, 'reconnecting');
		expect(drops.map(([drop]) => drop.attempt)).toEqual([1, 2, 3, 4]);
		expect(drops.slice(1).every(([drop]) => drop.code === 'connect_failed')).toBe(true);
		expect(closed).toEqual([]);
		await alice.close();
		expect(closed).toEqual([[{code: 'closed', message: 'you left'}]]);
		expect(alice.status).toBe('closed');
		expect(alice.reconnectAt).toBeUndefined();
		expect(() => alice.send('bob', 'too late')).toThrow(/not connected/);
	});

	it('checks the pin again: a relay that comes back with another key is refused for good', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice', place());
		const changed = next(alice, 'relay-changed', 10_000);
		const closed = next(alice, 'closed', 10_000);
		const impostor = await restart(relay, tempDir());
		expect(impostor.fingerprint).not.toBe(relay.fingerprint);
		expect((await changed)[1]).toBe(relay.fingerprint);
		expect((await closed)[0].code).toBe('refused_relay');
		expect(alice.status).toBe('closed');
		expect(impostor.onlineUsernames()).toEqual([]);
	});

	it('a name the relay no longer grants ends the client with that error instead of trying again', async () => {
		const relayDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const alice = await onlineClient(relay, 'alice', place());
		await relay.close();
		// the same relay key over an empty database, where someone else took "alice" first
		const wiped = tempDir();
		copyFileSync(join(relayDir, 'relay_identity.json'), join(wiped, 'relay_identity.json'));
		const refused = next(alice, 'login-error', 10_000);
		const closed = next(alice, 'closed', 10_000);
		const reborn = await relayForTest({dataDir: wiped, port: relay.port});
		await onlineClient(reborn, 'alice');
		expect((await refused)[0].code).toBe('username_taken');
		expect((await closed)[0].code).toBe('username_taken');
		expect(alice.status).toBe('closed');
	});

	it('a session replaced by a newer login of the same account does not come back', async () => {
		const relay = await relayForTest();
		const dataDir = tempDir();
		// The same keys on a second device (one client per account database at a time).
		const otherDevice = copyAccount(dataDir, relay.fingerprint, 'alice');
		const first = await onlineClient(relay, 'alice', place(dataDir));
		const closed = next(first, 'closed');
		const drops = record(first, 'reconnecting');
		await onlineClient(relay, 'alice', place(otherDevice));
		expect((await closed)[0].code).toBe('session_replaced');
		expect(drops).toEqual([]);
	});

	/**
	 * alice writes `text` to bob, who is offline, while the relay is down; the relay comes back
	 * saying bob is someone else, whose client then logs in. With `session`, alice wrote to bob once
	 * before (a ratchet session, so the text is sealed in the outbox); without, the text waits for
	 * bob's bundle, unsealed.
	 */
	async function writtenBeforeKeyChange(session: boolean) {
		const relayDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const alice = await onlineClient(relay, 'alice', place());
		if (session) {
			// bob reads it (his receipt comes back) and leaves: nothing of his first keys waits on the relay
			const bob = await onlineClient(relay, 'bob');
			await meet(alice, bob);
			const receipt = next(alice, 'delivered');
			alice.send('bob', 'hello while the relay is up');
			await receipt;
			await bob.close();
			await expect.poll(() => alice.contacts.find(contact => contact.username === 'bob')?.online).toBe(false);
		} else {
			await registerOffline(relay, 'bob', [alice]);
		}
		const dropped = next(alice, 'reconnecting');
		await relay.close();
		await dropped;
		const id = alice.send('bob', 'for the bob I knew');
		const localErrors = record(alice, 'local-error');
		const relayErrors = record(alice, 'relay-error');
		// the relay comes back saying bob is someone else
		const newBobDir = tempDir();
		serveUserFrom(relayDir, relay.fingerprint, 'bob', newBobDir);
		const changed = next(alice, 'contact-updated', 10_000);
		const back = next(alice, 'welcome', 10_000);
		const restarted = await relayForTest({dataDir: relayDir, port: relay.port});
		await back;
		expect((await changed)[0]).toMatchObject({username: 'bob', keyChanged: true});

		const newBob = newClient(restarted, {dataDir: newBobDir});
		const got = record(newBob, 'message');
		const rejected = record(newBob, 'rejected');
		newBob.connect();
		await next(newBob, 'login-request');
		const welcomed = next(newBob, 'welcome');
		newBob.login('bob');
		await welcomed;
		return {alice, newBob, id, got, rejected, localErrors, relayErrors};
	}

	it('what waits for a contact whose key changed is held, and dropped once the new key is trusted', async () => {
		const {alice, newBob, id, got, rejected} = await writtenBeforeKeyChange(true);
		const unsent = record(alice, 'unsent');
		alice.trust('bob');
		expect(unsent).toEqual([[{id, to: 'bob', reason: "it was sealed for bob's previous key"}]]);
		await meet(alice, newBob);
		alice.send('bob', 'for the new key');
		await expect.poll(() => got.map(([message]) => message.text)).toEqual(['for the new key']);
		expect(rejected).toEqual([]);
	});

	it('a text that waits for the bundle of a contact whose key changed is held without an error, and dropped once the new key is trusted', async () => {
		const {alice, newBob, id, got, rejected, localErrors, relayErrors} = await writtenBeforeKeyChange(false);
		// bob's new client is online and has published its prekeys: nothing of them is taken for the old pin meanwhile
		await meet(alice, newBob);
		await new Promise(resolve => setTimeout(resolve, 300));
		expect(localErrors).toEqual([]);
		expect(relayErrors).toEqual([]);
		const unsent = record(alice, 'unsent');
		alice.trust('bob');
		expect(unsent).toEqual([[{id, to: 'bob', reason: "it was written for bob's previous key"}]]);
		alice.send('bob', 'for the new key');
		await expect.poll(() => got.map(([message]) => message.text)).toEqual(['for the new key']);
		expect(rejected).toEqual([]);
		expect(localErrors).toEqual([]);
	});

	it('what waits in the outbox survives the client quitting, and goes out at the next login', async () => {
		const relayDir = tempDir();
		const aliceDir = tempDir();
		const bobDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const alice = await onlineClient(relay, 'alice', place(aliceDir));
		const bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		await meet(alice, bob);
		// a first text and its receipt: alice and bob have a ratchet session, so what alice writes next is sealed at once
		const receipt = next(alice, 'delivered');
		alice.send('bob', 'hello');
		await receipt;
		await bob.close();
		await relay.close();
		await next(alice, 'reconnecting');
		alice.send('bob', 'written offline, then I quit');
		await alice.close();
		// Sealed: the outbox holds the envelope, never the text.
		const outbox = () => withAccount(aliceDir, relay.fingerprint, 'alice', account => account.database.prepare('SELECT recipient, envelope FROM outbox').all()) as Array<{recipient: string; envelope: string}>;
		expect(outbox().map(row => row.recipient)).toEqual(['bob']);
		expect(outbox()[0]!.envelope).not.toContain('written offline');

		const restarted = await relayForTest({dataDir: relayDir, port: relay.port});
		const again = await onlineClient(restarted, 'alice', place(aliceDir));
		const accepted = next(again, 'accepted');
		await accepted;
		const back = newClient(restarted, {dataDir: bobDir});
		const got = record(back, 'message');
		back.connect();
		await next(back, 'login-request');
		back.login('bob');
		await expect.poll(() => got.map(([message]) => message.text)).toEqual(['written offline, then I quit']);
		await again.close();
		expect(outbox()).toEqual([]);
	});

	it('a first text written offline, waiting for its bundle, survives the client quitting and goes out at the next login', async () => {
		const relayDir = tempDir();
		const aliceDir = tempDir();
		const bobDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const alice = await onlineClient(relay, 'alice', place(aliceDir));
		const bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		await meet(alice, bob);
		await bob.close();
		await relay.close();
		await next(alice, 'reconnecting');
		const id = alice.send('bob', 'written offline, then I quit');
		await alice.close();
		// No session yet: nothing sealed, the text waits in the account database for bob's bundle.
		const outbox = () => withAccount(aliceDir, relay.fingerprint, 'alice', account => account.database.prepare('SELECT recipient FROM outbox').all());
		expect(outbox()).toEqual([]);

		const restarted = await relayForTest({dataDir: relayDir, port: relay.port});
		const again = await onlineClient(restarted, 'alice', place(aliceDir));
		const accepted = next(again, 'accepted');
		expect((await accepted)[0]).toMatchObject({id});
		const back = newClient(restarted, {dataDir: bobDir});
		const got = record(back, 'message');
		back.connect();
		await next(back, 'login-request');
		back.login('bob');
		await expect.poll(() => got.map(([message]) => message.text)).toEqual(['written offline, then I quit']);
		expect(got[0]![0]).toMatchObject({id});
		await again.close();
		expect(outbox()).toEqual([]);
	});
});

/** A relay's data directory and address, with nothing listening on its port: it is down. */
async function relayDown(): Promise<{relayDir: string; address: {port: number; fingerprint: string}}> {
	const relayDir = tempDir();
	const relay = await relayForTest({dataDir: relayDir});
	await relay.close();
	return {relayDir, address: {port: relay.port, fingerprint: relay.fingerprint}};
}

describe('a relay that cannot be reached at start', () => {
	/** Delays of 20, 40, 80, 160, then 200 ms: the top of each step, so the growth can be asserted. */
	const steady = {initialDelayMs: 20, maxDelayMs: 200, random: () => 0.999_999};

	it('is tried again with growing delays; once it is up the client is asked for a name and logs in', async () => {
		const {relayDir, address} = await relayDown();
		const alice = newClient(address, {reconnect: steady});
		const delays: number[] = [];
		alice.on('reconnecting', ({at}) => delays.push(at - Date.now()));
		const drops = record(alice, 'reconnecting');
		const closed = record(alice, 'closed');
		const asked = record(alice, 'login-request');
		alice.connect();
		while (drops.length < 4) await next(alice, 'reconnecting');
		expect(drops.map(([drop]) => drop.attempt)).toEqual([1, 2, 3, 4]);
		for (const [drop] of drops) {
			expect(drop).toMatchObject({code: 'connect_failed', message: `could not reach 127.0.0.1:${address.port} (ECONNREFUSED)`});
		}
		for (const [index, expected] of [20, 40, 80, 160].entries()) {
			expect(delays[index]).toBeGreaterThanOrEqual(expected - 5);
			expect(delays[index]).toBeLessThanOrEqual(expected);
		}
		expect(alice.status).toBe('reconnecting');
		expect(closed).toEqual([]);
		expect(asked).toEqual([]);
		expect(() => alice.send('bob', 'not yet')).toThrow(/not connected/);

		const loginRequested = next(alice, 'login-request', 10_000);
		await relayForTest({dataDir: relayDir, port: address.port});
		await loginRequested;
		expect(alice.status).toBe('login');
		const welcomed = next(alice, 'welcome');
		alice.login('alice');
		const [welcome] = await welcomed;
		expect(welcome.username).toBe('alice');
		expect(welcome.reconnected).toBeUndefined();
		expect(alice.status).toBe('online');
		expect(closed).toEqual([]);
	});

	it('close() while it tries again ends it with "closed", carrying the failure that kept it out', async () => {
		const {address} = await relayDown();
		const alice = newClient(address, {reconnect});
		alice.connect();
		await next(alice, 'reconnecting');
		const closed = next(alice, 'closed');
		await alice.close();
		expect((await closed)[0]).toEqual({
			code: 'closed',
			message: 'you left',
			lastError: {code: 'connect_failed', message: `could not reach 127.0.0.1:${address.port} (ECONNREFUSED)`},
		});
		expect(alice.status).toBe('closed');
		expect(alice.reconnectAt).toBeUndefined();
	});

	it('with reconnect: false it ends at once with connect_failed', async () => {
		const {address} = await relayDown();
		const alice = newClient(address, {reconnect: false});
		const drops = record(alice, 'reconnecting');
		const closed = next(alice, 'closed');
		alice.connect();
		expect((await closed)[0]).toEqual({code: 'connect_failed', message: `could not reach 127.0.0.1:${address.port} (ECONNREFUSED)`});
		expect(drops).toEqual([]);
	});

	it('a relay that comes up with a key other than the pinned one is refused for good', async () => {
		const {address} = await relayDown();
		const knownRelaysPath = join(tempDir(), 'known_relays.json');
		// the pin of the relay this client knew at that address
		writeFileSync(knownRelaysPath, JSON.stringify({[`127.0.0.1:${address.port}`]: toBase64Url(generateRawKeyPair('ed25519').publicRaw)}), {mode: 0o600});
		const alice = newClient(address, {knownRelaysPath, reconnect, trust: false});
		alice.connect();
		await next(alice, 'reconnecting');
		const changed = next(alice, 'relay-changed', 10_000);
		const closed = next(alice, 'closed', 10_000);
		await relayForTest({port: address.port});
		await changed;
		expect((await closed)[0]).toMatchObject({code: 'refused_relay'});
		expect((await closed)[0]).not.toHaveProperty('lastError');
		// over for good: no attempt is due
		expect(alice.status).toBe('closed');
		expect(alice.reconnectAt).toBeUndefined();
	});

	it('a relay that comes up with a key other than --trust names is refused for good', async () => {
		const {address} = await relayDown();
		const alice = newClient({port: address.port, fingerprint: 'ab'.repeat(32)}, {reconnect});
		alice.connect();
		await next(alice, 'reconnecting');
		const closed = next(alice, 'closed', 10_000);
		await relayForTest({port: address.port});
		expect((await closed)[0]).toEqual({code: 'refused_relay', message: "the relay's fingerprint does not match --trust"});
		expect(alice.status).toBe('closed');
		expect(alice.reconnectAt).toBeUndefined();
	});
});

describe('a relay that rate-limits', () => {
	it('gets what it dropped again, byte for byte, after a pause; everything arrives once and the connection stays', async () => {
		const relay = await relayForTest({limits: {rateBurst: 16, ratePerSecond: 20, rateMaxRefused: 100}});
		const alice = await onlineClient(relay, 'alice', place());
		const bob = await onlineClient(relay, 'bob', place());
		await meet(alice, bob);
		const refused = record(alice, 'relay-error');
		const closed = record(alice, 'closed');
		const got = record(bob, 'message');
		const texts = Array.from({length: 40}, (_, index) => `burst ${index}`);
		for (const text of texts) alice.send('bob', text);
		await expect.poll(() => got.length, {timeout: 15_000}).toBe(texts.length);
		expect(refused.length).toBeGreaterThan(0);
		expect(refused.every(([error]) => error.code === 'rate_limited')).toBe(true);
		// Order is kept unless the bucket refills in the middle of a refused run, so compare as sets.
		expect(got.map(([message]) => message.text).sort()).toEqual([...texts].sort());
		expect(closed).toEqual([]);
		expect(alice.status).toBe('online');
	});
});

describe('the outbox across connections', () => {
	it('resends the very same sealed bytes, so the counter is spent once', () => {
		const {alice, bob} = ratchetPair();
		alice.e2e.startSession('bob', bundle(bob));
		const outbox = new Outbox(defaultOutboxLimits);
		const session = new ChatSession(alice.e2e, alice.publisher, outbox, () => {});
		const record = publicIdentity(bob.keys, 'bob');
		session.welcome([{username: 'bob', online: true, identity: toBase64Url(record.identity), x25519: toBase64Url(record.x25519), binding: toBase64Url(record.binding)}]);
		const sends = (into: ClientMessage[]) => (message: ClientMessage) => message.type === 'send' && into.push(message);
		const first: ClientMessage[] = [];
		session.attach(sends(first));
		const id = session.send('bob', 'once');
		session.detach();
		const offline = session.send('bob', 'while away');
		const second: ClientMessage[] = [];
		session.attach(sends(second));
		expect(second).toEqual([first[0], expect.objectContaining({type: 'send', id: offline})]);
		// both open once at bob's: the resend spent nothing more
		const opened = second.map(message => message.type === 'send' && bob.e2e.open(delivered('alice', message)));
		expect(opened.map(item => item && item.type)).toEqual(['text', 'text']);
		session.accepted(id, 'bob');
		session.detach();
		const third: ClientMessage[] = [];
		session.attach(sends(third));
		expect(third).toEqual([second[1]]);
	});
});
