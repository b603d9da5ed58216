import {describe, expect, it} from 'vitest';
import {generateIdentity} from '../../source/crypto/identity.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, type PeerMessage} from '../helpers/logged-in-peer.js';
import {fillDirectory} from '../helpers/relay-users.js';
import {tempDir} from '../helpers/temp-dir.js';

/** Issue 11: what the relay stores and sends for one user, bounded and asserted as counts. */

const body = 'B'.repeat(98_304);
const bigSend = (id: string, to: string, kind: 'direct' | 'everyone' = 'direct') => ({type: 'send', id, to, kind, ephemeral: 'A'.repeat(43), body});
const answers = (messages: PeerMessage[]) =>
	messages.flatMap(message => (message.type === 'accepted' ? ['accepted'] : message.type === 'error' && message.ref ? [message.code as string] : []));

async function registered(port: number, name: string) {
	const keys = generateIdentity();
	const peer = await loggedInPeer(port, name, {keys});
	peer.close();
	return keys;
}

describe('storage quotas (finding 4)', () => {
	it('a sender may keep maxStoredBytesPerSender waiting; past it quota_exceeded, until its recipients read', async () => {
		const relay = await relayForTest({limits: {maxStoredBytesPerSender: 250_000}});
		const bobKeys = await registered(relay.port, 'bob');
		await registered(relay.port, 'carol');
		await expect.poll(() => relay.onlineUsernames()).toEqual([]);
		const mallory = await loggedInPeer(relay.port, 'mallory');
		for (const message of [bigSend('m1', 'bob'), bigSend('m2', 'carol', 'everyone'), bigSend('m3', 'carol')]) mallory.send(message);
		await expect.poll(() => answers(mallory.messages())).toHaveLength(3);
		expect(answers(mallory.messages())).toEqual(['accepted', 'accepted', 'quota_exceeded']);
		// bob reads and acknowledges: mallory may store again
		const bob = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		const delivered = await bob.until(message => message.type === 'message');
		bob.send({type: 'ack', deliveries: [delivered.delivery]});
		await expect.poll(() => relay.stats().ackDeletes).toBe(1);
		mallory.send(bigSend('m4', 'carol'));
		await expect.poll(() => answers(mallory.messages())).toHaveLength(4);
		expect(answers(mallory.messages()).at(-1)).toBe('accepted');
	});

	it('a recipient holds at most maxStoredBytesPerRecipient, whoever sends: queue_full', async () => {
		const relay = await relayForTest({limits: {maxStoredBytesPerRecipient: 250_000}});
		await registered(relay.port, 'bob');
		const alice = await loggedInPeer(relay.port, 'alice');
		const mallory = await loggedInPeer(relay.port, 'mallory');
		alice.send(bigSend('a1', 'bob'));
		alice.send(bigSend('a2', 'bob'));
		await expect.poll(() => answers(alice.messages())).toEqual(['accepted', 'accepted']);
		mallory.send(bigSend('m1', 'bob'));
		await expect.poll(() => answers(mallory.messages())).toEqual(['queue_full']);
	});

	it('senders without priority fill at most half of maxStoredBytes; accepted envelopes stay', async () => {
		const relay = await relayForTest({limits: {maxStoredBytes: 500_000}});
		const bobKeys = await registered(relay.port, 'bob');
		for (const name of ['carol', 'dave']) await registered(relay.port, name);
		const mallory = await loggedInPeer(relay.port, 'mallory');
		const eve = await loggedInPeer(relay.port, 'eve');
		mallory.send(bigSend('m1', 'bob'));
		mallory.send(bigSend('m2', 'carol'));
		await expect.poll(() => answers(mallory.messages())).toEqual(['accepted', 'accepted']);
		eve.send(bigSend('e1', 'dave'));
		await expect.poll(() => answers(eve.messages())).toEqual(['quota_exceeded']);
		// what was accepted is delivered
		const bob = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		expect((await bob.until(message => message.type === 'message')).id).toBe('m1');
	});

	it('one sender may fill at most maxQueuedPerSender of a mailbox; others still reach it', async () => {
		const relay = await relayForTest({limits: {maxQueuedPerSender: 3}});
		await registered(relay.port, 'bob');
		const mallory = await loggedInPeer(relay.port, 'mallory');
		mallory.send(...Array.from({length: 5}, (_, index) => ({...bigSend(`m${index}`, 'bob'), body: 'x'})));
		await expect.poll(() => answers(mallory.messages()).sort()).toEqual(['accepted', 'accepted', 'accepted', 'queue_full', 'queue_full']);
		const alice = await loggedInPeer(relay.port, 'alice');
		alice.send({...bigSend('a1', 'bob'), body: 'x'});
		await expect.poll(() => answers(alice.messages())).toEqual(['accepted']);
	});

	it('tiny envelopes are charged what their rows take: one-byte bodies with 64-character ids', async () => {
		// 32 KiB a sender: 64-character ids and one-byte bodies take 364 bytes each, so 90 fit, not 32,768
		const relay = await relayForTest({limits: {maxStoredBytesPerSender: 32 * 1024}});
		for (const name of ['bob', 'carol']) await registered(relay.port, name);
		const mallory = await loggedInPeer(relay.port, 'mallory');
		const tiny = (index: number) => ({...bigSend(`${index}`.padStart(64, 'i'), index % 2 ? 'bob' : 'carol'), body: 'x'});
		mallory.send(...Array.from({length: 120}, (_, index) => tiny(index)));
		await expect.poll(() => answers(mallory.messages())).toHaveLength(120);
		expect(answers(mallory.messages()).filter(answer => answer === 'accepted')).toHaveLength(Math.floor((32 * 1024) / 364));
	});
});

