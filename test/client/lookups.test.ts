import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ChatClient} from '../../source/client/chat-client.js';
import {KeyChangedError} from '../../source/client/end-to-end.js';
import {withAccount} from '../helpers/account.js';
import {fromBase64Url, toBase64Url} from '../../source/crypto/base64url.js';
import {sealEnvelope} from '../../source/crypto/envelope.js';
import {generateIdentity} from '../../source/crypto/identity.js';
import {next, record} from '../helpers/chat.js';
import {FakePrekeys} from '../helpers/fake-prekeys.js';
import {scriptedRelay, sentOf, userRecord, type ScriptedSession, type SentMessage} from '../helpers/scripted-relay.js';
import {tempDir} from '../helpers/temp-dir.js';

type Relay = Awaited<ReturnType<typeof scriptedRelay>>;

function clientOf(relay: Relay, options: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}): ChatClient {
	return new ChatClient({
		host: '127.0.0.1',
		port: relay.port,
		knownRelaysPath: join(tempDir(), 'known_relays.json'),
		dataDir: tempDir(),
		trustFingerprint: relay.fingerprint,
		reconnect: false,
		...options,
	});
}

async function logIn(client: ChatClient, username = 'alice') {
	const asked = next(client, 'login-request');
	client.connect();
	await asked;
	const welcomed = next(client, 'welcome');
	client.login(username);
	return (await welcomed)[0];
}

/** Answers every lookup from `records` (by name); the rest are missing. */
function answerFrom(records: Map<string, object>) {
	return (message: SentMessage, session: ScriptedSession) => {
		if (message.type !== 'lookup') return;
		const names = (message.names as string[]).map(name => name.toLowerCase());
		const users = names.filter(name => records.has(name)).map(name => records.get(name)!);
		session.reply({type: 'found', id: message.id, users, missing: names.filter(name => !records.has(name))});
	};
}

describe('looking people up by name', () => {
	it('asks at most 100 names per lookup, each under a fresh id; pins who is found and says who is missing', async () => {
		const bob = userRecord('bob');
		const relay = await scriptedRelay({onMessage: answerFrom(new Map([['bob', bob]]))});
		const client = clientOf(relay);
		await logIn(client);
		const found = record(client, 'found');
		const asked = ['Bob', ...Array.from({length: 149}, (_, index) => `nobody${index}`)];
		const ids = client.lookup(asked);
		expect(ids).toHaveLength(2);
		await expect.poll(() => found.length).toBe(2);
		const lookups = sentOf(relay.scripted[0]!, 'lookup');
		expect(lookups.map(lookup => (lookup.names as string[]).length)).toEqual([100, 50]);
		expect(new Set(lookups.map(lookup => lookup.id)).size).toBe(2);
		expect((lookups[0]!.names as string[])[0]).toBe('bob');
		const [first, second] = found.map(([answer]) => answer);
		expect(first).toMatchObject({id: ids[0], reason: 'user', users: [{username: 'bob', online: true, keyChanged: false}]});
		expect(first!.missing).toHaveLength(99);
		expect(second).toMatchObject({id: ids[1], users: []});
		expect(client.contacts.map(contact => contact.username)).toEqual(['bob']);
		await client.close();
	});

	it('takes from an answer only the names asked: a record nobody looked up is not pinned', async () => {
		const relay = await scriptedRelay({
			onMessage(message, session) {
				if (message.type === 'lookup') session.reply({type: 'found', id: message.id, users: [userRecord('mallory')], missing: ['bob', 'zed']});
			},
		});
		const client = clientOf(relay);
		await logIn(client);
		const [id] = client.lookup(['bob']);
		const [answer] = await next(client, 'found');
		expect(answer).toEqual({id, reason: 'user', users: [], missing: ['bob']});
		expect(client.contacts).toEqual([]);
		expect(() => client.send('mallory', 'hi')).toThrow(/not a registered user/);
		await client.close();
	});

	it('a record that differs from the pin marks the contact changed: nothing is sent until /trust', async () => {
		const records = new Map<string, object>([['bob', userRecord('bob')]]);
		const prekeys = new FakePrekeys();
		const relay = await scriptedRelay({onMessage: answerFrom(records), prekeys});
		const client = clientOf(relay);
		await logIn(client);
		client.lookup(['bob']);
		await next(client, 'found');
		// bob's new identity has published prekeys (the relay serves their bundle from now on)
		const newBob = generateIdentity();
		records.set('bob', userRecord('bob', newBob));
		prekeys.publish('bob', newBob);
		const updated = next(client, 'contact-updated');
		client.lookup(['bob']);
		expect((await updated)[0]).toMatchObject({username: 'bob', keyChanged: true});
		expect(() => client.send('bob', 'hi')).toThrow(KeyChangedError);
		client.trust('bob');
		expect(client.contacts).toMatchObject([{username: 'bob', keyChanged: false}]);
		expect(sentOf(relay.scripted[0]!, 'get_bundle')).toEqual([]);
		client.send('bob', 'hi');
		await expect.poll(() => sentOf(relay.scripted[0]!, 'send')).toHaveLength(1);
		await client.close();
	});

	it('lookup_throttled and invalid_username come back as lookup-failed for that lookup, not as a relay error', async () => {
		const relay = await scriptedRelay({
			onMessage(message, session) {
				if (message.type !== 'lookup') return;
				const code = (message.names as string[])[0] === 'bob' ? 'lookup_throttled' : 'invalid_username';
				session.reply({type: 'error', code, message: code === 'lookup_throttled' ? 'try again in 6 minutes' : 'not a name', fatal: false, ref: message.id});
			},
		});
		const client = clientOf(relay);
		await logIn(client);
		const relayErrors = record(client, 'relay-error');
		const failed = record(client, 'lookup-failed');
		const [throttled] = client.lookup(['bob']);
		const [invalid] = client.lookup(['carol']);
		await expect.poll(() => failed.length).toBe(2);
		expect(failed.map(([failure]) => failure)).toEqual([
			{id: throttled, names: ['bob'], reason: 'user', code: 'lookup_throttled', message: 'try again in 6 minutes'},
			{id: invalid, names: ['carol'], reason: 'user', code: 'invalid_username', message: 'not a name'},
		]);
		expect(relayErrors).toEqual([]);
		expect(() => client.lookup(['no such name!'])).toThrow();
		await client.close();
	});
});

