import {describe, expect, it} from 'vitest';
import type {ChatClient} from '../../source/client/chat-client.js';
import type {RelayMessage} from '../../source/net/messages.js';
import {logIn, newClient, onlineClient, record, relayForTest} from '../helpers/chat.js';
import {inject, isMember, join, roomOf, roomWith, tap, textsIn, until} from '../helpers/room-clients.js';
import {tempDir} from '../helpers/temp-dir.js';

/** A room made again under the name of one a member still holds (PROTOCOL.md 15.7: the last member to leave deletes the room). */

const isAddOf = (frame: RelayMessage, name: string): frame is Extract<RelayMessage, {type: 'room_change'}> =>
	frame.type === 'room_change' && frame.entry.action === 'add' && frame.entry.record?.username === name;

/** `admin`, the last member of `room`, leaves it: the relay deletes it. */
async function lastOneLeaves(admin: ChatClient, room: string): Promise<void> {
	admin.rooms.leave(room);
	await until(() => roomOf(admin, room)?.status === 'left', `${admin.username} left #${room}, which is gone`);
}

describe('a room made again under the name of one a member never saw the end of', () => {
	it('removed while away, the room deleted and made again: the invitation shows, accepting joins the new room, whose messages are read', async () => {
		const relay = await relayForTest();
		const bobDir = tempDir();
		const alice = await onlineClient(relay, 'alice');
		let bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		const carol = await onlineClient(relay, 'carol');
		await roomWith('dev', alice, [bob]);
		const oldShown = record(bob, 'room-message');
		alice.rooms.send('dev', 'in the old dev');
		await until(() => oldShown.length === 1, 'bob read the old room');
		await bob.close();

		alice.rooms.kick('dev', 'bob');
		await until(() => roomOf(alice, 'dev')?.members.length === 1, 'alice removed bob');
		await lastOneLeaves(alice, 'dev');
		carol.rooms.create('dev', 'made again');
		await until(() => isMember(carol, 'dev'), 'carol made #dev again');
		carol.rooms.invite('dev', 'bob');

		bob = newClient(relay, {dataDir: bobDir});
		const invites = record(bob, 'room-invite');
		const errors = record(bob, 'room-error');
		const shown = record(bob, 'room-message');
		await logIn(bob, 'bob');
		// Bob's device never heard of the removal: it still holds the old #dev as a member.
		expect(roomOf(bob, 'dev')).toMatchObject({status: 'member', creator: 'alice'});
		await until(() => invites.some(([invite]) => invite.room === 'dev' && invite.from === 'carol'), 'bob was shown the invitation');
		expect(bob.rooms.invites()).toEqual([expect.objectContaining({room: 'dev', from: 'carol'})]);

		bob.rooms.accept('dev');
		await until(() => isMember(bob, 'dev') && roomOf(bob, 'dev')?.creator === 'carol', 'bob is in the new #dev');
		expect(roomOf(bob, 'dev')).toMatchObject({topic: 'made again', members: [{username: 'bob'}, {username: 'carol'}]});
		expect(bob.rooms.invites()).toEqual([]);
		expect(errors.map(([error]) => error.code)).toContain('room_made_again');

		carol.rooms.send('dev', 'hello in the new dev');
		await until(() => shown.length === 1, 'bob read the new room');
		expect(textsIn(shown, 'dev')).toEqual(['hello in the new dev']);
		const atCarol = record(carol, 'room-message');
		bob.rooms.send('dev', 'hi carol');
		await until(() => atCarol.length === 1, 'carol read bob');
		expect(textsIn(atCarol, 'dev')).toEqual(['hi carol']);
		// The old room's messages stay in bob's history of #dev, before the new room's.
		expect(bob.history('#dev', {limit: 10}).map(entry => entry.text)).toEqual(['in the old dev', 'hello in the new dev', 'hi carol']);
	});

	it('the same room: an add after a removal the relay withheld is refused, and the room stays as it was', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		await roomWith('dev', alice, [bob]);
		const before = roomOf(bob, 'dev');
		const frames = tap(bob, frame => frame.type === 'room_change' && frame.entry.action === 'remove');
		alice.rooms.kick('dev', 'bob');
		await until(() => frames.some(frame => frame.type === 'room_change' && frame.entry.action === 'remove'), 'the relay sent bob his removal (withheld here)');
		const invites = record(bob, 'room-invite');
		const errors = record(bob, 'room-error');
		alice.rooms.invite('dev', 'bob');
		await until(() => invites.length === 1, 'bob was shown the invitation');
		bob.rooms.accept('dev');
		await until(() => frames.some(frame => isAddOf(frame, 'bob') && frame.entry.index === 3), 'alice added bob again');
		await until(() => errors.some(([error]) => error.code === 'room_stalled'), 'bob was warned');
		expect(errors.map(([error]) => error.message).join('\n')).toMatch(/you were added to #dev again, which you are in \(#dev has a log here already\)/);
		// Nothing of the room changed on bob's device: its log was not taken over from the relay.
		expect(roomOf(bob, 'dev')).toMatchObject({index: before!.index, creator: 'alice', members: before!.members, status: 'stalled'});
		expect(errors.map(([error]) => error.code)).not.toContain('room_made_again');
	});

	it('a hostile relay: an old invitation to the room one is in, accepted, changes nothing', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const frames = tap(bob);
		await roomWith('dev', alice, [bob]);
		const invitation = frames.filter(frame => frame.type === 'room_invitation');
		expect(invitation).toHaveLength(1);
		const before = roomOf(bob, 'dev');
		const invites = record(bob, 'room-invite');
		const errors = record(bob, 'room-error');
		inject(bob, invitation);
		expect(invites.map(([invite]) => invite.from)).toEqual(['alice']);
		bob.rooms.accept('dev');
		await until(() => errors.length > 0, 'the relay refused the acceptance');
		const {epochAge: _, ...stillThere} = roomOf(bob, 'dev')!;
		expect(stillThere).toEqual({...before, epochAge: undefined});
		expect(roomOf(alice, 'dev')?.members.map(member => member.username)).toEqual(['alice', 'bob']);
		const shown = record(bob, 'room-message');
		alice.rooms.send('dev', 'still here');
		await until(() => shown.length === 1, 'bob reads the room');
		expect(textsIn(shown, 'dev')).toEqual(['still here']);
	});

	it('a hostile relay: a deleted older #dev (its add and log) handed to a member of the new one is refused; the new room goes on', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const carol = await onlineClient(relay, 'carol');
		let holdLogs = false;
		const frames = tap(bob, frame => holdLogs && frame.type === 'room_log');
		await roomWith('dev', alice, [bob]);
		const oldAdd = frames.find(frame => isAddOf(frame, 'bob'))!;
		const oldLog = frames.filter(frame => frame.type === 'room_log');
		expect(oldLog.length).toBeGreaterThan(0);
		bob.rooms.leave('dev');
		await until(() => roomOf(bob, 'dev')?.status === 'left', 'bob left');
		await lastOneLeaves(alice, 'dev');
		carol.rooms.create('dev', 'made again');
		await until(() => isMember(carol, 'dev'), 'carol made #dev again');
		const newAdds = frames.length;
		await join('dev', carol, bob);
		const newAdd = frames.slice(newAdds).find(frame => isAddOf(frame, 'bob'))!;
		const after = roomOf(bob, 'dev');
		expect(after).toMatchObject({creator: 'carol', status: 'member'});

		const errors = record(bob, 'room-error');
		holdLogs = true;
		const asked = frames.length;
		// The old add, at a seq bob has processed already (so it moves nothing), then the old log when bob asks for it.
		inject(bob, [{...oldAdd, seq: newAdd.seq} as RelayMessage]);
		await until(() => frames.slice(asked).some(frame => frame.type === 'room_log'), 'bob asked for the log, the relay answered');
		holdLogs = false;
		inject(bob, oldLog);
		await until(() => errors.some(([error]) => error.code === 'room_stalled'), 'bob was warned');
		expect(errors.map(([error]) => error.message).join('\n')).toMatch(/starts before the one you are in/);
		expect(roomOf(bob, 'dev')).toMatchObject({creator: 'carol', topic: 'made again', index: after!.index, members: after!.members});
		const shown = record(bob, 'room-message');
		carol.rooms.send('dev', 'the new dev goes on');
		await until(() => shown.length === 1, 'bob reads the new room');
		expect(textsIn(shown, 'dev')).toEqual(['the new dev goes on']);
	});
});
