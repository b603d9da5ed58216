import {join} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import {describe, expect, it} from 'vitest';
import {generateIdentity} from '../../source/crypto/identity.js';
import {databaseFileName} from '../../source/relay/sqlite-store.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, opaqueSend, type PeerMessage} from '../helpers/logged-in-peer.js';
import {tempDir} from '../helpers/temp-dir.js';

const isType = (type: string) => (message: PeerMessage) => message.type === type;

function queuedRows(dataDir: string): Array<{delivery: number; recipient: string; id: string}> {
	const db = new Database(join(dataDir, databaseFileName), {readonly: true});
	try {
		return db.prepare('select delivery, recipient, id from queue order by delivery').all() as Array<{delivery: number; recipient: string; id: string}>;
	} finally {
		db.close();
	}
}

/** Sends a ping and waits for its pong: everything the relay queued for this peer before it has arrived. */
async function sync(peer: Awaited<ReturnType<typeof loggedInPeer>>, nonce: number) {
	peer.send({type: 'ping', nonce});
	await peer.until(message => message.type === 'pong' && message.nonce === nonce);
}

/** A relay with this forwardedCommitMs; alice sends bob (online, keys kept for his next login) m1, which reaches him. */
async function bobReceivesM1(forwardedCommitMs: number) {
	const dataDir = tempDir();
	const relay = await relayForTest({dataDir, limits: {forwardedCommitMs}});
	const bobKeys = generateIdentity();
	const bob = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
	const alice = await loggedInPeer(relay.port, 'alice');
	alice.send(opaqueSend('m1', 'bob'));
	const delivered = await bob.until(isType('message'));
	return {dataDir, relay, bobKeys, bob, alice, delivered};
}

