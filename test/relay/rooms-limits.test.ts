import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {signInvite} from '../../source/crypto/room-log.js';
import {signPrekey} from '../../source/crypto/prekeys.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import type {RelayLimits} from '../../source/relay/relay-options.js';
import {relayForTest} from '../helpers/chat.js';
import {change, changed, create, fakeKey, join, next, roomUser, send, TestRoom, type RoomUser} from '../helpers/room-kit.js';

const refused = (code: string, ref: string) => expect.objectContaining({type: 'error', code, fatal: false, ref});

async function users(limits: Partial<RelayLimits>, ...names: string[]) {
	const relay = await relayForTest({limits});
	const all = await Promise.all(names.map(name => roomUser(relay.port, name)));
	return {relay, users: all as RoomUser[]};
}

/** Sends an invitation and returns the error it got, or undefined if none came within a moment. */
async function invite(admin: RoomUser, room: string, to: string): Promise<unknown> {
	const from = admin.peer.messages().length;
	const nonce = randomBytes(16);
	const signature = signInvite({room, inviter: admin.name, invitee: to, nonce}, admin.keys.identity.privateKey);
	admin.peer.send({type: 'room_invite', room, to, nonce: toBase64Url(nonce), signature: toBase64Url(signature)}, {type: 'ping', nonce: 77});
	const answer = await next(admin, message => message.type === 'error' || (message.type === 'pong' && message.nonce === 77), from);
	return answer.type === 'error' ? answer : undefined;
}