describe('a lookup the relay rate-limited', () => {
	it('goes out again after a pause, under its id, and is answered; no failure is reported', async () => {
		let dropped = false;
		const relay = await scriptedRelay({
			onMessage(message, session) {
				if (message.type !== 'lookup') return;
				if (!dropped) {
					dropped = true;
					session.reply({type: 'error', code: 'rate_limited', message: 'slow down', fatal: false, ref: message.id});
					return;
				}
				session.reply({type: 'found', id: message.id, users: [], missing: ['bob']});
			},
		});
		const client = clientOf(relay);
		await logIn(client);
		const found = record(client, 'found');
		const failed = record(client, 'lookup-failed');
		const [id] = client.lookup(['bob']);
		await expect.poll(() => found.length, {timeout: 5000}).toBe(1);
		expect(failed).toEqual([]);
		expect(found[0]![0]).toMatchObject({id, missing: ['bob']});
		const lookups = sentOf(relay.scripted[0]!, 'lookup');
		expect(lookups.map(lookup => lookup.id)).toEqual([id, id]);
		await client.close();
	});
});

describe('who is online', () => {
	it('takes the welcome view (without me), asks again every interval and on who(), and bounds what it keeps', async () => {
		const many = Array.from({length: 500}, (_, index) => `u${index}`);
		const relay = await scriptedRelay({
			welcome: () => ({online: ['alice', 'bob', 'bob', 'carol'], onlineCount: 4, waiting: 7}),
			onMessage(message, session) {
				if (message.type === 'who') session.reply({type: 'online', users: many, total: 501});
			},
		});
		const client = clientOf(relay, {whoIntervalMs: 200});
		const welcome = await logIn(client);
		expect(welcome).toMatchObject({online: ['bob', 'carol'], onlineCount: 4, waiting: 7});
		const [periodic] = await next(client, 'online');
		expect(periodic.asked).toBe(false);
		expect(periodic.total).toBe(501);
		expect(periodic.names).toHaveLength(100);
		const answered = record(client, 'online');
		client.who();
		await expect.poll(() => answered.some(([online]) => online.asked)).toBe(true);
		await client.close();
	});
});

