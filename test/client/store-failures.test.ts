import Database from 'better-sqlite3-multiple-ciphers';
import {describe, expect, it} from 'vitest';
import {databasePath} from '../../source/client/store/account-paths.js';
import type {AccountStore} from '../../source/client/store/account-store.js';
import type {ClientMessage} from '../../source/net/messages.js';
import {withAccount} from '../helpers/account.js';
import {logIn, meet, newClient, next, onlineClient, record, registerOffline, relayForTest} from '../helpers/chat.js';
import {loggedInPeer} from '../helpers/logged-in-peer.js';
import {tempDir} from '../helpers/temp-dir.js';
import {connectionWithEnvelope, connectionWithEnvelopes, messageWaitingForBob, sessionOnFiles, type Emitted} from './account-files.js';

/**
 * A full disk: the account's database cannot grow by a single page (SQLite's max_page_count set to
 * the pages it has, and none of them free) until the returned function makes room again. A write
 * that needs a new page fails with SQLITE_FULL, as it would on a full disk; one that fits in the
 * pages there are succeeds, as it would too. So the writes that must fail here need room: a long
 * text (past what a row keeps in its page), or more new contacts than one page holds.
 */
function fillDisk(account: AccountStore): () => void {
	const db = account.database;
	expect(db.pragma('freelist_count', {simple: true})).toBe(0);
	const limit = db.pragma('max_page_count', {simple: true}) as number;
	db.pragma(`max_page_count = ${db.pragma('page_count', {simple: true}) as number}`);
	return () => void db.pragma(`max_page_count = ${limit}`);
}

/** A text long enough that the contact row it is kept in until shown needs a page of its own. */
const long = (text: string) => `${text}: ${'a long message, '.repeat(200)}`;

const texts = (emitted: Emitted[]) => emitted.filter(({event}) => event === 'message').map(({args}) => (args[0] as {text: string}).text);
// (carried-over: the session's once-per-run report that there was no pinned name to look up)
const events = (emitted: Emitted[]) => emitted.map(({event}) => event).filter(event => event !== 'carried-over');
const localErrors = (emitted: Emitted[]) => emitted.filter(({event}) => event === 'local-error').map(({args}) => (args[0] as {message: string}).message);

/**
 * alice's `text` waits on the relay for bob, who is offline; bob's next process logs in by hand
 * and takes it, with a ChatSession on his account's database.
 */
async function waitingForBob(text: string) {
	const {relay, bobDir} = await messageWaitingForBob(text);
	const {peer, users, prekeys, envelope} = await connectionWithEnvelope(relay, bobDir, 'bob');
	const emitted: Emitted[] = [];
	const toRelay: ClientMessage[] = [];
	const {session, account} = sessionOnFiles(relay, bobDir, 'bob', item => emitted.push(item));
	return {relay, bobDir, peer, users, prekeys, envelope, emitted, toRelay, session, account};
}

/** alice and bob online and known to each other; bob's files in a folder of the test's. */
async function aliceMeetsBob() {
	const relay = await relayForTest();
	const bobDir = tempDir();
	const alice = await onlineClient(relay, 'alice');
	const bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
	await meet(alice, bob);
	return {relay, bobDir, alice, bob};
}