describe('rooms on the relay: limits (design rooms.md section 5)', () => {
	it('room_limit: rooms per user, at a create and at an accept', async () => {
		const {users: [alice, bob]} = await users({maxRoomsPerUser: 2}, 'alice', 'bob');
		await create(alice!, 'one');
		const two = await create(alice!, 'two');
		const three = new TestRoom('three');
		expect(await change(alice!, three, three.entry(alice!, {action: 'create'}))).toEqual(refused('room_limit', 'three'));
		await create(bob!, 'b1');
		await create(bob!, 'b2');
		const nonce = randomBytes(16);
		const signature = signInvite({room: 'two', inviter: 'alice', invitee: 'bob', nonce}, alice!.keys.identity.privateKey);
		alice!.peer.send({type: 'room_invite', room: 'two', to: 'bob', nonce: toBase64Url(nonce), signature: toBase64Url(signature)});
		await next(bob!, message => message.type === 'room_invitation');
		const {signAccept} = await import('../../source/crypto/room-log.js');
		const accept = signAccept({room: 'two', member: 'bob', nonce}, bob!.keys.identity.privateKey);
		bob!.peer.send({type: 'room_accept', room: 'two', nonce: toBase64Url(nonce), accept: toBase64Url(accept)});
		expect(await next(bob!, message => message.type === 'error')).toEqual(refused('room_limit', 'two'));
		void two;
	});

	it('invite_limit: invitations waiting per room and per invitee; inviting again replaces', async () => {
		const {users: [alice, bob, x, y, z]} = await users({maxInvitesPerRoom: 2, maxInvitesPerUser: 1}, 'alice', 'bob', 'x', 'y', 'z');
		await create(alice!, 'dev');
		await create(bob!, 'ops');
		expect(await invite(alice!, 'dev', 'x')).toBeUndefined();
		expect(await invite(alice!, 'dev', 'y')).toBeUndefined();
		expect(await invite(alice!, 'dev', 'z')).toEqual(refused('invite_limit', 'dev'));
		expect(await invite(alice!, 'dev', 'x')).toBeUndefined();
		expect(await invite(bob!, 'ops', 'x')).toEqual(refused('invite_limit', 'ops'));
		expect(await invite(bob!, 'ops', 'z')).toBeUndefined();
		expect(await invite(alice!, 'dev', 'nobody')).toEqual(refused('unknown_recipient', 'dev'));
		expect(await invite(alice!, 'dev', 'bob')).toEqual(refused('invite_limit', 'dev'));
		void x;
		void y;
		void z;
	});

	it('room_backlog_full: items waiting in a room, and a sender\'s quarter of them; reading makes room again', async () => {
		const {users: [alice, bob, carol]} = await users({maxRoomItems: 8}, 'alice', 'bob', 'carol');
		const room = await create(alice!, 'dev');
		await join(alice!, room, bob!);
		await join(alice!, room, carol!);
		for (const id of ['a1', 'a2']) expect(await send(alice!, room, id)).toMatchObject({type: 'room_accepted'});
		expect(await send(alice!, room, 'a3')).toEqual(refused('room_backlog_full', 'a3'));
		for (const id of ['b1', 'b2']) expect(await send(bob!, room, id)).toMatchObject({type: 'room_accepted'});
		expect(await send(carol!, room, 'c1')).toMatchObject({type: 'room_accepted'});
		// 3 changes and 5 messages: the room is full for everyone
		expect(await send(carol!, room, 'c2')).toEqual(refused('room_backlog_full', 'c2'));
		for (const member of [alice!, bob!, carol!]) member.peer.send({type: 'room_ack', room: 'dev', seq: 1_000});
		await expect.poll(async () => (await send(carol!, room, `c-${Math.random().toString(36).slice(2)}`)).type).toBe('room_accepted');
	});

	it('quota_exceeded: a sender\'s stored bytes count its room items once', async () => {
		// alice's quota holds her create and add (their log entries count too); bob's, one message of 3,000
		const {users: [alice, bob]} = await users({maxStoredBytesPerSender: 6000}, 'alice', 'bob');
		const room = await create(alice!, 'dev');
		await join(alice!, room, bob!);
		const body = `gAAAA${'x'.repeat(3000)}`;
		expect(await send(bob!, room, 'big1', {body})).toMatchObject({type: 'room_accepted'});
		expect(await send(bob!, room, 'big2', {body})).toEqual(refused('quota_exceeded', 'big2'));
	});

	it('a room\'s log is bounded; staged keys are bounded and checked like a send\'s', async () => {
		const {users: [alice, bob]} = await users({maxRoomLog: 3, maxRoomMembers: 3, maxBodyBytes: 100}, 'alice', 'bob');
		const room = await create(alice!, 'dev');
		await join(alice!, room, bob!);
		await changed(alice!, room, {action: 'topic', topic: 'third'});
		expect(await change(alice!, room, room.entry(alice!, {action: 'topic', topic: 'fourth'}))).toEqual(refused('room_full', 'dev'));
		// a full log still lets a member go, and the rekey its leave needs: nobody is stuck in it
		expect(await change(bob!, room, room.entry(bob!, {action: 'leave'}))).toMatchObject({type: 'room_changed'});
		expect(await change(alice!, room, room.entry(alice!, {action: 'rekey'}))).toMatchObject({type: 'room_changed'});
		expect(await change(alice!, room, room.entry(alice!, {action: 'rekey'}))).toEqual(refused('room_full', 'dev'));
		alice!.peer.send({type: 'room_stage', room: 'dev', keys: ['a', 'b', 'c', 'd'].map(name => fakeKey(name))});
		expect(await next(alice!, message => message.type === 'error' && message.code === 'room_keys')).toEqual(refused('room_keys', 'dev'));
		alice!.peer.send({type: 'room_stage', room: 'dev', keys: [{...fakeKey('bob'), body: `gAAAA${'x'.repeat(100)}`}]});
		expect(await next(alice!, message => message.type === 'error' && message.code === 'message_too_large')).toEqual(refused('message_too_large', 'dev'));
		expect(await send(alice!, room, 'long', {body: `gAAAA${'x'.repeat(100)}`})).toEqual(refused('message_too_large', 'long'));
	});

	it('staged keys are bounded in bytes too: a connection holds about 1 KiB per member at most', async () => {
		const {users: [alice]} = await users({maxRoomMembers: 2}, 'alice');
		await create(alice!, 'dev');
		alice!.peer.send({type: 'room_stage', room: 'dev', keys: [fakeKey('bob')]}, {type: 'room_stage', room: 'dev', keys: [{...fakeKey('carol'), body: `gAAAA${'x'.repeat(2000)}`}]});
		expect(await next(alice!, message => message.type === 'error')).toEqual(refused('room_keys', 'dev'));
	});

	it('room_admin_limit: at most 10 admins', async () => {
		const names = Array.from({length: 11}, (_, index) => `m${index}`);
		const {users: members} = await users({}, ...names);
		const [creator, ...rest] = members as [RoomUser, ...RoomUser[]];
		const room = await create(creator, 'dev');
		for (const member of rest) await join(creator, room, member);
		for (const member of rest.slice(0, 9)) await changed(creator, room, {action: 'admin', member: member.name});
		expect(await change(creator, room, room.entry(creator, {action: 'admin', member: rest[9]!.name}))).toEqual(refused('room_admin_limit', 'dev'));
	});

	it('bundles of people one shares a room with cost no lookup token and draw on their own bucket', async () => {
		const {users: [alice, bob, carol]} = await users(
			{communityMaxUsers: 0, lookupBurst: 1, lookupsPerHour: 1, bundleBurst: 1, bundleRatePerMinute: 1, roomBundleBurst: 3, roomBundlesPerMinute: 1},
			'alice',
			'bob',
			'carol',
		);
		for (const owner of [bob!, carol!]) {
			const key = generateRawKeyPair('x25519').publicRaw;
			owner.peer.send({type: 'prekeys', signed: {id: 1, key: toBase64Url(key), signature: toBase64Url(signPrekey(owner.keys.identity, owner.name, 1, key))}});
			await next(owner, message => message.type === 'prekey_count');
		}
		const room = await create(alice!, 'dev');
		// the invitation of a name alice has not met costs her one lookup token: her last
		await join(alice!, room, bob!);
		const bundle = async (id: string, username: string) => {
			const from = alice!.peer.messages().length;
			alice!.peer.send({type: 'get_bundle', id, username});
			return next(alice!, message => (message.type === 'bundle' && message.id === id) || (message.type === 'error' && message.ref === id), from);
		};
		for (const id of ['r1', 'r2', 'r3']) expect(await bundle(id, 'bob')).toMatchObject({type: 'bundle', username: 'bob'});
		// the room bucket is spent: the ordinary one (one token) takes over
		expect(await bundle('r4', 'bob')).toMatchObject({type: 'bundle'});
		expect(await bundle('r5', 'bob')).toEqual(refused('bundle_throttled', 'r5'));
		expect(await bundle('c1', 'carol')).toEqual(refused('bundle_throttled', 'c1'));
	});
});