describe('pacing by the reader (findings 3 and 8)', () => {
	it('a client that does not read for 1.5 s gets 30,000 contacts at its own pace, not dropped', async () => {
		// 9 MB: more than loopback's socket buffers take in
		const dataDir = tempDir();
		fillDirectory(dataDir, 30_000, {contactsOf: 'reader'});
		const events: string[] = [];
		const relay = await relayForTest({dataDir, limits: {maxBufferedBytes: 128 * 1024, maxContacts: 30_000}, log: event => events.push(event)});
		const reader = await loggedInPeer(relay.port, 'reader');
		reader.peer.socket.pause();
		await new Promise(resolve => setTimeout(resolve, 1500));
		reader.peer.socket.resume();
		await expect
			.poll(() => reader.messages().reduce((sum, message) => sum + ((message.users as unknown[] | undefined)?.length ?? 0), 0), {timeout: 10_000})
			.toBe(30_000);
		expect(events).not.toContain('slow_reader');
		expect(reader.peer.closed).toBe(false);
	});

	it('joins and leaves while a long list of users streams wait, at most two per user, and follow it', async () => {
		// a community relay of 30,000 users (everyone hears of a newcomer): 9 MB of records, more
		// than loopback's socket buffers take in
		const dataDir = tempDir();
		fillDirectory(dataDir, 30_000);
		const relay = await relayForTest({dataDir, limits: {maxBufferedBytes: 128 * 1024, communityMaxUsers: 100_000}});
		const reader = await loggedInPeer(relay.port, 'reader');
		reader.peer.socket.pause();
		// while it does not read: a churner comes and goes ten times, a newcomer registers and leaves
		const churnKeys = generateIdentity();
		for (let round = 0; round < 10; round++) (await loggedInPeer(relay.port, 'churner', {keys: churnKeys, roster: false})).close();
		(await loggedInPeer(relay.port, 'newcomer', {roster: false})).close();
		await expect.poll(() => relay.onlineUsernames()).toEqual(['reader']);
		await new Promise(resolve => setTimeout(resolve, 600));
		reader.peer.socket.resume();
		const presence = () => reader.messages().filter(message => message.type === 'user_joined' || message.type === 'user_left');
		await expect.poll(() => presence().filter(message => (message.user as {username?: string} | undefined)?.username === 'newcomer' || message.username === 'newcomer')).toHaveLength(2);
		const last = reader.messages().map(message => message.type).lastIndexOf('directory');
		const firstPresence = reader.messages().findIndex(message => message.type === 'user_joined' || message.type === 'user_left');
		expect(firstPresence).toBeGreaterThan(last);
		const about = (name: string) => presence().filter(message => (message.user as {username?: string} | undefined)?.username === name || message.username === name);
		expect(about('churner').length).toBeLessThanOrEqual(2);
		expect(about('churner').at(-1)).toMatchObject({type: 'user_left'});
		expect(about('newcomer').map(message => message.type)).toEqual(['user_joined', 'user_left']);
	});

	it('96 KiB # everyone messages to users who do not read wait in the queue; nobody is dropped and all arrive in order', {timeout: 60_000}, async () => {
		const events: string[] = [];
		const relay = await relayForTest({
			limits: {maxBufferedBytes: 256 * 1024, rateBurst: Infinity, ratePerSecond: Infinity},
			log: event => events.push(event),
		});
		const victims = await Promise.all(['v1', 'v2', 'v3'].map(name => loggedInPeer(relay.port, name, {roster: false})));
		for (const victim of victims) victim.peer.socket.pause();
		const mallory = await loggedInPeer(relay.port, 'mallory', {roster: false});
		// 9.6 MB for each: more than loopback's socket buffers take in
		const ids = Array.from({length: 100}, (_, index) => `e${index}`);
		// one envelope a frame: two of 96 KiB do not fit in one
		for (const id of ids) for (const [index] of victims.entries()) mallory.send(bigSend(id, `v${index + 1}`, 'everyone'));
		await expect.poll(() => answers(mallory.messages()).filter(answer => answer === 'accepted'), {timeout: 20_000}).toHaveLength(300);
		await new Promise(resolve => setTimeout(resolve, 500));
		expect(victims.map(victim => victim.peer.closed)).toEqual([false, false, false]);
		for (const victim of victims) victim.peer.socket.resume();
		for (const victim of victims) {
			await expect
				.poll(() => victim.messages().filter(message => message.type === 'message').map(message => message.id), {timeout: 20_000})
				.toEqual(ids);
		}
		expect(events).not.toContain('slow_reader');
	});
});

