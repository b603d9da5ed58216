import {Buffer} from 'node:buffer';
import {describe, expect, it} from 'vitest';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import {applyChange, maxRoomMembers} from '../../source/crypto/room-log.js';
import {add, addEntry, change, create, expectRefused, user, type User} from './room-kit.js';

describe('applyChange: members limit', () => {
	it(`takes ${maxRoomMembers} members and refuses one more with room_full, until one leaves`, () => {
		// One key pair for every name keeps the test fast; each name still has its own valid binding.
		const keys = generateIdentity();
		const creator = user('creator');
		let state = create('crowd', creator);
		let last: User | undefined;
		for (let index = 1; index < maxRoomMembers; index++) {
			const name = `u${index}`;
			last = {name, keys, record: {username: name, ...publicIdentity(keys, name)}};
			state = add(state, creator, last);
		}
		expect(state.members.size).toBe(maxRoomMembers);
		const late = user('late');
		expectRefused(state, addEntry(state, creator, late), 'room_full');
		const left = applyChange(state, change(state, last!, {action: 'leave'}));
		const rekeyed = applyChange(left, change(left, creator, {action: 'rekey', confirm: Buffer.alloc(32, 1)}));
		expect(add(rekeyed, creator, late).members.size).toBe(maxRoomMembers);
	}, 20_000);
});
