import {describe, expect, it} from 'vitest';
import {generateIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import type {AsyncRelayStore} from '../../source/relay/async-store.js';
import {maxWaitingMessages} from '../../source/relay/session-queue.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, opaqueSend, type PeerMessage} from '../helpers/logged-in-peer.js';
import {RawPeer} from '../helpers/raw-peer.js';
import {slowStore, sqliteStoreIn, withoutTakeDelivery} from '../helpers/slow-store.js';
import {changed, create, items, join, roomSend, roomUser} from '../helpers/room-kit.js';
import {tempDir} from '../helpers/temp-dir.js';

/** The relay core on an asynchronous store (async-store.ts): what a store that answers late must not change. */

const lifted = {rateBurst: Infinity, ratePerSecond: Infinity, lookupBurst: Infinity, lookupsPerHour: Infinity, lookupBurstPerAddress: Infinity, lookupsPerHourPerAddress: Infinity};

/** What the relay answered, without presence and its own pings. */
const answers = (messages: PeerMessage[]) => messages.filter(message => !['user_joined', 'user_left', 'ping', 'welcome', 'login_request'].includes(message.type));

/** A connection past the handshake that has not logged in yet, and everything it was sent. */
async function connection(port: number) {
	const peer = await RawPeer.open(port);
	const channel = await peer.handshake();
	await peer.line(1);
	const opened: PeerMessage[] = [];
	let lines = 1;
	return {
		peer,
		channel,
		send: (...batch: object[]) => peer.write(channel.sealer.seal(batch) + '\n'),
		messages(): PeerMessage[] {
			while (lines < peer.lines.length) opened.push(...(channel.opener.open(peer.lines[lines++]!) as PeerMessage[]));
			return opened;
		},
	};
}

describe('a slow store (every call answered 5 ms late)', () => {
	it('answers the frames of one connection in the order they came, each handled before the next', async () => {
		const relay = await relayForTest({store: slowStore(sqliteStoreIn(tempDir()), 5), limits: lifted});
		(await loggedInPeer(relay.port, 'bob')).close();
		const alice = await loggedInPeer(relay.port, 'alice');
		const from = alice.messages().length;
		// Each in a frame of its own, all at once: some need the store, some do not.
		alice.send({type: 'lookup', id: 'l1', names: ['bob']});
		alice.send({type: 'ping', nonce: 1});
		alice.send(opaqueSend('s1', 'nobody'));
		alice.send({type: 'ping', nonce: 2});
		alice.send({type: 'get_bundle', id: 'b1', username: 'bob'});
		alice.send({type: 'who'});
		alice.send({type: 'ping', nonce: 3});
		alice.send({type: 'lookup', id: 'l2', names: ['carol']});
		await expect.poll(() => answers(alice.messages().slice(from)).length).toBe(8);
		expect(answers(alice.messages().slice(from)).map(message => `${message.type}:${message.id ?? message.ref ?? message.nonce ?? ''}`)).toEqual([
			'found:l1',
			'pong:1',
			'error:s1',
			'pong:2',
			'error:b1',
			'online:',
			'pong:3',
			'found:l2',
		]);
	});

	it('delivers one sender\'s envelopes in the order sent, each answered `accepted` once', async () => {
		const relay = await relayForTest({store: slowStore(sqliteStoreIn(tempDir()), 5), limits: lifted});
		const bob = await loggedInPeer(relay.port, 'bob');
		const alice = await loggedInPeer(relay.port, 'alice');
		for (let index = 0; index < 50; index++) alice.send(opaqueSend(`m${index}`, 'bob'));
		await expect.poll(() => bob.messages().filter(message => message.type === 'message').length, {timeout: 10_000}).toBe(50);
		const delivered = bob.messages().filter(message => message.type === 'message');
		expect(delivered.map(message => message.id)).toEqual(Array.from({length: 50}, (_, index) => `m${index}`));
		const numbers = delivered.map(message => message.delivery as number);
		expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
		bob.send({type: 'ack', deliveries: numbers});
		await expect.poll(() => alice.messages().filter(message => message.type === 'accepted').length, {timeout: 10_000}).toBe(50);
		expect(new Set(alice.messages().filter(message => message.type === 'accepted').map(message => message.id)).size).toBe(50);
	});

	it('keeps what waits bounded when a client sends 10,000 frames at once: the socket is not read until half is done, nothing is dropped', {timeout: 60_000}, async () => {
		const relay = await relayForTest({store: slowStore(sqliteStoreIn(tempDir()), 2), limits: lifted});
		const alice = await loggedInPeer(relay.port, 'alice');
		const from = alice.messages().length;
		const count = 10_000;
		// One lookup (a store read) in every 25 frames, pings between: the pings wait behind each lookup.
		const expected: string[] = [];
		for (let index = 0; index < count; index++) {
			const lookup = index % 25 === 0;
			alice.send(lookup ? {type: 'lookup', id: `l${index}`, names: ['nobody']} : {type: 'ping', nonce: index});
			expected.push(lookup ? `found:l${index}` : `pong:${index}`);
		}
		await expect.poll(() => answers(alice.messages().slice(from)).length, {timeout: 50_000, interval: 200}).toBe(count);
		expect(answers(alice.messages().slice(from)).map(message => `${message.type}:${message.id ?? message.nonce}`)).toEqual(expected);
		// The client outran the store, and what waited in the relay stayed within the bound.
		expect(relay.stats().maxWaitingMessages).toBe(maxWaitingMessages);
		// The connection is still there and answers at once.
		alice.send({type: 'ping', nonce: count});
		await alice.until(message => message.type === 'pong' && message.nonce === count);
	});
});

describe('a room on a slow store', () => {
	it('messages from three members at once and a change among them take one order: no position twice or skipped, the old epoch only before the change', async () => {
		const relay = await relayForTest({store: slowStore(sqliteStoreIn(tempDir()), 3), limits: lifted});
		const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map(name => roomUser(relay.port, name)));
		const room = await create(alice!, 'dev');
		await join(alice!, room, bob!);
		await join(alice!, room, carol!);
		const oldEpoch = room.epoch;
		for (let index = 0; index < 20; index++) {
			bob!.peer.send(roomSend(room, `b${index}`));
			carol!.peer.send(roomSend(room, `c${index}`));
			if (index < 10) alice!.peer.send(roomSend(room, `a${index}`));
		}
		// A change while they wait: what comes after it must be sealed in its epoch.
		await changed(alice!, room, {action: 'topic', topic: 'busy'});
		for (let index = 10; index < 20; index++) alice!.peer.send(roomSend(room, `a${index}`));
		const answered = (user: typeof alice) =>
			user!.peer.messages().filter(message => message.type === 'room_accepted' || (message.type === 'error' && typeof message.ref === 'string' && /^[abc]\d/.test(message.ref)));
		await expect.poll(() => [alice, bob, carol].map(user => answered(user).length), {timeout: 20_000}).toEqual([20, 20, 20]);
		const accepted = [alice, bob, carol].flatMap(user => answered(user).filter(message => message.type === 'room_accepted'));
		const refused = [alice, bob, carol].flatMap(user => answered(user).filter(message => message.type === 'error'));
		expect(refused.every(message => message.code === 'room_stale' && !String(message.ref).startsWith('a'))).toBe(true);
		// Every position once: the three creating changes, the topic, and each message taken.
		const topicSeq = (await alice!.peer.until(message => message.type === 'room_changed' && message.index === 3)).seq as number;
		const seqs = [...accepted.map(message => message.seq as number), 1, 2, 3, topicSeq].sort((a, b) => a - b);
		expect(seqs).toEqual(Array.from({length: seqs.length}, (_, index) => index + 1));
		// Each member reads every message of the others once, in order, the old epoch only before the change.
		for (const [user, own] of [[alice, 'a'], [bob, 'b'], [carol, 'c']] as const) {
			const others = accepted.filter(message => !String(message.id).startsWith(own)).map(message => message.id);
			const messages = () => items(user!, 'dev').filter(item => item.type === 'room_message');
			await expect.poll(() => messages().length, {timeout: 10_000}).toBe(others.length);
			expect(new Set(messages().map(item => item.id))).toEqual(new Set(others));
			const read = items(user!, 'dev').map(item => item.seq as number);
			expect(read).toEqual([...new Set(read)].sort((x, y) => x - y));
			for (const item of messages()) expect(item.epoch === oldEpoch).toBe((item.seq as number) < topicSeq);
		}
	});
});