describe('when the disk is full', () => {
	it('the client stays connected, says so once, and shows the messages in order once it can', {timeout: 60_000}, async () => {
		const relay = await relayForTest();
		const bobDir = tempDir();
		const alice = await onlineClient(relay, 'alice');
		await registerOffline(relay, 'bob', [alice], {dataDir: bobDir});
		const accepted = record(alice, 'accepted');
		const delivered = record(alice, 'delivered');
		const sent = [long('one'), long('two')];
		const ids = sent.map(text => alice.send('bob', text));
		await expect.poll(() => accepted.length).toBe(2);

		const {peer, users, prekeys, envelopes} = await connectionWithEnvelopes(relay, bobDir, 'bob', 2);
		const emitted: Emitted[] = [];
		const toRelay: ClientMessage[] = [];
		let redelivered = 0;
		const {session, account} = sessionOnFiles(relay, bobDir, 'bob', item => emitted.push(item), () => redelivered++);
		session.welcome(users);
		session.attach(message => {
			toRelay.push(message);
			peer.send(message);
		}, prekeys);
		const makeRoom = fillDisk(account);
		for (const envelope of envelopes) session.deliver(envelope);
		expect(events(emitted)).toEqual(['local-error']);
		expect(localErrors(emitted)).toEqual([expect.stringMatching(/could not save a message from alice \(database or disk is full\)/)]);
		// The client tries again after a second, in vain, and says nothing more; then there is room.
		await new Promise(resolve => setTimeout(resolve, 1500));
		expect(events(emitted)).toEqual(['local-error']);
		expect(toRelay).toEqual([]);
		makeRoom();

		await expect.poll(() => texts(emitted), {timeout: 10_000}).toEqual(sent);
		expect(events(emitted).filter(event => event === 'local-error' || event === 'gap')).toEqual(['local-error']);
		// It never gave the connection up to have the relay deliver again.
		expect(redelivered).toBe(0);
		// Saved, then acknowledged and receipted.
		await expect.poll(() => toRelay.filter(message => message.type === 'ack').flatMap(ack => ack.deliveries)).toEqual(envelopes.map(envelope => envelope.delivery));
		await expect.poll(() => delivered.map(([receipt]) => receipt.id).sort()).toEqual([...ids].sort());
		session.detach();
		peer.close();
		account.close();
	});

	it('leaves the envelope unacknowledged, so the relay delivers it again at the next login', {timeout: 30_000}, async () => {
		const text = long('kept by the relay');
		const {relay, bobDir, peer, users, prekeys, envelope, emitted, toRelay, session, account} = await waitingForBob(text);
		session.welcome(users);
		session.attach(message => toRelay.push(message), prekeys);
		const makeRoom = fillDisk(account);
		session.deliver(envelope);
		await new Promise(resolve => setImmediate(resolve));
		expect(events(emitted)).toEqual(['local-error']);
		expect(toRelay).toEqual([]);
		// The connection ends, and the process with it, before there is room again.
		session.detach();
		peer.close();
		makeRoom();
		account.close();

		const bob = newClient(relay, {dataDir: bobDir});
		const messages = record(bob, 'message');
		const rejected = record(bob, 'rejected');
		await logIn(bob, 'bob');
		await expect.poll(() => messages.map(([message]) => message.text)).toEqual([text]);
		expect(rejected).toEqual([]);
		expect(texts(emitted)).toEqual([]);
	});

	it('keys it could not save at login are saved before any envelope is opened', {timeout: 30_000}, async () => {
		// bob registers before anyone else, so that all the welcome below lists is new to him: alice
		// and more people than one page of his contacts holds.
		const relay = await relayForTest();
		const bobDir = tempDir();
		await registerOffline(relay, 'bob', [], {dataDir: bobDir});
		for (let index = 0; index < 14; index++) (await loggedInPeer(relay.port, `user${index}`)).close();
		const alice = await onlineClient(relay, 'alice');
		const accepted = next(alice, 'accepted');
		alice.send('bob', 'after a bad start');
		await accepted;

		const {peer, users, prekeys, envelope} = await connectionWithEnvelope(relay, bobDir, 'bob');
		expect(users.map(user => user.username)).toEqual(['alice', ...Array.from({length: 14}, (_, index) => `user${index}`)].sort());
		const emitted: Emitted[] = [];
		const toRelay: ClientMessage[] = [];
		const {session, account} = sessionOnFiles(relay, bobDir, 'bob', item => emitted.push(item));
		const makeRoom = fillDisk(account);
		const {contacts} = session.welcome(users);
		expect(contacts).toHaveLength(users.length);
		expect(contacts).toContainEqual({username: 'alice', online: true, verified: false, keyChanged: false});
		expect(account.contacts.names()).toEqual([]);
		session.attach(message => toRelay.push(message), prekeys);
		session.deliver(envelope);
		await new Promise(resolve => setImmediate(resolve));
		expect(events(emitted)).toEqual(['local-error']);
		expect(localErrors(emitted)).toEqual([expect.stringMatching(/could not save the keys the relay serves \(database or disk is full\)/)]);
		expect(toRelay).toEqual([]);
		makeRoom();

		await expect.poll(() => texts(emitted), {timeout: 10_000}).toEqual(['after a bad start']);
		// Opened with alice's keys as the welcome served them: no lookup, no stranger.
		await expect.poll(() => toRelay.map(message => message.type)).toEqual(['send', 'ack']);
		expect(toRelay[1]).toEqual({type: 'ack', deliveries: [envelope.delivery]});
		expect(emitted.filter(({event}) => event === 'local-error')).toHaveLength(1);
		expect(account.contacts.names()).toEqual(users.map(user => user.username).sort());
		session.detach();
		peer.close();
		account.close();
	});
});

describe("when the account's database is damaged", () => {
	it.each([
		['the first message made it', true],
		['meeting alice made it', false],
	])('a damaged contact is reported at login, not a crash, and the messages come once it is repaired (%s)', {timeout: 60_000}, async (_, messageFirst) => {
		const {relay, bobDir, alice, bob} = await aliceMeetsBob();
		const messages = record(bob, 'message');
		if (messageFirst) {
			alice.send('bob', 'before');
			await expect.poll(() => messages.length, {timeout: 15_000}).toBe(1);
		}
		await bob.close();
		// Damaged while no client has it open (a bad disk, an edit by hand): alice's row is not JSON.
		const good = withAccount(bobDir, relay.fingerprint, 'bob', ({database}) => {
			const {contact} = database.prepare("SELECT contact FROM contacts WHERE name = 'alice'").get() as {contact: string};
			database.prepare("UPDATE contacts SET contact = '{\"damaged\":' WHERE name = 'alice'").run();
			return contact;
		});
		const accepted = next(alice, 'accepted');
		const id = alice.send('bob', 'while the database is damaged');
		await accepted;

		const damaged = newClient(relay, {dataDir: bobDir});
		const loginErrors = record(damaged, 'login-error');
		const welcomes = record(damaged, 'welcome');
		const requested = next(damaged, 'login-request');
		damaged.connect();
		await requested;
		damaged.login('bob');
		await expect.poll(() => loginErrors.length).toBe(1);
		expect(loginErrors[0]![0]).toEqual({code: 'local_error', message: expect.stringMatching(/the contact "alice" in this account's database is damaged .*restore the database from a backup/)});
		expect(welcomes).toEqual([]);
		await damaged.close();

		// Repaired (restored from a backup): what was committed before is all there, and the message
		// the relay kept comes, once, with no gap.
		const db = new Database(databasePath(bobDir, relay.fingerprint, 'bob'));
		try {
			db.prepare("UPDATE contacts SET contact = ? WHERE name = 'alice'").run(good);
		} finally {
			db.close();
		}
		const repaired = newClient(relay, {dataDir: bobDir});
		const shown = record(repaired, 'message');
		const gaps = record(repaired, 'gap');
		const rejected = record(repaired, 'rejected');
		await logIn(repaired, 'bob');
		await expect.poll(() => shown.map(([message]) => message.text), {timeout: 15_000}).toEqual(['while the database is damaged']);
		expect(shown[0]![0].id).toBe(id);
		expect(gaps).toEqual([]);
		expect(rejected).toEqual([]);
	});
});
