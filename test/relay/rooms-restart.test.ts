import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {signInvite} from '../../source/crypto/room-log.js';
import {relayForTest} from '../helpers/chat.js';
import {change, changed, create, isChange, items, join, next, readDatabase, roomUser, send, type RoomUser} from '../helpers/room-kit.js';
import {tempDir} from '../helpers/temp-dir.js';

describe('rooms across a relay restart, and their expiry (design rooms.md section 5)', () => {
	it('a restarted relay has each room as it was: its epoch, its head, its readers\' places', async () => {
		const dataDir = tempDir();
		let relay = await relayForTest({dataDir});
		const alice = await roomUser(relay.port, 'alice');
		const bob = await roomUser(relay.port, 'bob');
		const room = await create(alice, 'dev', 'kept');
		await join(alice, room, bob);
		expect(await send(alice, room, 'before')).toMatchObject({type: 'room_accepted', seq: 3});
		const stale = room.entry(alice, {action: 'topic', topic: 'too late'});
		await changed(alice, room, {action: 'admin', member: 'bob'});
		await relay.close();
		relay = await relayForTest({dataDir});
		const alice2 = await roomUser(relay.port, 'alice', {keys: alice.keys});
		const bob2 = await roomUser(relay.port, 'bob', {keys: bob.keys});
		// bob never acknowledged: everything from his add on, in order
		await next(bob2, isChange('admin'));
		expect(items(bob2, 'dev').map(item => item.seq)).toEqual([2, 3, 4]);
		expect(await send(alice2, room, 'after')).toMatchObject({type: 'room_accepted', seq: 5});
		expect(await change(alice2, room, stale)).toMatchObject({code: 'room_conflict'});
		await changed(bob2, room, {action: 'topic', topic: 'bob is an admin still'});
	});

	it('items older than maxQueueAgeMs, the departures they held and invitations older than maxInviteAgeMs are deleted', async () => {
		const dataDir = tempDir();
		const clock = {now: 1_000_000};
		const limits = {maxQueueAgeMs: 60_000, maxInviteAgeMs: 60_000};
		let relay = await relayForTest({dataDir, clock: () => clock.now, limits});
		const [alice, bob, carol, dave] = (await Promise.all(['alice', 'bob', 'carol', 'dave'].map(name => roomUser(relay.port, name)))) as [RoomUser, RoomUser, RoomUser, RoomUser];
		const room = await create(alice, 'dev');
		await join(alice, room, bob);
		await join(alice, room, carol);
		await changed(alice, room, {action: 'remove', member: 'carol'});
		expect(await send(alice, room, 'old')).toMatchObject({type: 'room_accepted'});
		const nonce = randomBytes(16);
		const signature = signInvite({room: 'dev', inviter: 'alice', invitee: 'dave', nonce}, alice.keys.identity.privateKey);
		alice.peer.send({type: 'room_invite', room: 'dev', to: 'dave', nonce: toBase64Url(nonce), signature: toBase64Url(signature)});
		await next(dave, message => message.type === 'room_invitation');
		expect(relay.stats().storedBytes).toBeGreaterThan(0);
		await relay.close();
		clock.now += 61_000;
		relay = await relayForTest({dataDir, clock: () => clock.now, limits});
		const database = readDatabase(dataDir);
		// only the room's log is left stored: it counts as long as the room lives
		expect(relay.stats().storedBytes).toBe(database.prepare('select sum(length(entry) + 64) from room_log').pluck().get());
		expect(database.prepare('select count(*) from room_items').pluck().get()).toBe(0);
		expect(database.prepare('select count(*) from room_invites').pluck().get()).toBe(0);
		// carol's departure item is gone: so is her place
		expect(database.prepare("select member from room_members where room = 'dev' order by member").pluck().all()).toEqual(['alice', 'bob']);
		database.close();
		// a laggard sees a gap: the room goes on
		const bob2 = await roomUser(relay.port, 'bob', {keys: bob.keys});
		expect(bob2.peer.messages().find(message => message.type === 'welcome')?.rooms).toEqual([{room: 'dev', seq: 5}]);
		const alice2 = await roomUser(relay.port, 'alice', {keys: alice.keys});
		expect(await send(alice2, room, 'new')).toMatchObject({type: 'room_accepted', seq: 6});
		await next(bob2, message => message.type === 'room_message');
		expect(items(bob2, 'dev').map(item => item.seq)).toEqual([6]);
	});
});
