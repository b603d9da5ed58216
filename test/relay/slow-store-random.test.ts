import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {roomEntryToJson} from '../../source/crypto/room-entry-codec.js';
import {signAccept, signInvite} from '../../source/crypto/room-log.js';
import {relayForTest} from '../helpers/chat.js';
import {opaqueSend} from '../helpers/logged-in-peer.js';
import {create, fakeKey, join, roomSend, roomUser, type RoomUser, type TestRoom} from '../helpers/room-kit.js';
import {slowStore, sqliteStoreIn} from '../helpers/slow-store.js';
import {tempDir} from '../helpers/temp-dir.js';

const lifted = {rateBurst: Infinity, ratePerSecond: Infinity, lookupBurst: Infinity, lookupsPerHour: Infinity, lookupBurstPerAddress: Infinity, lookupsPerHourPerAddress: Infinity, bundleBurst: Infinity, bundleRatePerMinute: Infinity};

/** A small deterministic generator, so that a failing seed can be run again. */
function generator(seed: number) {
	let state = seed >>> 0;
	const next = () => {
		state = (state * 1_664_525 + 1_013_904_223) >>> 0;
		return state / 2 ** 32;
	};
	return {next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!};
}

/** One message a member might send: right, stale, repeated or out of place, but well formed. */
function randomMessage(random: ReturnType<typeof generator>, user: RoomUser, room: TestRoom, others: string[], oldEpochs: string[]): object[] {
	const id = `r${Math.floor(random.next() * 40)}`;
	const other = random.pick(others);
	switch (random.pick(['room_send', 'room_send', 'stale', 'room_ack', 'room_log', 'send', 'ack', 'lookup', 'who', 'bundle', 'change', 'invite', 'accept'])) {
		case 'room_send':
			return [roomSend(room, `${user.name}-${id}`)];
		case 'stale':
			return [roomSend(room, `${user.name}-${id}`, {epoch: random.pick([...oldEpochs, room.epoch])})];
		case 'room_ack':
			return [{type: 'room_ack', room: room.name, seq: 1 + Math.floor(random.next() * 80)}];
		case 'room_log':
			return [{type: 'room_log', room: room.name, from: 0}];
		case 'send':
			return [opaqueSend(`${user.name}-${id}`, other)];
		case 'ack':
			return [{type: 'ack', deliveries: [1 + Math.floor(random.next() * 2000)]}];
		case 'lookup':
			return [{type: 'lookup', id, names: [other, `nobody${id}`]}];
		case 'who':
			return [{type: 'who'}];
		case 'bundle':
			return [{type: 'get_bundle', id, username: other}];
		case 'change': {
			// A topic change from where this member last saw the room: it races the others' and may conflict.
			const entry = room.entry(user, {action: 'topic', topic: id});
			return [{type: 'room_change', room: room.name, entry: roomEntryToJson(entry)}];
		}
		case 'invite': {
			const nonce = randomBytes(16);
			const signature = signInvite({room: room.name, inviter: user.name, invitee: other, nonce}, user.keys.identity.privateKey);
			return [{type: 'room_invite', room: room.name, to: other, nonce: toBase64Url(nonce), signature: toBase64Url(signature)}];
		}
		default: {
			const nonce = randomBytes(16);
			const accept = signAccept({room: room.name, member: user.name, nonce}, user.keys.identity.privateKey);
			return [{type: 'room_stage', room: room.name, keys: [fakeKey(other)]}, {type: 'room_accept', room: room.name, nonce: toBase64Url(nonce), accept: toBase64Url(accept)}];
		}
	}
}

describe('whatever three members send at once, on a slow store, no connection stalls', () => {
	for (const [seed, delayMs] of [
		[1, 2],
		[2, 0],
		[3, 4],
	] as const) {
		it(`every connection still answers once the burst is handled (seed ${seed}, store ${delayMs} ms late)`, {timeout: 60_000}, async () => {
			const store = sqliteStoreIn(tempDir());
			const relay = await relayForTest({store: delayMs === 0 ? store : slowStore(store, delayMs), limits: lifted});
			const users = await Promise.all(['alice', 'bob', 'carol'].map(name => roomUser(relay.port, name)));
			const [alice, bob, carol] = users as [RoomUser, RoomUser, RoomUser];
			const room = await create(alice, 'dev');
			await join(alice, room, bob);
			await join(alice, room, carol);
			const random = generator(seed);
			const epochs = [room.epoch];
			for (let round = 0; round < 400; round++) {
				const user = random.pick(users);
				user.peer.send(...randomMessage(random, user, room, users.filter(other => other !== user).map(other => other.name), epochs));
				if (round % 50 === 0) await new Promise(resolve => setTimeout(resolve, 5));
			}
			// Every connection answers a ping after all it sent: its queue never stalled.
			for (const [index, user] of users.entries()) {
				const from = user.peer.messages().length;
				user.peer.send({type: 'ping', nonce: 1_000_000 + index});
				await user.peer.until(message => message.type === 'pong' && message.nonce === 1_000_000 + index, from, 30_000);
			}
			expect(relay.onlineUsernames()).toEqual(['alice', 'bob', 'carol']);
			// The relay still takes a message and delivers it.
			const from = bob.peer.messages().length;
			alice.peer.send(opaqueSend('after', 'bob'));
			await bob.peer.until(message => message.type === 'message' && message.id === 'after', from, 10_000);
		});
	}
});