describe('logins racing on a slow store', () => {
	/** Logs in on both connections at the same moment; resolves once each has its answer. */
	async function race(port: number, name: string, keys: [IdentityKeys, IdentityKeys]) {
		const [first, second] = await Promise.all([connection(port), connection(port)]);
		first.send(RawPeer.login(first.channel, name, keys[0]));
		second.send(RawPeer.login(second.channel, name, keys[1]));
		const outcome = (messages: PeerMessage[]) => messages.find(message => message.type === 'welcome' || message.type === 'error');
		await expect.poll(() => outcome(first.messages()) !== undefined && outcome(second.messages()) !== undefined, {timeout: 10_000}).toBe(true);
		return [first, second];
	}

	it('two logins of one identity end with exactly one session, the other replaced (20 rounds)', async () => {
		const relay = await relayForTest({store: slowStore(sqliteStoreIn(tempDir()), 3)});
		for (let round = 0; round < 20; round++) {
			const name = `amy${round}`;
			const keys = generateIdentity();
			// Half the rounds register the name in the race, half log in to a name registered before.
			if (round % 2 === 1) (await loggedInPeer(relay.port, name, {keys})).close();
			await expect.poll(() => relay.onlineUsernames().includes(name)).toBe(false);
			const both = await race(relay.port, name, [keys, keys]);
			await expect.poll(() => both.filter(side => side.messages().some(message => message.code === 'session_replaced')).length).toBe(1);
			const [kept] = both.filter(side => !side.messages().some(message => message.code === 'session_replaced'));
			expect(kept!.messages().some(message => message.type === 'welcome')).toBe(true);
			expect(relay.onlineUsernames().filter(online => online === name)).toEqual([name]);
			// The one kept is the session the relay routes to.
			kept!.send({type: 'who'});
			await expect.poll(() => kept!.messages().some(message => message.type === 'online')).toBe(true);
			for (const side of both) side.peer.socket.destroy();
		}
	});

	it('two identities registering one new name: one gets it, the other username_taken (20 rounds)', async () => {
		const relay = await relayForTest({store: slowStore(sqliteStoreIn(tempDir()), 3)});
		for (let round = 0; round < 20; round++) {
			const both = await race(relay.port, `new${round}`, [generateIdentity(), generateIdentity()]);
			const outcomes = both.map(side => side.messages().find(message => message.type === 'welcome' || message.type === 'error')!);
			expect(outcomes.map(outcome => outcome.code ?? outcome.type).sort()).toEqual(['username_taken', 'welcome']);
			for (const side of both) side.peer.socket.destroy();
		}
		expect(relay.stats().registrations).toBe(20);
	});

	it('a name registered in the store meanwhile (by another relay) is username_taken, not a second account', async () => {
		const store = sqliteStoreIn(tempDir());
		const other = generateIdentity();
		// Another relay on the same store registers the name between this relay's read and its write.
		const racing: AsyncRelayStore = {
			...store,
			async registerUser(user) {
				const record = RawPeer.login({relayIdentity: Buffer.alloc(32), transcript: Buffer.alloc(32)}, user.username, other);
				await store.registerUser({...user, identity: record.identity, x25519: record.x25519, binding: record.binding});
				return store.registerUser(user);
			},
		};
		const relay = await relayForTest({store: racing});
		const mallory = await connection(relay.port);
		mallory.send(RawPeer.login(mallory.channel, 'zoe'));
		await expect.poll(() => mallory.messages().some(message => message.type === 'error')).toBe(true);
		expect(mallory.messages().find(message => message.type === 'error')).toMatchObject({code: 'username_taken', fatal: false});
		expect(relay.onlineUsernames()).toEqual([]);
		// The one who registered it logs in.
		(await loggedInPeer(relay.port, 'zoe', {keys: other})).close();
		expect(relay.stats().registrations).toBe(0);
	});
});

