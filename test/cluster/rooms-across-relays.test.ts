import pg from 'pg';
import {afterEach, beforeEach, expect, it} from 'vitest';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {again, change, changed, create, items, join, next, roomSend, roomUser, send, TestRoom, type RoomUser} from '../helpers/room-kit.js';
import type {PeerMessage} from '../helpers/logged-in-peer.js';
import {roomRelays, type ClusterRelay} from '../helpers/room-relays.js';
import {startTcpProxy} from '../helpers/tcp-proxy.js';

const pause = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** The room messages a user was sent, as seq and id, in the order they came. */
function messagesOf(user: RoomUser, room: string): Array<[number, string]> {
	return items(user, room)
		.filter(item => item.type === 'room_message')
		.map(item => [item.seq as number, item.id as string]);
}

/** Joins `user` on the admin's relay (invitations reach the relay one is on), then takes it to `home`. */
async function joinFrom(home: ClusterRelay, admin: RoomUser, room: TestRoom, user: RoomUser): Promise<RoomUser> {
	await join(admin, room, user);
	return moveTo(home, user, room);
}

/** The user logs in on `home` instead, and has read its room's stream up to the last change so far. */
async function moveTo(home: ClusterRelay, user: RoomUser, room: TestRoom): Promise<RoomUser> {
	const moved = await again(home.port, user);
	await next(moved, message => message.type === 'room_change' && message.room === room.name && (message.entry as {index: number}).index === room.state!.index);
	return moved;
}

async function roomLog(user: RoomUser, room: string): Promise<unknown[]> {
	const from = user.peer.messages().length;
	user.peer.send({type: 'room_log', room, from: 0});
	return (await next(user, message => message.type === 'room_log' && message.room === room, from)).entries as unknown[];
}