describe('the quota ledger', () => {
	it('counts what the database holds through sends, forwarded acks, stored acks, resends and refusals', async () => {
		const dataDir = tempDir();
		const first = await relayForTest({dataDir, limits: {maxStoredBytesPerSender: 350_000}});
		const bobKeys = await registered(first.port, 'bob');
		const carol = await loggedInPeer(first.port, 'carol');
		await expect.poll(() => first.onlineUsernames()).toEqual(['carol']);
		const alice = await loggedInPeer(first.port, 'alice');
		// forwarded to carol, stored for bob (offline)
		alice.send(bigSend('c1', 'carol'));
		alice.send(bigSend('b1', 'bob'));
		alice.send(bigSend('b2', 'bob'));
		const forwarded = await carol.until(message => message.type === 'message');
		carol.send({type: 'ack', deliveries: [forwarded.delivery]});
		await expect.poll(() => answers(alice.messages())).toEqual(['accepted', 'accepted', 'accepted']);
		// a resend of a stored one (stored once), one more, and one past the quota
		alice.send(bigSend('b1', 'bob'));
		await expect.poll(() => answers(alice.messages())).toHaveLength(4);
		alice.send(bigSend('b3', 'bob'));
		await expect.poll(() => answers(alice.messages())).toHaveLength(5);
		alice.send(bigSend('b4', 'bob'));
		await expect.poll(() => answers(alice.messages())).toHaveLength(6);
		expect(answers(alice.messages())).toEqual([...Array(5).fill('accepted'), 'quota_exceeded']);
		// bob reads one of his three and acks it
		const bob = await loggedInPeer(first.port, 'bob', {keys: bobKeys, roster: false});
		const backlog = await bob.until(message => message.type === 'message');
		bob.send({type: 'ack', deliveries: [backlog.delivery]});
		await expect.poll(() => first.stats().ackDeletes).toBe(1);
		for (const peer of [alice, bob, carol]) peer.close();
		await expect.poll(() => first.onlineUsernames()).toEqual([]);
		const counted = first.stats().storedBytes;
		await first.close();
		// a relay started on the same database counts from scratch what is there
		const second = await relayForTest({dataDir});
		expect(second.stats().storedBytes).toBe(counted);
		expect(counted).toBeGreaterThan(2 * 98_304);
		expect(counted).toBeLessThan(3 * 98_304);
	});
});