describe('a store that numbers envelopes only as it commits them (no takeDelivery, as PostgreSQL)', () => {
	for (const delayMs of [0, 3]) {
		it(`commits every envelope before forwarding it, in order, and deletes each on its ack (store ${delayMs} ms late)`, async () => {
			const dataDir = tempDir();
			const store = withoutTakeDelivery(sqliteStoreIn(dataDir));
			const relay = await relayForTest({store: delayMs === 0 ? store : slowStore(store, delayMs), limits: lifted});
			const bobKeys = generateIdentity();
			const bob = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
			const alice = await loggedInPeer(relay.port, 'alice');
			for (let start = 0; start < 100; start += 10) alice.send(...Array.from({length: 10}, (_, index) => opaqueSend(`m${start + index}`, 'bob')));
			await expect.poll(() => bob.messages().filter(message => message.type === 'message').length, {timeout: 10_000}).toBe(100);
			const delivered = bob.messages().filter(message => message.type === 'message');
			expect(delivered.map(message => message.id)).toEqual(Array.from({length: 100}, (_, index) => `m${index}`));
			const numbers = delivered.map(message => message.delivery as number);
			expect(new Set(numbers).size).toBe(100);
			expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
			// Committed before it was forwarded: its sender hears `accepted` without any ack.
			await expect.poll(() => alice.messages().filter(message => message.type === 'accepted').length).toBe(100);
			// A resend of one still queued is answered, not stored or delivered twice.
			alice.send(opaqueSend('m5', 'bob'));
			await expect.poll(() => alice.messages().filter(message => message.type === 'accepted').length).toBe(101);
			bob.send({type: 'ack', deliveries: numbers});
			// Every ack deletes a row: nothing was held in memory unacknowledged.
			await expect.poll(() => relay.stats().ackDeletes).toBe(100);
			expect(bob.messages().filter(message => message.type === 'message')).toHaveLength(100);
			// Offline, then back: what waited comes from the queue, in order, after what was delivered.
			bob.close();
			await expect.poll(() => relay.onlineUsernames()).toEqual(['alice']);
			for (let index = 100; index < 110; index++) alice.send(opaqueSend(`m${index}`, 'bob'));
			await expect.poll(() => alice.messages().filter(message => message.type === 'accepted').length).toBe(111);
			const back = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
			await expect.poll(() => back.messages().filter(message => message.type === 'message').length).toBe(10);
			const later = back.messages().filter(message => message.type === 'message');
			expect(later.map(message => message.id)).toEqual(Array.from({length: 10}, (_, index) => `m${100 + index}`));
			expect(Math.min(...later.map(message => message.delivery as number))).toBeGreaterThan(Math.max(...numbers));
		});
	}

	it('an ack still waiting when its connection closes is taken before the next login reads the queue: what was read is not sent again', async () => {
		const store = slowStore(withoutTakeDelivery(sqliteStoreIn(tempDir())), 20);
		const relay = await relayForTest({store, limits: lifted});
		const bobKeys = generateIdentity();
		const bob = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		const alice = await loggedInPeer(relay.port, 'alice');
		alice.send(...Array.from({length: 3}, (_, index) => opaqueSend(`m${index}`, 'bob')));
		await expect.poll(() => bob.messages().filter(message => message.type === 'message').length).toBe(3);
		const numbers = bob.messages().filter(message => message.type === 'message').map(message => message.delivery);
		// The ack waits behind a lookup (a read) as the connection goes.
		bob.send({type: 'lookup', id: 'l1', names: ['alice']}, {type: 'ack', deliveries: numbers});
		bob.close();
		const back = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		alice.send(opaqueSend('after', 'bob'));
		await back.until(message => message.type === 'message' && message.id === 'after');
		expect(back.messages().filter(message => message.type === 'message').map(message => message.id)).toEqual(['after']);
		expect(relay.stats().ackDeletes).toBe(3);
	});

	it('the same relay with takeDelivery forwards before the commit: acked envelopes never touch the disk', async () => {
		const relay = await relayForTest({store: sqliteStoreIn(tempDir()), limits: lifted});
		const bob = await loggedInPeer(relay.port, 'bob');
		const alice = await loggedInPeer(relay.port, 'alice');
		alice.send(...Array.from({length: 10}, (_, index) => opaqueSend(`m${index}`, 'bob')));
		await expect.poll(() => bob.messages().filter(message => message.type === 'message').length).toBe(10);
		bob.send({type: 'ack', deliveries: bob.messages().filter(message => message.type === 'message').map(message => message.delivery)});
		await expect.poll(() => alice.messages().filter(message => message.type === 'accepted').length).toBe(10);
		expect(relay.stats().ackDeletes).toBe(0);
	});
});
