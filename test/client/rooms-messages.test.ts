import {Buffer} from 'node:buffer';
import {describe, expect, it} from 'vitest';
import {sealRoomMessage} from '../../source/crypto/room-message.js';
import {roomOf, roomUser, rowCount, type RoomUser} from '../helpers/room-users.js';

const trio = () => {
	const users = ['alice', 'bob', 'carol'].map(name => roomUser(name)) as [RoomUser, RoomUser, RoomUser];
	return {users, stream: roomOf('team', users)};
};

describe('rooms: opening messages (design section 3)', () => {
	it('refuses replays, by seq and by chain index, and moves the position whatever the verdict', () => {
		const {users: [alice, bob], stream} = trio();
		const item = stream.send(alice, 'once');
		expect(bob.keeper.open(item)).toMatchObject({type: 'text', text: 'once', from: 'alice', id: item.id, seq: item.seq});
		expect(bob.keeper.open(item)).toMatchObject({type: 'rejected', code: 'replay'});
		const again = {...item, seq: ++stream.seq};
		expect(bob.keeper.open(again)).toMatchObject({type: 'rejected', code: 'replay'});
		expect(bob.keeper.position('team')).toBe(again.seq);
		// this account's own message, echoed: its chain is past it
		expect(alice.keeper.open({...item, seq: ++stream.seq})).toMatchObject({type: 'rejected', code: 'replay'});
	});

	it('refuses a forgery: a member signing as another, or a message altered on the way', () => {
		const {users: [alice, bob, carol], stream} = trio();
		const carols = stream.send(carol, 'from carol');
		expect(bob.keeper.open({...carols, from: 'alice'})).toMatchObject({type: 'rejected', code: 'forged'});
		// carol seals in alice's name with her own key, with alice's epoch and the next n
		const epoch = Buffer.from(carols.epoch, 'base64url');
		const forged = sealRoomMessage({room: 'team', epoch, sender: 'alice', n: 0, id: 'f1', messageKey: Buffer.alloc(32, 7), plaintext: Buffer.from('{"v":1,"type":"text","text":"pay carol","sent":1}'), identityPrivate: carol.keys.identity.privateKey});
		const item = {room: 'team', seq: ++stream.seq, time: 1, from: 'alice', id: 'f1', epoch: carols.epoch, n: 0, body: forged.body, signature: forged.signature.toString('base64url')};
		expect(bob.keeper.open(item)).toMatchObject({type: 'rejected', code: 'forged'});
		const real = stream.send(alice, 'real');
		const flipped = real.body.slice(0, 20) + (real.body[20] === 'A' ? 'B' : 'A') + real.body.slice(21);
		expect(bob.keeper.open({...real, body: flipped})).toMatchObject({type: 'rejected', code: 'forged'});
		expect(bob.keeper.open({...real, seq: ++stream.seq, from: 'mallory'})).toMatchObject({type: 'rejected', code: 'not_member'});
		expect(bob.keeper.open({...real, seq: ++stream.seq, epoch: 'short'})).toMatchObject({type: 'rejected', code: 'malformed'});
		// the forgeries advanced nothing: the real message still opens
		expect(bob.keeper.open({...real, seq: ++stream.seq})).toMatchObject({type: 'text', text: 'real'});
	});

	it('refuses a message of an earlier epoch', () => {
		const {users: [alice, bob], stream} = trio();
		const old = stream.send(bob, 'old epoch');
		stream.seq--;
		stream.change(alice, [alice, bob], {action: 'topic', topic: 'new'});
		expect(alice.keeper.open({...old, seq: ++stream.seq})).toMatchObject({type: 'rejected', code: 'stale_epoch'});
	});

	it('opens out of order within bounds; a gap beyond 1,000 is too_far; skipped keys are bounded and expire', () => {
		const {users: [alice, bob], stream} = trio();
		const sealed = alice.db.transaction(() => Array.from({length: 2600}, (_, n) => stream.send(alice, `text ${n}`)))();
		const open = (n: number) => bob.keeper.open({...sealed[n]!, seq: ++stream.seq});
		expect(open(1001)).toMatchObject({type: 'rejected', code: 'too_far'});
		expect(rowCount(bob, 'room_skipped')).toBe(0);
		for (const n of [3, 1, 0, 2]) expect(open(n)).toMatchObject({type: 'text', text: `text ${n}`});
		expect(open(2)).toMatchObject({type: 'rejected', code: 'replay'});
		expect(rowCount(bob, 'room_skipped')).toBe(0);
		bob.clock.now += 1;
		expect(open(1004)).toMatchObject({type: 'text', text: 'text 1004'}); // exactly 1,000 ahead
		expect(rowCount(bob, 'room_skipped')).toBe(1000);
		bob.clock.now += 1;
		expect(open(2004)).toMatchObject({type: 'text'});
		expect(rowCount(bob, 'room_skipped')).toBe(1999);
		bob.clock.now += 1;
		expect(open(2599)).toMatchObject({type: 'text'});
		// 2,000 kept per (room, epoch): the oldest went
		expect(rowCount(bob, 'room_skipped')).toBe(2000);
		expect(open(4)).toMatchObject({type: 'rejected', code: 'replay'});
		expect(open(1003)).toMatchObject({type: 'text', text: 'text 1003'});
		expect(open(2598)).toMatchObject({type: 'text', text: 'text 2598'});
		bob.clock.now += 31 * 24 * 60 * 60 * 1000;
		expect(open(2597)).toMatchObject({type: 'rejected', code: 'replay'});
		bob.keeper.prune();
		expect(rowCount(bob, 'room_skipped')).toBe(0);
	});

	it('sent messages: seq and delivery counts that only grow; a re-seal under a new epoch', () => {
		const {users: [alice, bob], stream} = trio();
		const item = stream.send(alice, 'count me');
		expect(alice.keeper.sent('team', item.id)).toEqual({n: 0, delivered: 0, of: 0});
		expect(alice.keeper.noteSent('team', item.id, item.seq)).toBe(true);
		expect(alice.keeper.delivered('team', item.seq, 1, 2)).toBe(true);
		expect(alice.keeper.delivered('team', item.id, 0, 2)).toBe(true);
		expect(alice.keeper.sent('team', item.id)).toEqual({n: 0, seq: item.seq, delivered: 1, of: 2});
		expect(alice.keeper.delivered('team', 'unknown', 1, 2)).toBe(false);
		stream.change(alice, [alice, bob], {action: 'rekey'});
		const resealed = alice.keeper.seal('team', item.id, 'count me', 1);
		expect(resealed.epoch).not.toBe(item.epoch);
		expect(alice.keeper.sent('team', item.id)).toEqual({n: 0, delivered: 0, of: 0});
	});

	it('refuses to seal an over-long text or a malformed id', () => {
		const {users: [alice]} = trio();
		expect(() => alice.keeper.seal('team', 'ok', 'x'.repeat(8193), 1)).toThrow(RangeError);
		expect(() => alice.keeper.seal('team', 'bad id', 'x', 1)).toThrow(TypeError);
		expect(alice.keeper.seal('team', 'ok', 'é'.repeat(4096), 1).n).toBe(0);
	});
});