describe('a client upgraded from version 1', () => {
	it('looks up once, after its first welcome, the names it pinned that the welcome did not list; its pins stay as they were', async () => {
		const records = new Map<string, object>([
			['bob', userRecord('bob')],
			['carol', userRecord('carol')],
		]);
		const dataDir = tempDir();
		// Version 1: bob and carol pinned and talked with, erin only pinned (a version 1 relay listed
		// everyone); dave listed by the welcome.
		const relay = await scriptedRelay({
			welcome: (_name, _session, index) => (index === 0 ? {users: [...records.values(), userRecord('erin')]} : {users: [userRecord('dave')]}),
			onMessage: answerFrom(records),
			afterWelcome(session, index) {
				// the second run's first connection drops once its carry-over was answered; it logs in again by itself
				if (index === 1) setTimeout(() => session.socket.destroy(), 300);
			},
		});
		const old = clientOf(relay, {dataDir});
		const nothing = next(old, 'carried-over');
		await logIn(old);
		expect((await nothing)[0]).toEqual({names: 0, found: 0, complete: true});
		await old.close();
		// What version 1 left: conversations with bob and carol, and no mark of a carry-over.
		withAccount(dataDir, relay.fingerprint, 'alice', account => {
			expect(account.carryOver.done).toBe(true);
			account.contacts.nextSendCounter('bob');
			account.contacts.nextSendCounter('carol');
			account.database.prepare("DELETE FROM settings WHERE name = 'carried-over-at'").run();
		});
		// Read while no client has the account open.
		const pins = () =>
			withAccount(dataDir, relay.fingerprint, 'alice', ({contacts}) => Object.fromEntries(contacts.names().map(name => [name, contacts.get(name)!.pinned])));
		const carriedOverDone = () => withAccount(dataDir, relay.fingerprint, 'alice', account => account.carryOver.done);
		expect(carriedOverDone()).toBe(false);
		const before = pins();
		expect(Object.keys(before)).toEqual(['bob', 'carol', 'erin']);

		const client = clientOf(relay, {dataDir, reconnect: {initialDelayMs: 50, maxDelayMs: 50}});
		const found = record(client, 'found');
		const carried = next(client, 'carried-over');
		await logIn(client);
		expect((await carried)[0]).toEqual({names: 2, found: 2, complete: true});
		await expect.poll(() => found.length).toBe(1);
		expect(found[0]![0]).toMatchObject({reason: 'carry-over', missing: []});
		expect(found[0]![0].users.map(user => user.username)).toEqual(['bob', 'carol']);
		expect(client.contacts.map(contact => contact.username)).toEqual(['bob', 'carol', 'dave']);
		await next(client, 'welcome', 5000);
		expect(relay.scripted).toHaveLength(3);
		expect(sentOf(relay.scripted[1]!, 'lookup')).toHaveLength(1);
		expect(sentOf(relay.scripted[2]!, 'lookup')).toHaveLength(0);
		await client.close();
		// Bob's, carol's and erin's pins as they were; dave, listed by the welcome, pinned too.
		expect(pins()).toEqual({...before, dave: expect.anything()});
		expect(carriedOverDone()).toBe(true);

		// A later start carries nothing over: the mark says it was done.
		const third = clientOf(relay, {dataDir});
		const again = next(third, 'carried-over');
		await logIn(third);
		expect((await again)[0]).toEqual({names: 0, found: 0, complete: true});
		await third.close();
	});
});

