import {randomBytes} from 'node:crypto';
import pg from 'pg';
import {expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {signInvite} from '../../source/crypto/room-log.js';
import {relayChannel} from '../../source/relay/postgres/cluster-names.js';
import {openPostgresStore} from '../../source/relay/postgres/pg-store.js';
import {Wakeups} from '../../source/relay/postgres/wakeups.js';
import {relayForTest} from '../helpers/chat.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {create, join, next, roomUser, send, type RoomUser, type TestRoom} from '../helpers/room-kit.js';
import {tempDir} from '../helpers/temp-dir.js';

const pause = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

function invite(admin: RoomUser, room: TestRoom, to: RoomUser): Buffer {
	const nonce = randomBytes(16);
	const signature = signInvite({room: room.name, inviter: admin.name, invitee: to.name, nonce}, admin.keys.identity.privateKey);
	admin.peer.send({type: 'room_invite', room: room.name, to: to.name, nonce: toBase64Url(nonce), signature: toBase64Url(signature)});
	return nonce;
}

function sent(user: RoomUser, type: string): number {
	return user.peer.messages().filter(message => message.type === type).length;
}

describePostgres('room invitations and read counts between users on different relays (cluster.ts RoomNotice, RoomReadCount)', () => {
	const database = usePostgresDatabase();

	async function twoRelays(tag: string) {
		const dataDir = tempDir();
		const cluster = (relayId: string) => ({url: database.url, relayId, leaseMs: 10_000});
		const a = await relayForTest({dataDir, store: await openPostgresStore(database.url), cluster: cluster(`${tag}_a`)});
		const b = await relayForTest({dataDir, store: await openPostgresStore(database.url), cluster: cluster(`${tag}_b`)});
		return {a, b};
	}

	it('an admin on one relay invites a user on the other: the invitation, the acceptance and the add all cross, and they talk', async () => {
		const {a, b} = await twoRelays('inv1');
		const alice = await roomUser(a.port, 'alice1');
		const bob = await roomUser(b.port, 'bob1');
		const room = await create(alice, 'club');
		// join(): bob hears room_invitation on relay b, alice hears room_join_request on relay a, then adds him.
		await join(alice, room, bob);
		await send(alice, room, 'hello');
		await next(bob, message => message.type === 'room_message' && message.id === 'hello');
		expect(sent(bob, 'room_invitation')).toBe(1);
		expect(sent(alice, 'room_join_request')).toBe(1);
	});

	it('a decline on one relay reaches the inviter on the other; members who are not admins hear no join request', async () => {
		const {a, b} = await twoRelays('inv2');
		const alice = await roomUser(a.port, 'alice2');
		const carol = await roomUser(b.port, 'carol2');
		const dave = await roomUser(b.port, 'dave2');
		const room = await create(alice, 'club2');
		await join(alice, room, carol);
		const nonce = invite(alice, room, dave);
		await next(dave, message => message.type === 'room_invitation' && message.room === 'club2');
		dave.peer.send({type: 'room_decline', room: 'club2', nonce: toBase64Url(nonce)});
		expect(await next(alice, message => message.type === 'room_declined')).toMatchObject({room: 'club2', username: 'dave2'});
		// carol, a member on dave's relay but no admin, heard nothing of either.
		await pause(200);
		expect(sent(carol, 'room_join_request') + sent(carol, 'room_declined')).toBe(0);
	});

	it('a notice the store does not bear out (sent by hand on the database) is dropped: nothing reaches the user, and the relay serves on', async () => {
		const {a, b} = await twoRelays('inv3');
		const alice = await roomUser(a.port, 'alice3');
		const bob = await roomUser(b.port, 'bob3');
		const room = await create(alice, 'club3');
		const pool = new pg.Pool({connectionString: database.url, max: 1});
		try {
			const channel = relayChannel('inv3_b');
			// No invitation to bob3 waits: an "invited" and an "accepted" notice find none; a bad payload is logged and dropped.
			await Wakeups.notify(pool, channel, {type: 'notice', kind: 'invited', room: 'club3', user: 'bob3', names: ['bob3']});
			await Wakeups.notify(pool, channel, {type: 'notice', kind: 'accepted', room: 'club3', user: 'alice3', names: ['bob3']});
			await Wakeups.notify(pool, channel, {type: 'notice', kind: 'invited', room: 'no_such_room', user: 'bob3', names: ['bob3', 'nobody']});
			await pool.query('select pg_notify($1, $2)', [channel, '{"type":"notice","kind":"invited","room":"club","user":"BOB\\u001b","names":["bob3"]}']);
			await pause(300);
			expect(sent(bob, 'room_invitation') + sent(bob, 'room_join_request')).toBe(0);
		} finally {
			await pool.end();
		}
		// Then a real one still crosses.
		invite(alice, room, bob);
		await next(bob, message => message.type === 'room_invitation' && message.room === 'club3');
		expect(sent(bob, 'room_invitation')).toBe(1);
	});

	it('read counts of a message reach its sender on the other relay: the latest of each, once the readers ack', async () => {
		const {a, b} = await twoRelays('inv4');
		const alice = await roomUser(a.port, 'alice4');
		const bob = await roomUser(b.port, 'bob4');
		const carol = await roomUser(b.port, 'carol4');
		const room = await create(alice, 'club4');
		await join(alice, room, bob);
		await join(alice, room, carol);
		for (const id of ['m1', 'm2']) await send(alice, room, id);
		for (const reader of [bob, carol]) await next(reader, message => message.type === 'room_message' && message.id === 'm2');
		const seq = (await next(bob, message => message.type === 'room_message' && message.id === 'm2')).seq as number;
		const from = alice.peer.messages().length;
		bob.peer.send({type: 'room_ack', room: 'club4', seq});
		expect(await next(alice, message => message.type === 'room_delivered' && message.id === 'm2', from)).toEqual({type: 'room_delivered', room: 'club4', seq, id: 'm2', delivered: 1, of: 2});
		await next(alice, message => message.type === 'room_delivered' && message.id === 'm1', from);
		carol.peer.send({type: 'room_ack', room: 'club4', seq});
		await next(alice, message => message.type === 'room_delivered' && message.id === 'm2' && message.delivered === 2, from);
		// bob and carol (on relay b) heard no counts of alice's messages.
		expect(sent(bob, 'room_delivered') + sent(carol, 'room_delivered')).toBe(0);
	});
});
