import {randomBytes, sign} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {changeBytes, signAccept, signInvite, type RoomEntry} from '../../source/crypto/room-log.js';
import {relayForTest} from '../helpers/chat.js';
import {again, change, changed, create, entryOf, fakeKey, isChange, items, join, next, readDatabase, roomUser, send, TestRoom, type RoomUser} from '../helpers/room-kit.js';
import {tempDir} from '../helpers/temp-dir.js';

/** Alice's room #dev with bob and carol in it, everyone on a fresh relay. */
async function threeMembers(options: {dataDir?: string} = {}) {
	const relay = await relayForTest(options);
	const [alice, bob, carol, dave] = (await Promise.all(['alice', 'bob', 'carol', 'dave'].map(name => roomUser(relay.port, name)))) as [RoomUser, RoomUser, RoomUser, RoomUser];
	const room = await create(alice, 'dev');
	await join(alice, room, bob);
	await join(alice, room, carol);
	return {relay, alice, bob, carol, dave, room};
}

const refused = (code: string, ref: string) => expect.objectContaining({type: 'error', code, fatal: false, ref});

describe('rooms on the relay: changes (design rooms.md sections 2, 4 and 5)', () => {
	it('room_conflict for a change that does not follow the head; the refused author can read and try again', async () => {
		const {alice, bob, room} = await threeMembers();
		await changed(alice, room, {action: 'admin', member: 'bob'});
		const stale = room.entry(bob, {action: 'topic', topic: 'bob was here'});
		await changed(alice, room, {action: 'topic', topic: 'alice was first'});
		expect(await change(bob, room, stale)).toEqual(refused('room_conflict', 'dev'));
		// an index ahead of the log is no better
		expect(await change(bob, room, room.entry(bob, {action: 'topic', topic: 'x'}, {index: room.state!.index + 2}))).toEqual(refused('room_conflict', 'dev'));
		await changed(bob, room, {action: 'topic', topic: 'bob was here'});
	});

	it('refuses a change by a non-admin, by someone not in the room, with a forged signature, or from the wrong connection', async () => {
		const {alice, bob, dave, room} = await threeMembers();
		expect(await change(bob, room, room.entry(bob, {action: 'topic', topic: 'mine now'}))).toEqual(refused('not_room_admin', 'dev'));
		expect(await change(bob, room, room.entry(bob, {action: 'remove', member: 'carol'}))).toEqual(refused('not_room_admin', 'dev'));
		expect(await change(dave, room, room.entry(dave, {action: 'topic', topic: 'ghost'}))).toEqual(refused('not_room_member', 'dev'));
		// alice's change signed by bob's key
		const honest = room.entry(alice, {action: 'topic', topic: 'forged'});
		const forged: RoomEntry = {...honest, signature: sign(null, changeBytes(honest), bob.keys.identity.privateKey)};
		expect(await change(alice, room, forged)).toEqual(refused('bad_room_change', 'dev'));
		// alice's genuine change, sent by bob: a change comes from its author
		expect(await change(bob, room, honest)).toEqual(refused('bad_room_change', 'dev'));
		// the creator cannot be removed, an author does not remove itself
		await changed(alice, room, {action: 'admin', member: 'bob'});
		expect(await change(bob, room, room.entry(bob, {action: 'remove', member: 'alice'}))).toEqual(refused('bad_room_change', 'dev'));
	});

	it('the staged keys must be exactly one per member who needs one: else room_keys, and nothing changes', async () => {
		const {alice, room} = await threeMembers();
		const rekey = room.entry(alice, {action: 'rekey'});
		expect(await change(alice, room, rekey, [])).toEqual(refused('room_keys', 'dev'));
		expect(await change(alice, room, rekey, [fakeKey('bob')])).toEqual(refused('room_keys', 'dev'));
		expect(await change(alice, room, rekey, [fakeKey('bob'), fakeKey('bob', 'again')])).toEqual(refused('room_keys', 'dev'));
		expect(await change(alice, room, rekey, [fakeKey('bob'), fakeKey('carol'), fakeKey('dave')])).toEqual(refused('room_keys', 'dev'));
		// a derived epoch takes none
		expect(await change(alice, room, room.entry(alice, {action: 'topic', topic: 't'}), [fakeKey('bob')])).toEqual(refused('room_keys', 'dev'));
		// keys staged for another room are dropped by a stage for this one
		alice.peer.send({type: 'room_stage', room: 'elsewhere', keys: [fakeKey('carol')]});
		expect(await change(alice, room, rekey, [fakeKey('bob')])).toEqual(refused('room_keys', 'dev'));
		expect(await change(alice, room, rekey, [fakeKey('carol'), fakeKey('bob')])).toMatchObject({type: 'room_changed', index: 3});
	});

	it('room_stale for a message sealed in an earlier epoch; sealed again in the new one it goes', async () => {
		const {alice, bob, room} = await threeMembers();
		const old = room.epoch;
		await changed(alice, room, {action: 'topic', topic: 'new epoch'});
		expect(await send(bob, room, 'late', {epoch: old})).toEqual(refused('room_stale', 'late'));
		expect(await send(bob, room, 'late')).toMatchObject({type: 'room_accepted', id: 'late'});
	});

	it('after a leave the room needs a rekey: messages and derived changes are refused until an admin makes one', async () => {
		const {alice, bob, carol, room} = await threeMembers();
		await changed(carol, room, {action: 'leave'});
		expect(await send(bob, room, 'm1')).toEqual(refused('room_needs_rekey', 'm1'));
		expect(await change(alice, room, room.entry(alice, {action: 'topic', topic: 'x'}))).toEqual(refused('room_needs_rekey', 'dev'));
		expect(await change(bob, room, room.entry(bob, {action: 'rekey'}))).toEqual(refused('not_room_admin', 'dev'));
		expect((await changed(alice, room, {action: 'rekey'})).index).toBe(4);
		expect(await send(bob, room, 'm1')).toMatchObject({type: 'room_accepted'});
		// carol, gone, is not sent it and may not send
		expect(await send(carol, room, 'm2')).toEqual(refused('not_room_member', 'm2'));
	});

	it('a removed member gets its remove item, then nothing more, also at its next login; its ack of it ends its place', async () => {
		const dataDir = tempDir();
		const members = await threeMembers({dataDir});
		const {relay, alice, carol, room} = members;
		let {bob} = members;
		await next(bob, message => isChange('add')(message) && entryOf(message).record?.username === 'bob');
		const removal = await changed(alice, room, {action: 'remove', member: 'bob'});
		const removedItem = await next(bob, isChange('remove'));
		expect(removedItem).toMatchObject({seq: removal.seq, entry: {member: 'bob'}});
		expect(removedItem.key).toBeUndefined();
		// carol gets the new epoch's key, bob does not
		expect((await next(carol, isChange('remove'))).key).toMatchObject({to: 'carol', from: 'alice'});
		expect(await send(alice, room, 'after')).toMatchObject({type: 'room_accepted'});
		await next(carol, message => message.type === 'room_message' && message.id === 'after');
		expect(items(bob, 'dev').filter(item => item.type === 'room_message')).toEqual([]);
		expect(await send(bob, room, 'mine')).toEqual(refused('not_room_member', 'mine'));
		const asked = bob.peer.messages().length;
		bob.peer.send({type: 'room_log', room: 'dev', from: 0});
		expect(await next(bob, message => message.type === 'error', asked)).toEqual(refused('not_room_member', 'dev'));
		// at its next login: its backlog ends with the removal
		bob = await again(relay.port, bob);
		await next(bob, isChange('remove'));
		await new Promise(resolve => setTimeout(resolve, 100));
		expect(items(bob, 'dev').at(-1)).toMatchObject({seq: removal.seq, entry: {action: 'remove'}});
		expect(bob.peer.messages().find(message => message.type === 'welcome')?.rooms).toBeUndefined();
		bob.peer.send({type: 'room_ack', room: 'dev', seq: removal.seq as number});
		const database = readDatabase(dataDir);
		await expect.poll(() => database.prepare("select count(*) from room_members where room = 'dev' and member = 'bob'").pluck().get()).toBe(0);
		database.close();
	});

	it('refuses a create of a room that exists and changes of rooms that do not; a record not registered; an add without an accepted invitation', async () => {
		const {alice, bob, dave, room} = await threeMembers();
		const twin = new TestRoom('dev');
		expect(await change(dave, twin, twin.entry(dave, {action: 'create'}))).toEqual(refused('room_exists', 'dev'));
		const ghostRoom = new TestRoom('nowhere');
		ghostRoom.state = room.state && {...room.state, room: 'nowhere'};
		expect(await change(alice, ghostRoom, ghostRoom.entry(alice, {action: 'topic', topic: 'x'}))).toEqual(refused('no_such_room', 'nowhere'));
		expect(await send(alice, ghostRoom, 'm')).toEqual(refused('no_such_room', 'm'));
		// dave creates a room with a record that is not the one he registered
		const impostor = {...dave, record: {...bob.record, username: 'dave'}};
		const fake = new TestRoom('fake');
		expect(await change(impostor, fake, fake.entry(impostor, {action: 'create'}))).toEqual(refused('bad_room_change', 'fake'));
		// an add with a valid acceptance that the relay never saw
		const nonce = randomBytes(16);
		const accept = signAccept({room: 'dev', member: 'dave', nonce}, dave.keys.identity.privateKey);
		expect(await change(alice, room, room.entry(alice, {action: 'add', record: dave.record, nonce, accept}))).toEqual(refused('bad_room_change', 'dev'));
		// invited, but not yet accepted
		const signature = signInvite({room: 'dev', inviter: 'alice', invitee: 'dave', nonce}, alice.keys.identity.privateKey);
		alice.peer.send({type: 'room_invite', room: 'dev', to: 'dave', nonce: toBase64Url(nonce), signature: toBase64Url(signature)});
		await next(dave, message => message.type === 'room_invitation');
		expect(await change(alice, room, room.entry(alice, {action: 'add', record: dave.record, nonce, accept}))).toEqual(refused('bad_room_change', 'dev'));
	});

	it('invitations: the invitee hears of one now or at login, with the inviter\'s record; a decline tells the inviter; a bad signature is refused', async () => {
		const {relay, alice, bob, room} = await threeMembers();
		let erin = await roomUser(relay.port, 'erin');
		erin.peer.close();
		const nonce = randomBytes(16);
		const invite = (signature: Buffer) => ({type: 'room_invite', room: 'dev', to: 'erin', nonce: toBase64Url(nonce), signature: toBase64Url(signature)});
		alice.peer.send(invite(signInvite({room: 'dev', inviter: 'alice', invitee: 'bob', nonce}, alice.keys.identity.privateKey)));
		expect(await next(alice, message => message.type === 'error')).toEqual(refused('bad_room_change', 'dev'));
		bob.peer.send(invite(signInvite({room: 'dev', inviter: 'bob', invitee: 'erin', nonce}, bob.keys.identity.privateKey)));
		expect(await next(bob, message => message.type === 'error')).toEqual(refused('not_room_admin', 'dev'));
		alice.peer.send(invite(signInvite({room: 'dev', inviter: 'alice', invitee: 'erin', nonce}, alice.keys.identity.privateKey)));
		await changed(alice, room, {action: 'topic', topic: 'the topic'});
		erin = await again(relay.port, erin);
		const invitation = await next(erin, message => message.type === 'room_invitation');
		expect(invitation).toMatchObject({room: 'dev', from: {username: 'alice', identity: toBase64Url(alice.record.identity)}, nonce: toBase64Url(nonce), topic: 'the topic'});
		// a wrong nonce is no invitation
		erin.peer.send({type: 'room_decline', room: 'dev', nonce: toBase64Url(randomBytes(16))});
		expect(await next(erin, message => message.type === 'error')).toEqual(refused('no_such_room', 'dev'));
		erin.peer.send({type: 'room_decline', room: 'dev', nonce: toBase64Url(nonce)});
		expect(await next(alice, message => message.type === 'room_declined')).toEqual({type: 'room_declined', room: 'dev', username: 'erin'});
		// declined: there is nothing left to accept
		const accept = signAccept({room: 'dev', member: 'erin', nonce}, erin.keys.identity.privateKey);
		const from = erin.peer.messages().length;
		erin.peer.send({type: 'room_accept', room: 'dev', nonce: toBase64Url(nonce), accept: toBase64Url(accept)});
		expect(await next(erin, message => message.type === 'error', from)).toEqual(refused('no_such_room', 'dev'));
	});

	it('an accepted invitation waits for an admin: every admin online hears of it, and an admin logging in later too', async () => {
		const {relay, alice, room} = await threeMembers();
		const frank = await roomUser(relay.port, 'frank');
		const nonce = randomBytes(16);
		const signature = signInvite({room: 'dev', inviter: 'alice', invitee: 'frank', nonce}, alice.keys.identity.privateKey);
		alice.peer.send({type: 'room_invite', room: 'dev', to: 'frank', nonce: toBase64Url(nonce), signature: toBase64Url(signature)});
		await next(frank, message => message.type === 'room_invitation');
		alice.peer.close();
		const accept = signAccept({room: 'dev', member: 'frank', nonce}, frank.keys.identity.privateKey);
		frank.peer.send({type: 'room_accept', room: 'dev', nonce: toBase64Url(nonce), accept: toBase64Url(accept)});
		await new Promise(resolve => setTimeout(resolve, 100));
		const back = await again(relay.port, alice);
		const request = await next(back, message => message.type === 'room_join_request');
		expect(request).toEqual({type: 'room_join_request', room: 'dev', record: {username: 'frank', identity: toBase64Url(frank.record.identity), x25519: toBase64Url(frank.record.x25519), binding: toBase64Url(frank.record.binding)}, nonce: toBase64Url(nonce), accept: toBase64Url(accept)});
		await changed(back, room, {action: 'add', record: frank.record, nonce, accept});
		expect(await next(frank, message => message.type === 'room_change')).toMatchObject({entry: {action: 'add'}, key: {to: 'frank'}});
	});

	it('room_log gives the entries from an index on, to members only; the last member to leave deletes the room', async () => {
		const dataDir = tempDir();
		const {alice, bob, carol, dave, room} = await threeMembers({dataDir});
		bob.peer.send({type: 'room_log', room: 'dev', from: 1});
		const log = await next(bob, message => message.type === 'room_log');
		expect((log.entries as Array<{index: number; action: string}>).map(entry => [entry.index, entry.action])).toEqual([
			[1, 'add'],
			[2, 'add'],
		]);
		dave.peer.send({type: 'room_log', room: 'dev', from: 0});
		expect(await next(dave, message => message.type === 'error')).toEqual(refused('not_room_member', 'dev'));
		await changed(bob, room, {action: 'leave'});
		await changed(carol, room, {action: 'leave'});
		await changed(alice, room, {action: 'leave'});
		const database = readDatabase(dataDir);
		for (const table of ['rooms', 'room_log', 'room_members', 'room_items', 'room_keys', 'room_invites']) {
			expect(database.prepare(`select count(*) from ${table}`).pluck().get(), table).toBe(0);
		}
		database.close();
		const fresh = new TestRoom('dev');
		await changed(dave, fresh, {action: 'create'});
	});
});