describe('envelopes to an online recipient go out at once and reach the disk only if not acknowledged', () => {
	it('an acknowledged envelope is answered `accepted` only after the ack, and never written to disk', async () => {
		const {dataDir, bob, alice, delivered} = await bobReceivesM1(60_000);
		expect(delivered).toMatchObject({id: 'm1', from: 'alice', to: 'bob', body: 'opaque-m1'});
		await sync(alice, 1);
		expect(alice.messages().filter(isType('accepted'))).toEqual([]);
		bob.send({type: 'ack', deliveries: [delivered.delivery]});
		expect(await alice.until(isType('accepted'))).toEqual({type: 'accepted', id: 'm1', to: 'bob', time: delivered.time});
		expect(queuedRows(dataDir)).toEqual([]);
	});

	it('one not acknowledged in time is committed, then answered, and comes again at the next login', async () => {
		const {dataDir, relay, bobKeys, bob, alice, delivered} = await bobReceivesM1(30);
		await alice.until(isType('accepted'));
		expect(queuedRows(dataDir)).toEqual([{delivery: delivered.delivery, recipient: 'bob', id: 'm1'}]);
		bob.close();
		const again = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		expect(await again.until(isType('message'))).toEqual(delivered);
	});

	it('a recipient that leaves before acking gets the envelope again at its next login; the sender hears `accepted` when it is on disk', async () => {
		const {dataDir, relay, bobKeys, bob, alice, delivered} = await bobReceivesM1(60_000);
		bob.close();
		expect(await alice.until(isType('accepted'))).toMatchObject({id: 'm1', to: 'bob'});
		expect(queuedRows(dataDir)).toHaveLength(1);
		const again = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		const redelivered = await again.until(isType('message'));
		expect(redelivered).toEqual(delivered);
		again.send({type: 'ack', deliveries: [redelivered.delivery]});
		await sync(again, 1);
		expect(queuedRows(dataDir)).toEqual([]);
	});

	it('a resend while the first copy is out with its recipient is neither forwarded nor answered twice', async () => {
		const relay = await relayForTest({limits: {forwardedCommitMs: 60_000}});
		const bob = await loggedInPeer(relay.port, 'bob');
		const alice = await loggedInPeer(relay.port, 'alice');
		alice.send(opaqueSend('m1', 'bob'));
		alice.send(opaqueSend('m1', 'bob'));
		await sync(alice, 1);
		await sync(bob, 1);
		const delivered = bob.messages().filter(isType('message'));
		expect(delivered).toHaveLength(1);
		bob.send({type: 'ack', deliveries: [delivered[0]!.delivery]});
		await alice.until(isType('accepted'));
		await sync(alice, 2);
		expect(alice.messages().filter(isType('accepted'))).toHaveLength(1);
	});

	it('names the recipient in `accepted`, so copies to everyone are answered each for its own recipient, in any order', async () => {
		const relay = await relayForTest({limits: {forwardedCommitMs: 60_000}});
		const bob = await loggedInPeer(relay.port, 'bob');
		const carol = await loggedInPeer(relay.port, 'carol');
		const alice = await loggedInPeer(relay.port, 'alice');
		alice.send(opaqueSend('e1', 'bob', 'everyone'), opaqueSend('e1', 'carol', 'everyone'));
		const toBob = await bob.until(isType('message'));
		const toCarol = await carol.until(isType('message'));
		carol.send({type: 'ack', deliveries: [toCarol.delivery]});
		expect(await alice.until(isType('accepted'))).toMatchObject({id: 'e1', to: 'carol'});
		const seen = alice.messages().length;
		bob.send({type: 'ack', deliveries: [toBob.delivery]});
		expect(await alice.until(isType('accepted'), seen)).toMatchObject({id: 'e1', to: 'bob'});
	});

	it('an ack for another user\'s delivery settles nothing', async () => {
		const relay = await relayForTest({limits: {forwardedCommitMs: 60_000}});
		const bob = await loggedInPeer(relay.port, 'bob');
		const mallory = await loggedInPeer(relay.port, 'mallory');
		const alice = await loggedInPeer(relay.port, 'alice');
		alice.send(opaqueSend('m1', 'bob'));
		const delivered = await bob.until(isType('message'));
		mallory.send({type: 'ack', deliveries: [delivered.delivery]});
		await sync(mallory, 1);
		await sync(alice, 1);
		expect(alice.messages().filter(isType('accepted'))).toEqual([]);
	});

	it('when the disk fails, a forwarded envelope stays in memory: the recipient\'s ack still answers the sender', {timeout: 30_000}, async () => {
		const dataDir = tempDir();
		const events: string[] = [];
		const relay = await relayForTest({dataDir, limits: {forwardedCommitMs: 30}, log: event => events.push(event)});
		const bob = await loggedInPeer(relay.port, 'bob');
		const alice = await loggedInPeer(relay.port, 'alice');
		alice.send(opaqueSend('m0', 'bob'));
		await alice.until(isType('accepted'));
		// another process holds the database: every commit waits for it, then fails
		const locker = new Database(join(dataDir, databaseFileName));
		locker.exec('begin exclusive');
		const seen = alice.messages().length;
		alice.send(opaqueSend('m1', 'bob'));
		const delivered = await bob.until(message => message.type === 'message' && message.id === 'm1');
		await expect.poll(() => events.includes('storage_error'), {timeout: 15_000}).toBe(true);
		bob.send({type: 'ack', deliveries: [delivered.delivery]});
		expect(await alice.until(message => message.type === 'accepted' || message.type === 'error', seen, 15_000)).toMatchObject({type: 'accepted', id: 'm1', to: 'bob'});
		locker.exec('rollback');
		locker.close();
		expect(queuedRows(dataDir).map(row => row.id)).toEqual(['m0']);
	});

	it('delivery numbers keep growing across a restart of the relay', async () => {
		const dataDir = tempDir();
		const bobKeys = generateIdentity();
		const first = await relayForTest({dataDir, limits: {forwardedCommitMs: 60_000}});
		const bob = await loggedInPeer(first.port, 'bob', {keys: bobKeys});
		const alice = await loggedInPeer(first.port, 'alice');
		alice.send(opaqueSend('m1', 'bob'));
		const before = await bob.until(isType('message'));
		await first.close();
		const second = await relayForTest({dataDir});
		const bobAgain = await loggedInPeer(second.port, 'bob', {keys: bobKeys});
		// m1 was committed when the relay shut down, unacknowledged
		expect(await bobAgain.until(isType('message'))).toEqual(before);
		const aliceAgain = await loggedInPeer(second.port, 'alice2');
		aliceAgain.send(opaqueSend('m2', 'bob'));
		const after = await bobAgain.until(message => message.type === 'message' && message.id === 'm2');
		expect(after.delivery as number).toBeGreaterThan(before.delivery as number);
	});
});

describe('headless clients (login with roster: false)', () => {
	it('get an empty welcome and no presence, while others still see them come and go', async () => {
		const relay = await relayForTest();
		const watcher = await loggedInPeer(relay.port, 'watcher');
		await loggedInPeer(relay.port, 'someone');
		const headless = await loggedInPeer(relay.port, 'bot', {roster: false});
		expect(headless.messages().find(isType('welcome'))).toEqual({type: 'welcome', username: 'bot', users: [], motd: null, online: [], onlineCount: 3, waiting: 0, prekeys: {oneTime: 0, signed: null}});
		await watcher.until(message => message.type === 'user_joined' && (message.user as {username: string}).username === 'bot');
		const late = await loggedInPeer(relay.port, 'late');
		await watcher.until(message => message.type === 'user_joined' && (message.user as {username: string}).username === 'late');
		late.close();
		await watcher.until(message => message.type === 'user_left' && message.username === 'late');
		await sync(headless, 1);
		expect(headless.messages().map(message => message.type)).toEqual(['login_request', 'welcome', 'pong']);
		// and it still chats
		watcher.send(opaqueSend('hi', 'bot'));
		expect(await headless.until(isType('message'))).toMatchObject({id: 'hi', from: 'watcher'});
	});
});
