import {describe, expect, it} from 'vitest';
import {generateIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import type {Timer} from '../../source/relay/presence-batcher.js';
import type {RunningRelay} from '../../source/relay/server.js';
import {next, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {RawPeer} from '../helpers/raw-peer.js';

type Message = {type: string; username?: string; user?: {username: string}};

/** Presence flushes wait until the test fires them: what reaches whom is then exact. */
function handTimer() {
	let pending: Array<() => void> = [];
	const timer: Timer = callback => {
		pending.push(callback);
		return () => {
			pending = pending.filter(item => item !== callback);
		};
	};
	return {
		timer,
		fire() {
			const due = pending;
			pending = [];
			for (const callback of due) callback();
		},
	};
}

/** A hand-driven client that logs in and keeps every frame it receives after its welcome. */
async function watcher(relay: RunningRelay, username: string, keys: IdentityKeys = generateIdentity()) {
	const peer = await RawPeer.open(relay.port);
	const channel = await peer.handshake();
	// the opener checks seq, so every line is opened once, in order
	const opened: Message[][] = [];
	const open = () => {
		while (opened.length < peer.lines.length - 1) opened.push(channel.opener.open(peer.lines[opened.length + 1]!) as Message[]);
		return opened;
	};
	await peer.line(1);
	peer.write(channel.sealer.seal([RawPeer.login(channel, username, keys)]) + '\n');
	await peer.line(2);
	expect(open()[1]![0]!.type).toBe('welcome');
	return {
		peer,
		keys,
		/** Frames received after the welcome, each as its list of messages. */
		frames: () => open().slice(2),
		/** Waits for a pong to `nonce`: every frame the relay queued before it has arrived. */
		async sync(nonce: number) {
			peer.write(channel.sealer.seal([{type: 'ping', nonce}]) + '\n');
			await expect.poll(() => open().at(-1)!.some(message => message.type === 'pong' && (message as {nonce?: number}).nonce === nonce)).toBe(true);
		},
	};
}

const describeMessage = (message: Message) => (message.type === 'user_joined' ? `+${message.user!.username}` : message.type === 'user_left' ? `-${message.username}` : message.type);

describe('batched presence', () => {
	it('N logins reach every client in at most one frame each per flush: O(N) frames in all, not O(N²)', async () => {
		const hand = handTimer();
		const count = 20;
		// every test client comes from 127.0.0.1: room for all of them on one address
		const relay = await relayForTest({timer: hand.timer, limits: {maxConnectionsPerAddress: count + 1}});
		const observer = await watcher(relay, 'observer');
		const users = [];
		for (let index = 0; index < count; index++) users.push(await watcher(relay, `user${String(index).padStart(2, '0')}`));
		await observer.sync(1);
		// nothing yet but the pong: the flush has not run
		expect(observer.frames().flat().map(describeMessage)).toEqual(['pong']);
		hand.fire();
		await observer.sync(2);
		const frames = observer.frames();
		expect(frames).toHaveLength(3);
		expect(frames[1]!.map(describeMessage)).toEqual(users.map((_, index) => `+user${String(index).padStart(2, '0')}`));
		// each user hears only of those who came after its welcome, in one frame
		let presenceFrames = 1;
		for (const [index, user] of users.entries()) {
			await user.sync(3);
			const got = user.frames().filter(frame => frame.some(message => message.type === 'user_joined'));
			presenceFrames += got.length;
			expect(got.flat().map(describeMessage)).toEqual(users.slice(index + 1).map((_, later) => `+user${String(index + 1 + later).padStart(2, '0')}`));
			expect(got.length).toBeLessThanOrEqual(1);
		}
		expect(presenceFrames).toBeLessThanOrEqual(count + 1);

		// and N leaves: one frame to the observer
		for (const user of users) user.peer.socket.destroy();
		await expect.poll(() => relay.onlineUsernames()).toEqual(['observer']);
		hand.fire();
		await observer.sync(4);
		const leaves = observer.frames().slice(3);
		expect(leaves).toHaveLength(2);
		// in the order the relay noticed the sockets close
		expect(leaves[0]!.map(describeMessage).sort()).toEqual(users.map((_, index) => `-user${String(index).padStart(2, '0')}`));
		expect(leaves[1]!.map(describeMessage)).toEqual(['pong']);
	});

	it('a reconnect within the window (leave, then join) is invisible; so is a known user popping in and out', async () => {
		const hand = handTimer();
		const relay = await relayForTest({timer: hand.timer});
		const observer = await watcher(relay, 'observer');
		const flapper = await watcher(relay, 'flapper');
		hand.fire();
		await observer.sync(1);
		expect(observer.frames().flat().map(describeMessage)).toEqual(['+flapper', 'pong']);
		const before = observer.frames().length;

		flapper.peer.socket.destroy();
		await expect.poll(() => relay.onlineUsernames()).toEqual(['observer']);
		const back = await watcher(relay, 'flapper', flapper.keys);
		hand.fire();
		back.peer.socket.destroy();
		await expect.poll(() => relay.onlineUsernames()).toEqual(['observer']);
		const popIn = await watcher(relay, 'flapper', flapper.keys);
		popIn.peer.socket.destroy();
		await expect.poll(() => relay.onlineUsernames()).toEqual(['observer']);
		hand.fire();
		await observer.sync(2);
		// the first window (gone, back) cancels out; in the second (gone, in, out) only the leave stands
		expect(observer.frames().slice(before).flat().map(describeMessage)).toEqual(['-flapper', 'pong']);
	});

	it('a first login and logout within the window still tells the others who registered', async () => {
		const hand = handTimer();
		const relay = await relayForTest({timer: hand.timer});
		const observer = await watcher(relay, 'observer');
		const visitor = await watcher(relay, 'visitor');
		visitor.peer.socket.destroy();
		await expect.poll(() => relay.onlineUsernames()).toEqual(['observer']);
		hand.fire();
		await observer.sync(1);
		expect(observer.frames().flat().map(describeMessage)).toEqual(['+visitor', '-visitor', 'pong']);
	});

	it("a message from someone who registered moments ago arrives after the news of them, flush or not", async () => {
		const hand = handTimer();
		const relay = await relayForTest({timer: hand.timer});
		const alice = await onlineClient(relay, 'alice');
		const joined = record(alice, 'user-joined');
		const rejected = record(alice, 'rejected');
		const bob = await onlineClient(relay, 'bob');
		const received = next(alice, 'message');
		bob.send('alice', 'hi, I am new here');
		expect((await received)[0]).toMatchObject({from: 'bob', text: 'hi, I am new here'});
		expect(joined.map(([contact]) => contact.username)).toEqual(['bob']);
		expect(rejected).toEqual([]);
		hand.fire();
	});

	it('with presence off, nobody hears of joins and leaves after their welcome', async () => {
		const relay = await relayForTest({presence: false});
		const observer = await watcher(relay, 'observer');
		const other = await watcher(relay, 'other');
		other.peer.socket.destroy();
		await expect.poll(() => relay.onlineUsernames()).toEqual(['observer']);
		await observer.sync(1);
		expect(observer.frames().flat().map(describeMessage)).toEqual(['pong']);
	});
});
