import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {RoomKeyError} from '../../source/client/rooms/room-keeper.js';
import {signInvite} from '../../source/crypto/room-log.js';
import {roomOf, roomUser, RoomStream, rowCount} from '../helpers/room-users.js';

const texts = (opened: Array<{type: string; text?: string}>) => opened.map(item => (item.type === 'text' ? item.text : item.type));

describe('rooms: membership and epochs (design sections 1 and 2)', () => {
	it('create, add a member with a real accept, messages both ways', () => {
		const alice = roomUser('alice');
		const bob = roomUser('bob');
		const stream = new RoomStream('team');
		const created = stream.change(alice, [alice], {action: 'create', topic: 'plans'});
		expect(created.prepared.recipients).toEqual([]);
		expect(alice.keeper.room('team')).toMatchObject({status: 'member', topic: 'plans', creator: 'alice', admins: ['alice'], index: 0, needsRekey: false, epochAge: 0});

		const nonce = randomBytes(16);
		const signature = signInvite({room: 'team', inviter: 'alice', invitee: 'bob', nonce}, alice.keys.identity.privateKey);
		expect(bob.keeper.saveInvite({room: 'team', inviter: 'alice', record: alice.keeper.record(), nonce, signature, time: 1, topic: 'plans'})).toBe(true);
		expect(bob.keeper.rooms()).toEqual([expect.objectContaining({room: 'team', status: 'invited', topic: 'plans', members: []})]);
		const {accept} = bob.keeper.accept('team');
		const added = stream.change(alice, [alice, bob], {action: 'add', record: bob.keeper.record(), nonce, accept});
		expect(added.prepared.recipients).toEqual(['bob']);
		expect(bob.keeper.invites()).toEqual([]);
		for (const user of [alice, bob]) {
			expect(user.keeper.room('team')).toMatchObject({status: 'member', index: 1, members: [{username: 'alice', admin: true}, {username: 'bob', admin: false}]});
			expect(user.keeper.position('team')).toBe(added.seq);
		}
		expect(bob.keeper.log('team').map(entry => entry.action)).toEqual(['create', 'add']);

		expect(texts([bob.keeper.open(stream.send(alice, 'hello bob'))])).toEqual(['hello bob']);
		expect(texts([alice.keeper.open(stream.send(bob, 'hi alice'))])).toEqual(['hi alice']);
		// admin and topic derive their epochs: both keep reading each other
		stream.change(alice, [alice, bob], {action: 'topic', topic: 'new plans'});
		stream.change(alice, [alice, bob], {action: 'admin', member: 'bob'});
		expect(bob.keeper.room('team')).toMatchObject({topic: 'new plans', admins: ['alice', 'bob']});
		expect(texts([alice.keeper.open(stream.send(bob, 'still here'))])).toEqual(['still here']);
	});

	it('a member added later cannot open what was sent before its add', () => {
		const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(name => roomUser(name));
		const stream = roomOf('team', [alice!, bob!]);
		const before = stream.send(alice!, 'before carol');
		expect(bob!.keeper.open(before)).toMatchObject({type: 'text'});
		stream.invite(alice!, carol!, [alice!, bob!]);
		// a relay handing carol the old message as a new item: she has no key of that epoch
		expect(carol!.keeper.open({...before, seq: ++stream.seq})).toMatchObject({type: 'rejected', code: 'stale_epoch'});
		expect(rowCount(carol!, 'room_chains')).toBe(3);
		const after = stream.send(alice!, 'welcome carol');
		expect(texts([bob!.keeper.open(after), carol!.keeper.open(after)])).toEqual(['welcome carol', 'welcome carol']);
	});

	it('a removed member gets no key and cannot open later messages; the others can', () => {
		const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(name => roomUser(name));
		const stream = roomOf('team', [alice!, bob!, carol!]);
		expect(texts([bob!.keeper.open(stream.send(carol!, 'one'))])).toEqual(['one']);
		const {prepared} = stream.change(alice!, [alice!, bob!, carol!], {action: 'remove', member: 'bob'});
		expect(prepared.recipients).toEqual(['carol']);
		expect(bob!.keeper.room('team')).toMatchObject({status: 'removed'});
		expect(bob!.keeper.room('team')?.members.map(member => member.username)).toEqual(['alice', 'carol']);
		for (const table of ['room_chains', 'room_skipped']) expect(rowCount(bob!, table)).toBe(0);
		expect(JSON.parse(bob!.db.prepare('SELECT state FROM rooms').pluck().get() as string)).not.toHaveProperty('next');
		expect(() => bob!.keeper.seal('team', 'b1', 'can I?', 1)).toThrow(RoomKeyError);
		const later = stream.send(alice!, 'bob is gone');
		expect(bob!.keeper.open(later)).toMatchObject({type: 'rejected', code: 'not_member'});
		expect(texts([carol!.keeper.open(later)])).toEqual(['bob is gone']);
		expect(texts([alice!.keeper.open(stream.send(carol!, 'yes'))])).toEqual(['yes']);
		// the old epoch's keys are gone from the members who stayed
		const epochs = (user: typeof alice) => user!.db.prepare('SELECT DISTINCT epoch FROM room_chains').pluck().all() as Buffer[];
		const current = alice!.db.prepare('SELECT epoch FROM rooms').pluck().get() as string;
		expect(epochs(alice).map(epoch => epoch.toString('base64url'))).toEqual([current]);
		expect(epochs(carol).map(epoch => epoch.toString('base64url'))).toEqual([current]);
	});

	it('a leave stops the room until an admin rekeys', () => {
		const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(name => roomUser(name));
		const stream = roomOf('team', [alice!, bob!, carol!]);
		const late = stream.send(carol!, 'sealed before the leave');
		stream.seq--; // the relay would refuse it after the leave; it comes after it here
		const left = stream.change(bob!, [alice!, bob!, carol!], {action: 'leave'});
		expect(left.prepared.recipients).toEqual([]);
		expect(bob!.keeper.room('team')).toMatchObject({status: 'left'});
		expect(rowCount(bob!, 'room_chains')).toBe(0);
		expect(alice!.keeper.room('team')).toMatchObject({status: 'member', needsRekey: true});
		expect(alice!.keeper.room('team')?.epochAge).toBeUndefined();
		expect(rowCount(alice!, 'room_chains')).toBe(0);
		expect(() => alice!.keeper.seal('team', 'a1', 'anyone?', 1)).toThrow(expect.objectContaining({code: 'no_epoch'}));
		expect(alice!.keeper.open({...late, seq: ++stream.seq})).toMatchObject({type: 'rejected', code: 'stale_epoch'});
		expect(() => alice!.keeper.prepare('team', {action: 'topic', topic: 'no'})).toThrow(expect.objectContaining({code: 'needs_rekey'}));

		const rekey = stream.change(alice!, [alice!, carol!], {action: 'rekey'});
		expect(rekey.prepared.recipients).toEqual(['carol']);
		expect(carol!.keeper.room('team')).toMatchObject({needsRekey: false, status: 'member'});
		expect(texts([carol!.keeper.open(stream.send(alice!, 'back'))])).toEqual(['back']);
		expect(texts([alice!.keeper.open(stream.send(carol!, 'yes'))])).toEqual(['yes']);
	});

	it('the last member leaving keeps nothing; a room made again under the name starts over', () => {
		const alice = roomUser('alice');
		const bob = roomUser('bob');
		const stream = roomOf('solo', [alice]);
		stream.send(alice, 'note to self');
		stream.change(alice, [alice], {action: 'leave'});
		expect(alice.keeper.room('solo')).toMatchObject({status: 'left', members: []});
		expect(rowCount(alice, 'room_chains')).toBe(0);
		const again = new RoomStream('solo');
		again.change(alice, [alice], {action: 'create', topic: 'again'});
		expect(alice.keeper.room('solo')).toMatchObject({status: 'member', topic: 'again', index: 0});
		expect(alice.keeper.log('solo')).toHaveLength(1);
		again.invite(alice, bob, [alice]);
		expect(texts([bob.keeper.open(again.send(alice, 'hi'))])).toEqual(['hi']);
	});

	it('a room made again under the name of one still held as a member replaces it only with a later create of its own', () => {
		const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map(name => roomUser(name));
		const old = roomOf('team', [alice!, bob!]);
		expect(texts([bob!.keeper.open(old.send(alice!, 'old room'))])).toEqual(['old room']);
		const held = bob!.keeper.room('team');
		const refused = expect.objectContaining({code: 'bad_change'});
		// the room's own log (the same create): no joining one's own room from scratch
		expect(() => bob!.keeper.applyHistory('team', alice!.keeper.log('team', -1, 1))).toThrow(refused);
		// another room of the name made no later than the one held (a deleted older room, replayed)
		new RoomStream('team').change(dave!, [dave!], {action: 'create', topic: 'same time'});
		expect(() => bob!.keeper.applyHistory('team', dave!.keeper.log('team'))).toThrow(refused);
		expect(bob!.keeper.room('team')).toEqual(held);
		expect(rowCount(bob!, 'room_chains')).toBeGreaterThan(0);

		carol!.clock.now += 60_000;
		const again = new RoomStream('team');
		again.change(carol!, [carol!], {action: 'create', topic: 'again'});
		again.invite(carol!, bob!, [carol!]);
		expect(bob!.keeper.room('team')).toMatchObject({status: 'member', creator: 'carol', topic: 'again', index: 1, members: [{username: 'bob'}, {username: 'carol'}]});
		expect(bob!.keeper.log('team').map(entry => entry.author)).toEqual(['carol', 'carol']);
		expect(texts([bob!.keeper.open(again.send(carol!, 'new room'))])).toEqual(['new room']);
		expect(bob!.keeper.open({...old.send(alice!, 'the old epoch'), seq: ++again.seq})).toMatchObject({type: 'rejected'});
	});

	it('an admin cannot be removed by a non-admin, nor the creator: refused before anything is sent', () => {
		const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(name => roomUser(name));
		roomOf('team', [alice!, bob!, carol!]);
		expect(() => bob!.keeper.prepare('team', {action: 'remove', member: 'carol'})).toThrow(expect.objectContaining({code: 'not_admin'}));
		expect(() => alice!.keeper.prepare('team', {action: 'leave'})).toThrow(expect.objectContaining({code: 'last_admin'}));
		expect(() => alice!.keeper.prepare('nope', {action: 'topic', topic: 'x'})).toThrow(expect.objectContaining({code: 'not_member'}));
		expect(() => alice!.keeper.prepare('team', {action: 'create', topic: 'x'})).toThrow(expect.objectContaining({code: 'bad_change'}));
	});
});
