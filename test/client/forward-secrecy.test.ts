import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import {describe, expect, it} from 'vitest';
import type {ChatClient} from '../../source/client/chat-client.js';
import type {Opened} from '../../source/client/end-to-end.js';
import {endToEndFor} from '../../source/client/ratchet/account-ratchet.js';
import {AccountStore} from '../../source/client/store/account-store.js';
import type {DeliveredEnvelope} from '../../source/net/messages.js';
import {copyAccount} from '../helpers/account.js';
import {logIn, loopbackLimits, newClient, record, relayForTest, type RelayAddress} from '../helpers/chat.js';
import {tempDir} from '../helpers/temp-dir.js';
import {filesUnder} from './store-files.js';

/**
 * The properties of issue 14 with a real relay and real clients (PROTOCOL.md section 14): what an
 * attacker who recorded the relay and later took a user's data directory can read, and what the
 * clients do when a session was lost or both started one at once.
 */

function clientIn(relay: RelayAddress, dataDir: string, retention: 'off' | 'forever' = 'forever'): ChatClient {
	return newClient(relay, {dataDir, retention});
}

async function online(client: ChatClient, username: string): Promise<ChatClient> {
	await logIn(client, username);
	return client;
}

/** Every envelope the relay holds for `recipient` right now, as stored (the relay's own database, read beside it). */
function storedFor(relayDir: string, recipient: string): DeliveredEnvelope[] {
	const db = new Database(join(relayDir, 'relay.sqlite'), {readonly: true, fileMustExist: true});
	try {
		const rows = db.prepare('select delivery, sender, recipient, id, kind, ephemeral, ratchet, body, time from queue where recipient = ? order by delivery').all(recipient) as Array<Record<string, unknown>>;
		return rows.map(row => ({
			delivery: row.delivery as number,
			from: row.sender as string,
			to: row.recipient as string,
			id: row.id as string,
			kind: row.kind as 'direct',
			...(row.ratchet ? {ratchet: row.ratchet as string} : {ephemeral: row.ephemeral as string}),
			body: row.body as string,
			time: row.time as number,
		}));
	} finally {
		db.close();
	}
}

/** What `username`'s whole data directory, copied, opens of `envelopes`: run through the client's own end-to-end layer. */
function openWithStolen(relay: RelayAddress, dataDir: string, username: string, envelopes: readonly DeliveredEnvelope[]): Opened[] {
	const stolen = copyAccount(dataDir, relay.fingerprint, username);
	const account = AccountStore.open(stolen, relay.fingerprint, username);
	try {
		const {e2e} = endToEndFor(account);
		return envelopes.map(envelope => e2e.open({...envelope, delivery: envelope.delivery + 1_000_000}));
	} finally {
		account.close();
	}
}

async function until(condition: () => boolean, what: string): Promise<void> {
	await expect.poll(condition, {timeout: 10_000, message: what}).toBe(true);
}

/** alice and bob online on `relay`, each in a data directory of its own, who have written to each other once. */
async function talking(relay: RelayAddress, first: [string, string]) {
	const aliceDir = tempDir();
	const bobDir = tempDir();
	const alice = await online(clientIn(relay, aliceDir), 'alice');
	const bob = await online(clientIn(relay, bobDir), 'bob');
	alice.lookup(['bob']);
	await until(() => alice.contacts.some(contact => contact.username === 'bob'), 'alice knows bob');
	const toBob = record(bob, 'message');
	const toAlice = record(alice, 'message');
	alice.send('bob', first[0]);
	await until(() => toBob.length === 1, 'bob got it');
	bob.send('alice', first[1]);
	await until(() => toAlice.length === 1, 'alice got it');
	return {aliceDir, bobDir, alice, bob, toAlice};
}