describePostgres('rooms across relays on one PostgreSQL (design cluster.md)', () => {
	const database = usePostgresDatabase();
	let relays: ClusterRelay[];
	let closeLinks: () => Promise<void>;

	beforeEach(async () => {
		({relays, close: closeLinks} = await roomRelays(database.url, 2, {rateBurst: 1000, ratePerSecond: 1000}));
	});
	afterEach(async () => closeLinks());

	it('members on two relays exchange room messages both ways: each delivered once, in order, with the positions the store gave', async () => {
		const [a, b] = relays as [ClusterRelay, ClusterRelay];
		const alice = await roomUser(a.port, 'alice1');
		const room = await create(alice, 'both');
		const bob = await joinFrom(b, alice, room, await roomUser(a.port, 'bob1'));
		for (let n = 1; n <= 5; n += 1) expect(await send(alice, room, `a${n}`)).toMatchObject({type: 'room_accepted', seq: 2 + n});
		for (let n = 1; n <= 5; n += 1) expect(await send(bob, room, `b${n}`)).toMatchObject({type: 'room_accepted', seq: 7 + n});
		await next(bob, message => message.type === 'room_message' && message.id === 'a5');
		await next(alice, message => message.type === 'room_message' && message.id === 'b5');
		await pause(200);
		expect(messagesOf(bob, 'both')).toEqual([3, 4, 5, 6, 7].map(seq => [seq, `a${seq - 2}`]));
		expect(messagesOf(alice, 'both')).toEqual([8, 9, 10, 11, 12].map(seq => [seq, `b${seq - 7}`]));
		expect(a.relay.stats().roomMessages).toBe(5);
		expect(b.relay.stats().roomMessages).toBe(5);
		// B delivered bob's add (his backlog at login there) and alice's five; A alice's create, bob's add twice (to each) and bob's five.
		expect(b.relay.stats().roomDeliveries).toBe(6);
		expect(a.relay.stats().roomDeliveries).toBe(8);
		// Each relay told the other of its own commits only.
		expect(b.sent.flat().filter(name => name === 'both')).toHaveLength(5);
	});

	it('two admins on two relays change the room at once: one is room_conflict, retried; both read one log', async () => {
		const [a, b] = relays as [ClusterRelay, ClusterRelay];
		const alice = await roomUser(a.port, 'alice2');
		const room = await create(alice, 'race');
		let bob = await roomUser(a.port, 'bob2');
		await join(alice, room, bob);
		await changed(alice, room, {action: 'admin', member: 'bob2'});
		bob = await moveTo(b, bob, room);
		const fromAlice = room.entry(alice, {action: 'topic', topic: 'from alice'});
		const fromBob = room.entry(bob, {action: 'topic', topic: 'from bob'});
		const answers = await Promise.all([change(alice, room, fromAlice), change(bob, room, fromBob)]);
		expect(answers.map(answer => answer.type).sort()).toEqual(['error', 'room_changed']);
		const [loser, lost] = answers[0]!.type === 'error' ? [alice, answers[0]!] : [bob, answers[1]!];
		expect(lost).toMatchObject({code: 'room_conflict', ref: 'race'});
		// The client reads the room and tries again after the winner's change: taken, on whichever relay it is.
		expect(await change(loser, room, room.entry(loser, {action: 'topic', topic: 'again'}))).toMatchObject({type: 'room_changed', index: 4});
		const [logA, logB] = await Promise.all([roomLog(alice, 'race'), roomLog(bob, 'race')]);
		expect(logA).toHaveLength(5);
		expect(logB).toEqual(logA);
		expect(logA.map(entry => (entry as {index: number}).index)).toEqual([0, 1, 2, 3, 4]);
	});

	it('a removal committed on relay A reaches a member on B before anything after it; a message sealed before it is room_stale', async () => {
		const [a, b] = relays as [ClusterRelay, ClusterRelay];
		const alice = await roomUser(a.port, 'alice3');
		const room = await create(alice, 'rm');
		const bob = await joinFrom(b, alice, room, await roomUser(a.port, 'bob3'));
		const carol = await joinFrom(b, alice, room, await roomUser(a.port, 'carol3'));
		await next(bob, message => message.type === 'room_change' && message.seq === 3);
		const oldEpoch = room.epoch;
		const removal = await changed(alice, room, {action: 'remove', member: 'carol3'});
		const removedAt = removal.seq as number;
		// bob on B, not yet woken or just woken: a message in the epoch before the removal is never stored after it.
		expect(await send(bob, room, 'late', {epoch: oldEpoch})).toMatchObject({type: 'error', code: 'room_stale', ref: 'late'});
		expect(await send(alice, room, 'after')).toMatchObject({type: 'room_accepted', seq: removedAt + 1});
		await next(bob, message => message.type === 'room_message' && message.id === 'after');
		const seen = items(bob, 'rm').map(item => [item.seq, item.type]);
		expect(seen.slice(-2)).toEqual([
			[removedAt, 'room_change'],
			[removedAt + 1, 'room_message'],
		]);
		// carol reads up to her removal and nothing after it.
		await next(carol, message => message.type === 'room_change' && message.seq === removedAt);
		await pause(200);
		expect(items(carol, 'rm').map(item => item.seq)).not.toContain(removedAt + 1);
		expect(new Set(items(bob, 'rm').map(item => item.seq)).size).toBe(items(bob, 'rm').length);
	});

	it('a room deleted on one relay is made again on the other, which held it in memory; the new stream counts from 1', async () => {
		const [a, b] = relays as [ClusterRelay, ClusterRelay];
		let alice = await roomUser(a.port, 'alice4');
		const old = await create(alice, 'again');
		const bob = await joinFrom(b, alice, old, await roomUser(a.port, 'bob4'));
		expect(await send(alice, old, 'x1')).toMatchObject({type: 'room_accepted'});
		await next(bob, message => message.type === 'room_message' && message.id === 'x1');
		await changed(bob, old, {action: 'leave'});
		await changed(alice, old, {action: 'leave'});
		const db = new pg.Client({connectionString: database.url});
		await db.connect();
		try {
			expect((await db.query("select count(*)::int as n from rooms where room = 'again'")).rows[0].n).toBe(0);
			const room = await create(bob, 'again', 'anew');
			expect(await next(bob, message => message.type === 'room_change' && message.seq === 1 && (message.entry as {topic?: string}).topic === 'anew')).toBeDefined();
			alice = await again(b.port, alice);
			await join(bob, room, alice);
			alice = await again(a.port, alice);
			await next(alice, message => message.type === 'room_change' && message.seq === 2);
			expect(await send(bob, room, 'y1')).toMatchObject({type: 'room_accepted', seq: 3});
			expect(await send(alice, room, 'y2')).toMatchObject({type: 'room_accepted', seq: 4});
			await next(alice, message => message.type === 'room_message' && message.id === 'y1');
			await next(bob, message => message.type === 'room_message' && message.id === 'y2');
			expect(messagesOf(alice, 'again')).toEqual([[3, 'y1']]);
			expect(messagesOf(bob, 'again').filter(([, id]) => id.startsWith('y'))).toEqual([[4, 'y2']]);
			expect((await db.query("select last_seq::int as n from rooms where room = 'again'")).rows[0].n).toBe(4);
		} finally {
			await db.end();
		}
	});

	it("a member reading on the other relay makes room in the backlog: the sender's relay counts what waits as the store has it", async () => {
		const small = await roomRelays(database.url, 2, {maxRoomItems: 8});
		try {
			const [a, b] = small.relays as [ClusterRelay, ClusterRelay];
			const alice = await roomUser(a.port, 'alice6');
			const room = await create(alice, 'full');
			const bob = await joinFrom(b, alice, room, await roomUser(a.port, 'bob6'));
			await next(alice, message => message.type === 'room_change' && message.seq === 2);
			alice.peer.send({type: 'room_ack', room: 'full', seq: 2});
			await pause(100);
			for (const id of ['m1', 'm2']) expect(await send(alice, room, id)).toMatchObject({type: 'room_accepted'});
			// A quarter of maxRoomItems waits from alice: refused until bob reads.
			expect(await send(alice, room, 'm3')).toMatchObject({type: 'error', code: 'room_backlog_full', ref: 'm3'});
			const last = await next(bob, message => message.type === 'room_message' && message.id === 'm2');
			bob.peer.send({type: 'room_ack', room: 'full', seq: last.seq});
			await expect.poll(async () => (await send(alice, room, `m3-${Date.now()}`)).type, {timeout: 5000}).toBe('room_accepted');
		} finally {
			await small.close();
		}
	});

	it('wake-ups missed while the link was down: once it listens again, a member there is sent what was committed meanwhile', async () => {
		const target = new URL(database.url);
		const proxy = await startTcpProxy({host: target.hostname, port: Number(target.port)});
		const cut = await roomRelays(database.url, 2, {}, index => (index === 1 ? proxy.through(database.url) : database.url));
		try {
			const [a, b] = cut.relays as [ClusterRelay, ClusterRelay];
			const alice = await roomUser(a.port, 'alice7');
			const room = await create(alice, 'cut');
			const bob = await joinFrom(b, alice, room, await roomUser(a.port, 'bob7'));
			proxy.refuse(true);
			proxy.cut();
			const heard = b.heard.length;
			expect(await send(alice, room, 'meanwhile')).toMatchObject({type: 'room_accepted', seq: 3});
			await pause(300);
			expect(b.heard.slice(heard)).toEqual([]);
			expect(messagesOf(bob, 'cut')).toEqual([]);
			proxy.refuse(false);
			await next(bob, message => message.type === 'room_message' && message.id === 'meanwhile', 0, 10_000);
			expect(messagesOf(bob, 'cut')).toEqual([[3, 'meanwhile']]);
		} finally {
			await cut.close();
			await proxy.close();
		}
	});

	it('messages from one relay racing a change on the other: each is stored before the change or refused room_stale, never after it in the old epoch', async () => {
		const [a, b] = relays as [ClusterRelay, ClusterRelay];
		const alice = await roomUser(a.port, 'alice8');
		const room = await create(alice, 'rekeyed');
		const carol = await roomUser(a.port, 'carol8');
		await join(alice, room, carol);
		const bob = await joinFrom(b, alice, room, await roomUser(a.port, 'bob8'));
		const oldEpoch = room.epoch;
		const from = bob.peer.messages().length;
		const count = 30;
		for (let n = 0; n < count; n += 1) bob.peer.send(roomSend(room, `r${n}`));
		const rekey = await changed(alice, room, {action: 'rekey'});
		const answered = () => bob.peer.messages().slice(from).filter(message => message.type === 'room_accepted' || message.type === 'error');
		await bob.peer.until(() => answered().length >= count, 0, 15_000);
		const accepted = answered().filter(message => message.type === 'room_accepted');
		const refused = answered().filter(message => message.type === 'error');
		expect(refused.every(message => message.code === 'room_stale')).toBe(true);
		expect(accepted.length + refused.length).toBe(count);
		expect(accepted.every(message => (message.seq as number) < (rekey.seq as number))).toBe(true);
		// carol reads them all, in order, then the rekey: nothing in the old epoch after it.
		await next(carol, message => message.type === 'room_change' && message.seq === rekey.seq);
		await pause(200);
		const seen = items(carol, 'rekeyed');
		expect(seen.map(item => item.seq)).toEqual([...seen.map(item => item.seq as number)].sort((x, y) => x - y));
		expect(seen.filter(item => (item.seq as number) > (rekey.seq as number) && item.epoch === oldEpoch)).toEqual([]);
		expect(messagesOf(carol, 'rekeyed').map(([seq]) => seq)).toEqual(accepted.map(message => message.seq as number).sort((x, y) => x - y));
	});

	it('items of one room from senders on two relays reach every member in one order, no position skipped or repeated', async () => {
		const [a, b] = relays as [ClusterRelay, ClusterRelay];
		const alice = await roomUser(a.port, 'alice5');
		const room = await create(alice, 'many');
		const bob = await joinFrom(b, alice, room, await roomUser(a.port, 'bob5'));
		const carol = await roomUser(a.port, 'carol5');
		await join(alice, room, carol);
		const dave = await joinFrom(b, alice, room, await roomUser(a.port, 'dave5'));
		await next(bob, message => message.type === 'room_change' && message.seq === 4);
		await next(carol, message => message.type === 'room_change' && message.seq === 4);
		const count = 25;
		const sent = (user: RoomUser, prefix: string) => {
			const from = user.peer.messages().length;
			for (let n = 0; n < count; n += 1) user.peer.send(roomSend(room, `${prefix}${n}`));
			return user.peer
				.until(() => user.peer.messages().slice(from).filter(message => message.type === 'room_accepted' || message.type === 'error').length >= count, from, 15_000)
				.then(() => user.peer.messages().slice(from).filter(message => message.type === 'room_accepted' || message.type === 'error'));
		};
		const [fromAlice, fromBob] = await Promise.all([sent(alice, 'a'), sent(bob, 'b')]);
		const accepted = [...fromAlice!, ...fromBob!];
		expect(accepted.every(message => message.type === 'room_accepted')).toBe(true);
		const seqs = accepted.map(message => message.seq as number).sort((x, y) => x - y);
		expect(seqs).toEqual(Array.from({length: 2 * count}, (_, index) => 5 + index));
		const order = new Map(accepted.map(message => [message.seq as number, message.id as string]));
		const everything = [...order].sort(([x], [y]) => x - y);
		for (const member of [carol, dave]) await member.peer.until(() => messagesOf(member, 'many').length >= 2 * count, 0, 15_000);
		await next(alice, () => messagesOf(alice, 'many').length >= count, 0, 15_000);
		await next(bob, () => messagesOf(bob, 'many').length >= count, 0, 15_000);
		await pause(200);
		for (const member of [carol, dave]) expect(messagesOf(member, 'many')).toEqual(everything);
		expect(messagesOf(alice, 'many')).toEqual(everything.filter(([, id]) => id.startsWith('b')));
		expect(messagesOf(bob, 'many')).toEqual(everything.filter(([, id]) => id.startsWith('a')));
	});
});

export type {PeerMessage};
