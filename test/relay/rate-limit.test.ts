import {describe, expect, it} from 'vitest';
import type {RunningRelay} from '../../source/relay/server.js';
import {meet, next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {RawPeer} from '../helpers/raw-peer.js';

type Message = Record<string, unknown> & {type: string};

/** The relay's clock, moved by hand: the token buckets refill only when a test says time passed. */
function manualClock() {
	const clock = {now: Date.now(), read: () => clock.now};
	return clock;
}

const presence = new Set(['user_joined', 'user_left', 'ping']);

/** A hand-driven client logged in as `username`, reading every reply but presence and pings. */
async function rawUser(relay: RunningRelay, username: string) {
	const peer = await RawPeer.open(relay.port);
	const channel = await peer.handshake();
	const read = async (index: number) => channel.opener.open(await peer.line(index)) as Message[];
	expect(await read(1)).toEqual([{type: 'login_request'}]);
	peer.write(channel.sealer.seal([RawPeer.login(channel, username)]) + '\n');
	expect((await read(2))[0]).toMatchObject({type: 'welcome', username});
	let line = 3;
	return {
		peer,
		send(messages: object[]) {
			peer.write(channel.sealer.seal(messages) + '\n');
		},
		/** The next `count` replies, however the relay framed them. */
		async replies(count: number): Promise<Message[]> {
			const got: Message[] = [];
			while (got.length < count) got.push(...(await read(line++)).filter(message => !presence.has(message.type)));
			return got;
		},
	};
}

const envelope = (id: string, to: string, kind = 'direct') => ({type: 'send', id, to, kind, ephemeral: 'A'.repeat(43), body: 'x'});

describe('the per-connection rate limit', () => {
	/**
	 * Alice writes to bob once and hears his receipt: from then on they have a ratchet session, no
	 * bundle to fetch. Returns once the relay has charged alice's ack of the receipt (taken, or
	 * refused when her bucket is spent), so that nothing of this is charged after the test moves the clock.
	 */
	async function inSession(relay: RunningRelay, alice: Awaited<ReturnType<typeof onlineClient>>): Promise<void> {
		let ackRefused = false;
		const onError = (error: {ref: string | null}) => {
			if (error.ref === null) ackRefused = true;
		};
		alice.on('relay-error', onError);
		const receipt = next(alice, 'delivered');
		alice.send('bob', 'hello');
		await receipt;
		// bob's ack of the hello and alice's of the receipt
		await expect.poll(() => relay.stats().ackedNumbers >= 2 || ackRefused).toBe(true);
		alice.off('relay-error', onError);
	}

	it('lets a pasted block of 200 lines through at the default limits', async () => {
		const clock = manualClock();
		const relay = await relayForTest({clock: clock.read});
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		await inSession(relay, alice);
		clock.now += 10_000; // the tokens of the login, the prekeys, the bundle and the first message are back: the bucket is full
		const refused = record(alice, 'relay-error');
		const seen = record(bob, 'message');
		const lines = Array.from({length: 200}, (_, i) => `pasted line ${i}`);
		for (const line of lines) alice.send('bob', line);
		while (seen.length < lines.length) await next(bob, 'message');
		expect(seen.map(([message]) => message.text)).toEqual(lines);
		expect(refused).toEqual([]);
	});

	// The first text to someone makes the client send a `get_bundle` (and, right after login, its
	// `prekeys`): those have buckets of their own and take no message token (PROTOCOL.md section 6).
	it('lets a pasted block of 200 lines through at the default limits as the first texts to a contact', async () => {
		const clock = manualClock();
		const relay = await relayForTest({clock: clock.read});
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		clock.now += 10_000; // the login's and the prekeys' tokens are back: the bucket is full
		const refused = record(alice, 'relay-error');
		const seen = record(bob, 'message');
		const lines = Array.from({length: 200}, (_, i) => `pasted line ${i}`);
		for (const line of lines) alice.send('bob', line);
		await expect.poll(() => seen.length + refused.length, {timeout: 5000}).toBeGreaterThanOrEqual(lines.length);
		expect(refused).toEqual([]);
		expect(seen.map(([message]) => message.text)).toEqual(lines);
	});

	it('refuses what goes past the burst with rate_limited (ref = the message id), keeps the connection, and takes more once tokens are back', async () => {
		const clock = manualClock();
		const relay = await relayForTest({clock: clock.read, limits: {rateBurst: 5, ratePerSecond: 10}});
		await onlineClient(relay, 'alice');
		// the login took a token of the connection's own; the account's five are all there
		const mallory = await rawUser(relay, 'mallory');
		mallory.send(Array.from({length: 7}, (_, i) => envelope(`m${i}`, 'alice')));
		const replies = await mallory.replies(7);
		expect(replies.filter(reply => reply.type === 'accepted').map(reply => reply.id)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
		expect(replies.filter(reply => reply.type === 'error')).toEqual([
			expect.objectContaining({code: 'rate_limited', fatal: false, ref: 'm5'}),
			expect.objectContaining({code: 'rate_limited', fatal: false, ref: 'm6'}),
		]);
		mallory.send([envelope('m5', 'alice')]);
		expect(await mallory.replies(1)).toEqual([expect.objectContaining({code: 'rate_limited', ref: 'm5'})]);
		clock.now += 1000;
		mallory.send([envelope('m5', 'alice'), {type: 'ping', nonce: 7}]);
		expect(await mallory.replies(2)).toEqual([{type: 'pong', nonce: 7}, expect.objectContaining({type: 'accepted', id: 'm5'})]);
		expect(mallory.peer.closed).toBe(false);
	});

	it('our client hears a refusal as a relay-error naming the message', async () => {
		const clock = manualClock();
		const relay = await relayForTest({clock: clock.read, limits: {rateBurst: 3, ratePerSecond: 1}});
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		await inSession(relay, alice);
		clock.now += 10_000; // the account's three tokens are all there again
		const refused = next(alice, 'relay-error');
		const ids = ['one', 'two', 'three', 'four'].map(text => alice.send('bob', text));
		expect((await refused)[0]).toMatchObject({code: 'rate_limited', ref: ids[3]});
		expect(alice.status).toBe('online');
	});

	it('counts the copies of one # everyone message as one', async () => {
		const clock = manualClock();
		const relay = await relayForTest({clock: clock.read, limits: {rateBurst: 2, ratePerSecond: 1}});
		await onlineClient(relay, 'alice');
		await onlineClient(relay, 'bob');
		const mallory = await rawUser(relay, 'mallory'); // two tokens
		mallory.send([envelope('all', 'alice', 'everyone'), envelope('all', 'bob', 'everyone'), envelope('one', 'alice')]);
		const replies = await mallory.replies(3);
		expect(replies).toEqual(
			expect.arrayContaining([
				expect.objectContaining({type: 'accepted', id: 'all'}),
				expect.objectContaining({type: 'accepted', id: 'all'}),
				expect.objectContaining({type: 'error', code: 'rate_limited', ref: 'one'}),
			]),
		);
	});

	it('ends a client that keeps going at full speed after rateMaxRefused refusals with flooding; bystanders keep chatting', async () => {
		const clock = manualClock();
		const events: string[] = [];
		const relay = await relayForTest({
			clock: clock.read,
			limits: {rateBurst: 5, ratePerSecond: 1, rateMaxRefused: 20},
			log: event => events.push(event),
		});
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await meet(alice, bob);
		const mallory = await rawUser(relay, 'mallory'); // the account's five tokens
		mallory.send(Array.from({length: 30}, (_, nonce) => ({type: 'ping', nonce})));
		const replies = await mallory.replies(26);
		await mallory.peer.untilClosed();
		expect(replies.map(reply => reply.code ?? reply.type)).toEqual([
			...Array(5).fill('pong'),
			...Array(20).fill('rate_limited'),
			'flooding',
		]);
		expect(replies.at(-1)).toMatchObject({fatal: true, ref: null});
		// one log line for the spell of refusals, not one per message
		expect(events.filter(event => event === 'refused')).toHaveLength(1);
		const received = next(bob, 'message');
		alice.send('bob', 'still here');
		expect((await received)[0].text).toBe('still here');
	});
});
