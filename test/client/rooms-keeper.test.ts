import {describe, expect, it} from 'vitest';
import {roomOf, roomUser, rowCount} from '../helpers/room-users.js';

describe('rooms: smoke', () => {
	it('creates, adds and exchanges', () => {
		const alice = roomUser('alice');
		const bob = roomUser('bob');
		const stream = roomOf('team', [alice, bob]);
		const one = stream.send(alice, 'hello bob');
		expect(bob.keeper.open(one)).toMatchObject({type: 'text', text: 'hello bob'});
		const two = stream.send(bob, 'hi alice');
		expect(alice.keeper.open(two)).toMatchObject({type: 'text', text: 'hi alice'});
		expect(rowCount(alice, 'room_chains')).toBe(2);
	});
});