/** Bob, as a client of his own that has alice pinned: seals envelopes for her. */
function bobWriting(login: SentMessage) {
	const keys = generateIdentity();
	const key = (name: string, length: number) => fromBase64Url(login[name] as string, length);
	let delivery = 0;
	// A first envelope from a stranger, in the version 2 scheme (no session needed): what the client holds is the same.
	const seal = (id: string, text: string) =>
		sealEnvelope({
			sender: {name: 'bob', identity: keys.identity.publicRaw, x25519: keys.x25519.publicRaw, x25519Secret: keys.x25519.privateKey},
			recipient: {name: 'alice', identity: key('identity', 32), x25519: key('x25519', 32)},
			id,
			kind: 'direct',
			payload: JSON.stringify({v: 1, counter: delivery - 1, type: 'text', text, sent: Date.now()}),
		});
	return {
		record: userRecord('bob', keys),
		message: (text: string) => {
			const id = `m${++delivery}`;
			const {ephemeral, body} = seal(id, text);
			return {type: 'message', delivery, from: 'bob', time: Date.now(), id, to: 'alice', kind: 'direct', ephemeral: toBase64Url(ephemeral), body};
		},
	};
}

describe('an envelope from a sender with no pin', () => {
	async function strangerWrites(known: boolean) {
		let bob: ReturnType<typeof bobWriting> | undefined;
		const relay = await scriptedRelay({
			afterWelcome(session) {
				bob = bobWriting(sentOf(session, 'login')[0]!);
				session.reply(bob.message('hello from a stranger'), bob.message('and again'));
			},
			onMessage(message, session) {
				if (message.type !== 'lookup') return;
				// Answered late, so that the test sees the envelopes wait unacknowledged meanwhile.
				setTimeout(() => {
					session.reply({type: 'found', id: message.id, users: known ? [bob!.record] : [], missing: known ? [] : ['bob']});
				}, 200);
			},
		});
		const client = clientOf(relay);
		const messages = record(client, 'message');
		const rejected = record(client, 'rejected');
		await logIn(client);
		const session = relay.scripted[0]!;
		await expect.poll(() => sentOf(session, 'lookup')).toHaveLength(1);
		expect(sentOf(session, 'lookup')[0]).toMatchObject({names: ['bob']});
		expect(sentOf(session, 'ack')).toEqual([]);
		await expect.poll(() => sentOf(session, 'ack').flatMap(ack => ack.deliveries as number[])).toEqual([1, 2]);
		return {client, messages, rejected};
	}

	it('is held, unacknowledged, until the sender is looked up; then opened and shown in order', async () => {
		const {client, messages, rejected} = await strangerWrites(true);
		expect(messages.map(([message]) => message.text)).toEqual(['hello from a stranger', 'and again']);
		expect(rejected).toEqual([]);
		expect(client.contacts.map(contact => contact.username)).toEqual(['bob']);
		await client.close();
	});

	it('stays held, unacknowledged and not rejected, while its lookup is throttled; asked again later, then shown', async () => {
		let bob: ReturnType<typeof bobWriting> | undefined;
		let lookups = 0;
		const relay = await scriptedRelay({
			afterWelcome(session) {
				bob = bobWriting(sentOf(session, 'login')[0]!);
				session.reply(bob.message('hello while throttled'));
			},
			onMessage(message, session) {
				if (message.type !== 'lookup') return;
				lookups++;
				if (lookups === 1) session.reply({type: 'error', code: 'lookup_throttled', message: 'try again in 1 minute', fatal: false, ref: message.id});
				else session.reply({type: 'found', id: message.id, users: [bob!.record], missing: []});
			},
		});
		const client = clientOf(relay, {strangerRetryMs: 300});
		const messages = record(client, 'message');
		const rejected = record(client, 'rejected');
		await logIn(client);
		const session = relay.scripted[0]!;
		await expect.poll(() => lookups).toBe(1);
		await new Promise(resolve => setTimeout(resolve, 100));
		expect(sentOf(session, 'ack')).toEqual([]);
		expect(rejected).toEqual([]);
		await expect.poll(() => lookups).toBe(2);
		await expect.poll(() => messages.map(([message]) => message.text)).toEqual(['hello while throttled']);
		expect(rejected).toEqual([]);
		await expect.poll(() => sentOf(session, 'ack').flatMap(ack => ack.deliveries as number[])).toEqual([1]);
		await client.close();
	});

	it('is rejected as from an unknown sender, and acknowledged, when the relay knows nobody of that name', async () => {
		const {client, messages, rejected} = await strangerWrites(false);
		expect(messages).toEqual([]);
		expect(rejected.map(([rejection]) => rejection.code)).toEqual(['unknown_sender', 'unknown_sender']);
		await client.close();
	});
});