describe('forward secrecy and post-compromise security, with a real relay (issue 14)', () => {
	it("the recipient's whole data directory, taken after the messages were read with --keep-history off, decrypts none of them", async () => {
		const relayDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const aliceDir = tempDir();
		const bobDir = tempDir();
		const bob = await online(clientIn(relay, bobDir, 'off'), 'bob');
		const alice = await online(clientIn(relay, aliceDir), 'alice');
		alice.lookup(['bob']);
		await until(() => alice.contacts.some(contact => contact.username === 'bob'), 'alice knows bob');
		await bob.close();
		const secrets = Array.from({length: 8}, (_, index) => `forward secret ${index} ${Math.random()}`);
		const accepted = record(alice, 'accepted');
		for (const secret of secrets) alice.send('bob', secret);
		await until(() => accepted.length === secrets.length, 'the relay has all of them');
		// Every byte the relay stored for bob, recorded by the attacker
		const recorded = storedFor(relayDir, 'bob');
		expect(recorded).toHaveLength(secrets.length);
		expect(recorded.every(envelope => envelope.ratchet !== undefined && envelope.ephemeral === undefined)).toBe(true);

		const reading = clientIn(relay, bobDir, 'off');
		const messages = record(reading, 'message');
		await online(reading, 'bob');
		await until(() => messages.length === secrets.length, 'bob read them all');
		expect(messages.map(([message]) => message.text)).toEqual(secrets);
		const delivered = record(alice, 'delivered');
		await until(() => delivered.length === secrets.length, 'alice has the receipts');
		await reading.close();

		const opened = openWithStolen(relay, bobDir, 'bob', recorded);
		expect(opened.filter(item => item.type === 'text')).toEqual([]);
		// and no file of bob's holds any of the texts (history off)
		for (const path of filesUnder(bobDir)) {
			const bytes = readFileSync(path);
			for (const secret of secrets) expect(bytes.includes(Buffer.from(secret)), `${path} holds a text`).toBe(false);
		}
		await alice.close();
	});

	it('a copy of the state taken at a compromise decrypts nothing once a few messages went each way', async () => {
		const relayDir = tempDir();
		const relay = await relayForTest({dataDir: relayDir});
		const {bobDir, alice, bob, toAlice} = await talking(relay, ['before the compromise', 'before, too']);
		// The attacker copies bob's data directory now (the client keeps running: SQLite's file as it is)
		await bob.close();
		const compromised = copyAccount(bobDir, relay.fingerprint, 'bob');
		const bobAgain = await online(clientIn(relay, bobDir), 'bob');
		const toBobAgain = record(bobAgain, 'message');
		for (let turn = 0; turn < 2; turn++) {
			alice.send('bob', `alice ${turn}`);
			await until(() => toBobAgain.length === turn + 1, 'bob got it');
			bobAgain.send('alice', `bob ${turn}`);
			await until(() => toAlice.length === turn + 2, 'alice got it');
		}
		await bobAgain.close();
		const secrets = ['after healing 1', 'after healing 2'];
		const accepted = record(alice, 'accepted');
		for (const secret of secrets) alice.send('bob', secret);
		await until(() => accepted.length >= secrets.length, 'the relay has them');
		const recorded = storedFor(relayDir, 'bob');
		expect(recorded.length).toBeGreaterThanOrEqual(secrets.length);
		const opened = openWithStolen(relay, compromised, 'bob', recorded);
		expect(opened.filter(item => item.type === 'text')).toEqual([]);
		await alice.close();
	});

	it('both start a session at the same moment: they settle on one, every message arrives, receipts come back', async () => {
		const relay = await relayForTest();
		const alice = await online(clientIn(relay, tempDir()), 'alice');
		const bob = await online(clientIn(relay, tempDir()), 'bob');
		alice.lookup(['bob']);
		bob.lookup(['alice']);
		await until(() => alice.contacts.some(contact => contact.username === 'bob') && bob.contacts.some(contact => contact.username === 'alice'), 'they know each other');
		const toBob = record(bob, 'message');
		const toAlice = record(alice, 'message');
		const aliceDelivered = record(alice, 'delivered');
		const bobDelivered = record(bob, 'delivered');
		alice.send('bob', 'a1');
		bob.send('alice', 'b1');
		await until(() => toBob.length === 1 && toAlice.length === 1, 'both first messages arrived');
		for (let turn = 2; turn <= 4; turn++) {
			alice.send('bob', `a${turn}`);
			bob.send('alice', `b${turn}`);
		}
		await until(() => toBob.length === 4 && toAlice.length === 4, 'all arrived');
		expect(toBob.map(([message]) => message.text)).toEqual(['a1', 'a2', 'a3', 'a4']);
		expect(toAlice.map(([message]) => message.text)).toEqual(['b1', 'b2', 'b3', 'b4']);
		await until(() => aliceDelivered.length === 4 && bobDelivered.length === 4, 'every receipt came back');
		await alice.close();
		await bob.close();
	});

	it('a session restored from an old copy is rebuilt, shown on both sides, and nothing is lost', async () => {
		const relay = await relayForTest({limits: loopbackLimits});
		const {bobDir, alice, bob, toAlice} = await talking(relay, ['hello', 'hi']);
		await bob.close();
		// bob's backup, taken now; then the ratchet moves on
		const backup = copyAccount(bobDir, relay.fingerprint, 'bob');
		const bobLater = await online(clientIn(relay, bobDir), 'bob');
		const later = record(bobLater, 'message');
		const delivered = record(alice, 'delivered');
		// two round trips: bob's device makes new ratchet keys twice, which the backup never had
		for (let turn = 1; turn <= 2; turn++) {
			alice.send('bob', `after the backup ${turn}`);
			await until(() => later.length === turn, 'bob got it');
			bobLater.send('alice', `moving on ${turn}`);
			await until(() => toAlice.length === turn + 1, 'alice got it');
		}
		await until(() => delivered.length >= 2, 'bob confirmed');
		await bobLater.close();
		const aliceResets = record(alice, 'session-reset');
		alice.send('bob', 'while bob is away 1');
		alice.send('bob', 'while bob is away 2');
		// bob's device is restored from the backup: its session is an older copy
		const restored = clientIn(relay, backup);
		const restoredMessages = record(restored, 'message');
		const restoredResets = record(restored, 'session-reset');
		const rejected = record(restored, 'rejected');
		await online(restored, 'bob');
		await until(() => restoredMessages.some(([message]) => message.text === 'while bob is away 2'), 'the restored device reads what was sent meanwhile');
		expect(rejected.map(([rejection]) => rejection.code)).toContain('unreadable');
		expect(restoredResets.map(([reset]) => reset.by)).toEqual(['me']);
		await until(() => aliceResets.length === 1, 'alice was told');
		expect(aliceResets[0]![0]).toMatchObject({with: 'bob', by: 'them'});
		const texts = restoredMessages.map(([message]) => message.text);
		expect(texts).toContain('while bob is away 1');
		// the session goes on both ways after the rebuild
		restored.send('alice', 'back from the backup');
		await until(() => toAlice.some(([message]) => message.text === 'back from the backup'), 'alice reads the restored device');
		await restored.close();
		await alice.close();
	});

	it("a drained one-time pool: first messages still go, on the signed prekey alone, and all arrive", async () => {
		// One one-time prekey handed out per hour for bob: dave and erin get the signed prekey alone.
		const relay = await relayForTest({limits: {...loopbackLimits, maxOneTimeClaimsPerHour: 1}});
		const bob = await online(clientIn(relay, tempDir()), 'bob');
		const toBob = record(bob, 'message');
		const writers = await Promise.all(['carol', 'dave', 'erin'].map(async name => online(clientIn(relay, tempDir()), name)));
		for (const writer of writers) {
			writer.lookup(['bob']);
			await until(() => writer.contacts.some(contact => contact.username === 'bob'), 'bob is known');
			writer.send('bob', `from ${writer.username}`);
			await until(() => toBob.length === writers.indexOf(writer) + 1, 'bob got it');
		}
		expect(toBob.map(([message]) => message.text)).toEqual(['from carol', 'from dave', 'from erin']);
		for (const writer of writers) await writer.close();
		await bob.close();
	});
});
