import {describe, expect, it} from 'vitest';
import {parseRelayMessage} from '../../source/net/messages.js';
import {relayForTest} from '../helpers/chat.js';
import {again, changed, create, items, join, next, readDatabase, roomSend, roomUser, send} from '../helpers/room-kit.js';
import {tempDir} from '../helpers/temp-dir.js';

describe('rooms on the relay: the stream (design rooms.md sections 4 and 5)', () => {
	it('create, invite, accept, add; a message to three members is stored once and reaches the two others', async () => {
		const dataDir = tempDir();
		const relay = await relayForTest({dataDir});
		const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map(name => roomUser(relay.port, name)));
		const room = await create(alice!, 'dev', 'talk here');
		await join(alice!, room, bob!);
		await join(alice!, room, carol!);
		const create0 = await next(alice!, message => message.type === 'room_change' && message.seq === 1);
		expect(create0).toMatchObject({room: 'dev', entry: {action: 'create', index: 0, author: 'alice', topic: 'talk here'}});
		expect(create0.key).toBeUndefined();
		// the new member's first item is its add, with its sealed key from the author
		const bobAdd = await next(bob!, message => message.type === 'room_change');
		expect(bobAdd).toMatchObject({seq: 2, entry: {action: 'add', record: {username: 'bob'}}, key: {from: 'alice', to: 'bob', kind: 'direct'}});
		expect(parseRelayMessage(bobAdd)).toEqual(bobAdd);
		// bob sees carol's add, without a key: it derives the epoch itself
		const carolAddAtBob = await next(bob!, message => message.type === 'room_change' && message.seq === 3);
		expect(carolAddAtBob.key).toBeUndefined();

		expect(await send(alice!, room, 'm1')).toMatchObject({type: 'room_accepted', room: 'dev', id: 'm1', seq: 4});
		for (const member of [bob!, carol!]) {
			const message = await next(member, m => m.type === 'room_message');
			expect(message).toMatchObject({room: 'dev', seq: 4, from: 'alice', id: 'm1', epoch: room.epoch, n: 0, body: 'gAAAAm1'});
			expect(parseRelayMessage(message)).toEqual(message);
		}
		const database = readDatabase(dataDir);
		expect(database.prepare("select count(*) from room_items where room = 'dev' and kind = 'message'").pluck().get()).toBe(1);
		expect(database.prepare("select of from room_items where room = 'dev' and seq = 4").pluck().get()).toBe(2);
		database.close();
		// the sender is not sent its own message
		await new Promise(resolve => setTimeout(resolve, 50));
		expect(items(alice!, 'dev').filter(item => item.type === 'room_message')).toEqual([]);
		expect(relay.stats()).toMatchObject({roomMessages: 1, roomChanges: 3});
	});

	it('a resend of a message still waiting (its sender missed room_accepted) is answered again and stored once', async () => {
		const dataDir = tempDir();
		const relay = await relayForTest({dataDir});
		const [alice, bob] = await Promise.all(['alice', 'bob'].map(name => roomUser(relay.port, name)));
		const room = await create(alice!, 'dev');
		await join(alice!, room, bob!);
		// twice in one turn, and once more after the commit
		alice!.peer.send(roomSend(room, 'm1'));
		const first = await send(alice!, room, 'm1');
		const again = await send(alice!, room, 'm1');
		expect(first).toMatchObject({type: 'room_accepted', id: 'm1'});
		expect(again).toMatchObject({type: 'room_accepted', id: 'm1', seq: first.seq});
		await next(bob!, message => message.type === 'room_message');
		await new Promise(resolve => setTimeout(resolve, 50));
		expect(items(bob!, 'dev').filter(item => item.type === 'room_message')).toHaveLength(1);
		const database = readDatabase(dataDir);
		expect(database.prepare("select count(*) from room_items where room = 'dev' and kind = 'message'").pluck().get()).toBe(1);
		database.close();
	});

	it('an offline member gets what it missed in order at login; acks move positions, count deliveries and delete what everyone read', async () => {
		const dataDir = tempDir();
		const relay = await relayForTest({dataDir});
		const alice = await roomUser(relay.port, 'alice');
		const bob = await roomUser(relay.port, 'bob');
		let carol = await roomUser(relay.port, 'carol');
		const room = await create(alice, 'dev');
		await join(alice, room, bob);
		await join(alice, room, carol);
		await next(carol, message => message.type === 'room_change' && message.seq === 3);
		carol.peer.close();
		for (const id of ['m1', 'm2', 'm3']) expect(await send(alice, room, id)).toMatchObject({type: 'room_accepted'});
		await next(bob, message => message.type === 'room_message' && message.id === 'm3');
		const fromAlice = alice.peer.messages().length;
		bob.peer.send({type: 'room_ack', room: 'dev', seq: 6});
		for (const seq of [4, 5, 6]) {
			expect(await next(alice, message => message.type === 'room_delivered' && message.seq === seq, fromAlice)).toEqual({
				type: 'room_delivered',
				room: 'dev',
				seq,
				id: `m${seq - 3}`,
				delivered: 1,
				of: 2,
			});
		}
		carol = await again(relay.port, carol);
		expect(carol.peer.messages().find(message => message.type === 'welcome')?.rooms).toEqual([{room: 'dev', seq: 6}]);
		// never acknowledged: its add again (with its key), then the messages, in order
		await next(carol, message => message.type === 'room_message' && message.id === 'm3');
		expect(items(carol, 'dev').map(item => [item.seq, item.type])).toEqual([
			[3, 'room_change'],
			[4, 'room_message'],
			[5, 'room_message'],
			[6, 'room_message'],
		]);
		expect(items(carol, 'dev')[0]!.key).toMatchObject({from: 'alice', to: 'carol'});
		const fromAliceAgain = alice.peer.messages().length;
		carol.peer.send({type: 'room_ack', room: 'dev', seq: 6});
		expect(await next(alice, message => message.type === 'room_delivered' && message.seq === 6, fromAliceAgain)).toMatchObject({delivered: 2, of: 2});
		// alice read everything she was given: her ack passes her own messages too, and the room is empty
		alice.peer.send({type: 'room_ack', room: 'dev', seq: 3});
		const database = readDatabase(dataDir);
		await expect.poll(() => database.prepare("select count(*) from room_items where room = 'dev'").pluck().get()).toBe(0);
		expect(database.prepare('select count(*) from room_keys').pluck().get()).toBe(0);
		expect(database.prepare("select member, position from room_members where room = 'dev' order by member").all()).toEqual([
			{member: 'alice', position: 6},
			{member: 'bob', position: 6},
			{member: 'carol', position: 6},
		]);
		const logBytes = database.prepare('select sum(length(entry) + 64) from room_log').pluck().get();
		database.close();
		// what is gone is not sent again
		carol = await again(relay.port, carol);
		await new Promise(resolve => setTimeout(resolve, 100));
		expect(items(carol, 'dev')).toEqual([]);
		// only the room's log is left stored: it counts as long as the room lives
		expect(relay.stats().storedBytes).toBe(logBytes);
	});

	it('an ack past what the connection was sent moves nothing further than that', async () => {
		const dataDir = tempDir();
		const relay = await relayForTest({dataDir});
		const alice = await roomUser(relay.port, 'alice');
		const bob = await roomUser(relay.port, 'bob');
		const room = await create(alice, 'dev');
		await join(alice, room, bob);
		await next(bob, message => message.type === 'room_change');
		bob.peer.send({type: 'room_ack', room: 'dev', seq: 1000});
		bob.peer.send({type: 'room_ack', room: 'other', seq: 5});
		expect(await send(alice, room, 'later')).toMatchObject({type: 'room_accepted', seq: 3});
		await next(bob, message => message.type === 'room_message');
		const database = readDatabase(dataDir);
		expect(database.prepare("select position from room_members where room = 'dev' and member = 'bob'").pluck().get()).toBe(2);
		expect(database.prepare("select count(*) from room_items where room = 'dev' and seq = 3").pluck().get()).toBe(1);
		database.close();
	});

	it('a room whose one member sends everything empties as the others read', async () => {
		const dataDir = tempDir();
		const relay = await relayForTest({dataDir});
		const alice = await roomUser(relay.port, 'alice');
		const bob = await roomUser(relay.port, 'bob');
		const room = await create(alice, 'news');
		await join(alice, room, bob);
		await next(alice, message => message.type === 'room_change' && message.seq === 2);
		alice.peer.send({type: 'room_ack', room: 'news', seq: 2});
		await next(bob, message => message.type === 'room_change' && message.seq === 2);
		bob.peer.send({type: 'room_ack', room: 'news', seq: 2});
		for (const id of ['a', 'b']) await send(alice, room, id);
		await next(bob, message => message.type === 'room_message' && message.id === 'b');
		bob.peer.send({type: 'room_ack', room: 'news', seq: 4});
		const database = readDatabase(dataDir);
		await expect.poll(() => database.prepare("select count(*) from room_items where room = 'news'").pluck().get()).toBe(0);
		database.close();
		await changed(alice, room, {action: 'topic', topic: 'still here'});
	});
});
