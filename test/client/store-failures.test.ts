import {readFileSync, rmSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {contactsPath} from '../../source/client/contact-store.js';
import type {ClientMessage} from '../../source/net/messages.js';
import {logIn, meet, newClient, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {tempDir} from '../helpers/temp-dir.js';
import {connectionWithEnvelope, messageWaitingForBob, sessionOnFiles, type Emitted} from './account-files.js';

// A contacts file that cannot be written: another process holds its lock (a live pid, so it is
// not broken as stale) until the lock times out. A full disk fails the same call the same way.

function holdLock(dataDir: string, fingerprint: string, username: string): () => void {
	const lock = `${contactsPath(dataDir, fingerprint, username)}.lock`;
	writeFileSync(lock, `${process.pid}\n`);
	return () => rmSync(lock, {force: true});
}

const texts = (emitted: Emitted[]) => emitted.filter(({event}) => event === 'message').map(({args}) => (args[0] as {text: string}).text);

/**
 * alice's `text` waits on the relay for bob, who is offline; bob's next process logs in by hand
 * and takes it, with a ChatSession on his real files whose lock gives up after 100 ms.
 */
async function waitingForBob(text: string) {
	const {relay, bobDir} = await messageWaitingForBob(text);
	const {peer, users, envelope} = await connectionWithEnvelope(relay, bobDir, 'bob');
	const emitted: Emitted[] = [];
	const toRelay: ClientMessage[] = [];
	const session = sessionOnFiles(relay, bobDir, 'bob', item => emitted.push(item), {lockTimeoutMs: 100});
	return {relay, bobDir, peer, users, envelope, emitted, toRelay, session};
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

describe('when the contact store cannot be written', () => {
	it('the client stays online, says so once, and shows the messages in order once it can', {timeout: 90_000}, async () => {
		const {relay, bobDir, alice, bob} = await aliceMeetsBob();
		const messages = record(bob, 'message');
		const gaps = record(bob, 'gap');
		const closed = record(bob, 'closed');
		const errors = record(bob, 'local-error');
		const delivered = record(alice, 'delivered');
		const release = holdLock(bobDir, relay.fingerprint, 'bob');
		// The lock goes away as soon as the user has been told (ChatClient waits 10 s for it first).
		bob.once('local-error', release);
		const ids = [alice.send('bob', 'one'), alice.send('bob', 'two')];

		await expect.poll(() => messages.map(([message]) => message.text), {timeout: 60_000}).toEqual(['one', 'two']);
		expect(errors).toEqual([[{message: expect.stringMatching(/could not save a message from alice .*locked/)}]]);
		expect(gaps).toEqual([]);
		expect(closed).toEqual([]);
		expect(bob.status).toBe('online');
		// Saved, then acknowledged and receipted.
		await expect.poll(() => delivered.map(([receipt]) => receipt.id).sort()).toEqual([...ids].sort());
	});

	it.each([
		['contacts.json', 'the first message made it'],
		['pins.json', 'meeting alice made it'],
	])('%s damaged by hand is reported, not a crash, and the messages come once it is repaired (%s)', {timeout: 60_000}, async fileName => {
		const {relay, bobDir, alice, bob} = await aliceMeetsBob();
		const messages = record(bob, 'message');
		if (fileName === 'contacts.json') {
			alice.send('bob', 'before');
			await expect.poll(() => messages.length, {timeout: 15_000}).toBe(1);
		}
		const file = join(dirname(contactsPath(bobDir, relay.fingerprint, 'bob')), fileName);
		const good = readFileSync(file, 'utf8');
		const errors = record(bob, 'local-error');
		writeFileSync(file, '{"damaged":');
		alice.send('bob', 'while the file is damaged');
		await expect.poll(() => errors.length, {timeout: 15_000}).toBe(1);
		expect(errors[0]![0].message).toContain(fileName);
		expect(messages.length).toBe(fileName === 'contacts.json' ? 1 : 0);
		expect(bob.status).toBe('online');
		writeFileSync(file, good);
		await expect.poll(() => messages.map(([message]) => message.text).slice(-1), {timeout: 30_000}).toEqual(['while the file is damaged']);
	});

	it('leaves the envelope unacknowledged, so the relay delivers it again at the next login', {timeout: 30_000}, async () => {
		const {relay, bobDir, peer, users, envelope, emitted, toRelay, session} = await waitingForBob('kept by the relay');
		session.welcome(users);
		session.attach(message => toRelay.push(message));
		const release = holdLock(bobDir, relay.fingerprint, 'bob');
		session.deliver(envelope);
		await new Promise(resolve => setImmediate(resolve));
		// (carried-over: the session's once-per-run report that there was no pinned name to look up)
		expect(emitted.map(({event}) => event).filter(event => event !== 'carried-over')).toEqual(['local-error']);
		expect(toRelay).toEqual([]);
		// The connection ends before the store works again.
		session.detach();
		peer.close();
		release();

		const bob = newClient(relay, {dataDir: bobDir});
		const messages = record(bob, 'message');
		const rejected = record(bob, 'rejected');
		await logIn(bob, 'bob');
		await expect.poll(() => messages.map(([message]) => message.text)).toEqual(['kept by the relay']);
		expect(rejected).toEqual([]);
		expect(texts(emitted)).toEqual([]);
	});

	it('keys it could not save at login are saved before any envelope is opened', {timeout: 30_000}, async () => {
		const {relay, bobDir, peer, users, envelope, emitted, toRelay, session} = await waitingForBob('after a bad start');
		const release = holdLock(bobDir, relay.fingerprint, 'bob');
		expect(session.welcome(users).contacts).toEqual([{username: 'alice', online: true, verified: false, keyChanged: false}]);
		session.attach(message => toRelay.push(message));
		session.deliver(envelope);
		await new Promise(resolve => setImmediate(resolve));
		// (carried-over: the session's once-per-run report that there was no pinned name to look up)
		expect(emitted.map(({event}) => event).filter(event => event !== 'carried-over')).toEqual(['local-error']);
		expect(toRelay).toEqual([]);
		release();

		await expect.poll(() => texts(emitted), {timeout: 10_000}).toEqual(['after a bad start']);
		await expect.poll(() => toRelay.map(message => message.type)).toEqual(['send', 'ack']);
		expect(toRelay[1]).toEqual({type: 'ack', deliveries: [envelope.delivery]});
		expect(emitted.filter(({event}) => event === 'local-error')).toHaveLength(1);
		session.detach();
		peer.close();
	});
});
