import {describe, expect, it} from 'vitest';
import {onlineClient, record, relayForTest} from '../helpers/chat.js';
import {isMember, join, roomOf, roomWith, textsIn, until} from '../helpers/room-clients.js';

describe('rooms between headless clients, with a real relay (design rooms.md)', () => {
	it('create, invite, accept: a member; messages both ways, in order, with ✓ counts', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const invites = record(bob, 'room-invite');
		alice.rooms.create('Garden', 'plants');
		await until(() => isMember(alice, 'garden'), 'alice made #garden');
		expect(roomOf(alice, 'garden')).toMatchObject({topic: 'plants', creator: 'alice', admins: ['alice'], members: [{username: 'alice', admin: true}]});
		await join('garden', alice, bob);
		expect(invites.map(([invite]) => [invite.room, invite.from])).toEqual([['garden', 'alice']]);
		await until(() => roomOf(alice, 'garden')?.members.length === 2, 'alice sees bob');

		const atBob = record(bob, 'room-message');
		const atAlice = record(alice, 'room-message');
		const delivered = record(alice, 'room-delivered');
		const sent = ['one', 'two', 'three'].map(text => alice.rooms.send('garden', text));
		await until(() => atBob.length === 3, 'bob read them');
		expect(textsIn(atBob, 'garden')).toEqual(['one', 'two', 'three']);
		expect(atBob.map(([message]) => message.id)).toEqual(sent);
		bob.rooms.send('garden', 'hello alice');
		await until(() => atAlice.length === 1, 'alice read it');
		expect(atAlice[0]![0]).toMatchObject({room: 'garden', from: 'bob', text: 'hello alice'});
		await until(() => delivered.some(([delivery]) => delivery.id === sent[2] && delivery.delivered === 1), 'bob read the third');
		expect(delivered.at(-1)![0]).toMatchObject({room: 'garden', delivered: 1, of: 1});
		const history = alice.history('#garden', {limit: 10});
		expect(history.map(entry => [entry.author, entry.text])).toEqual([
			['alice', 'one'],
			['alice', 'two'],
			['alice', 'three'],
			['bob', 'hello alice'],
		]);
		expect(history[2]).toMatchObject({direction: 'out', roomDelivery: {delivered: 1, of: 1}, delivery: {state: 'delivered'}});
	});
});
