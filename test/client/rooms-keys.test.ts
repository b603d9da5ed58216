import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import type {RoomKey} from '../../source/client/ratchet/ratchet-envelopes.js';
import {bundle, delivered, ratchetPair, write} from '../helpers/ratchet-pair.js';

/** Room keys (design rooms.md section 1) sealed in the 1:1 ratchet session of the change's author with each member. */

function roomKey(index = 1): RoomKey {
	return {room: 'garden', index, head: randomBytes(32), secret: randomBytes(32)};
}

describe('room keys over 1:1 sessions', () => {
	it('seals a room key only in an existing session, opens it once, and shows nothing', () => {
		const {alice, bob} = ratchetPair();
		const key = roomKey();
		expect(alice.e2e.sealRoomKey('bob', 'k1', key)).toBeUndefined();
		alice.e2e.startSession('bob', bundle(bob));
		const envelope = alice.e2e.sealRoomKey('bob', 'k1', key)!;
		expect(envelope).toMatchObject({id: 'k1', to: 'bob', kind: 'direct'});
		// not in the outbox: it travels staged with its change
		expect(alice.db.prepare('SELECT COUNT(*) FROM outbox').pluck().get()).toBe(0);
		expect(alice.db.prepare('SELECT COUNT(*) FROM sent_texts').pluck().get()).toBe(0);
		const opened = bob.e2e.openRoomKey('alice', envelope);
		expect(opened).toMatchObject({type: 'key', payload: {type: 'room_key', room: 'garden', index: 1, head: key.head.toString('base64url'), secret: key.secret.toString('base64url')}, change: {activated: true}});
		// nothing to show, owe or settle
		expect(bob.e2e.inbox()).toEqual([]);
		expect(bob.e2e.owing()).toEqual([]);
		expect(bob.e2e.openRoomKey('alice', envelope)).toMatchObject({type: 'rejected', code: 'replay'});
	});

	it('leaves no gap in the counters of the session when a sealed key never arrives', () => {
		const {alice, bob} = ratchetPair();
		expect(bob.e2e.open(write(alice, bob, 'hello'))).toMatchObject({type: 'text', gap: 0});
		alice.e2e.sealRoomKey('bob', 'lost', roomKey());
		const kept = alice.e2e.sealRoomKey('bob', 'kept', roomKey(2))!;
		expect(bob.e2e.open(write(alice, bob, 'after the keys'))).toMatchObject({type: 'text', text: 'after the keys', gap: 0});
		// a key delivered late, after texts sealed later, still opens (its ratchet key was skipped and kept)
		expect(bob.e2e.openRoomKey('alice', kept)).toMatchObject({type: 'key', payload: {index: 2}});
	});

	it('is refused on the ordinary 1:1 path, and the ordinary path is refused as a room key', () => {
		const {alice, bob} = ratchetPair();
		alice.e2e.startSession('bob', bundle(bob));
		const key = alice.e2e.sealRoomKey('bob', 'k1', roomKey())!;
		expect(bob.e2e.open(delivered('alice', key))).toMatchObject({type: 'rejected', code: 'malformed'});
		const text = write(alice, bob, 'a text');
		expect(bob.e2e.openRoomKey('alice', text)).toMatchObject({type: 'rejected', code: 'malformed'});
		// spent all the same: the text does not open afterwards either
		expect(bob.e2e.open(text)).toMatchObject({type: 'rejected', code: 'replay'});
	});

	it('refuses a key from someone with no pin, or sealed for another sender', () => {
		const {alice, bob} = ratchetPair();
		alice.e2e.startSession('bob', bundle(bob));
		const key = alice.e2e.sealRoomKey('bob', 'k1', roomKey())!;
		expect(bob.e2e.openRoomKey('mallory', key)).toMatchObject({type: 'rejected', code: 'unknown_sender'});
		expect(bob.e2e.openRoomKey('alice', {...key, body: key.body.slice(0, -4) + 'AAAA'})).toMatchObject({type: 'rejected'});
		expect(bob.e2e.openRoomKey('alice', key)).toMatchObject({type: 'key'});
	});

	it('rolls back with the transaction it was opened in', () => {
		const {alice, bob} = ratchetPair();
		alice.e2e.startSession('bob', bundle(bob));
		const key = alice.e2e.sealRoomKey('bob', 'k1', roomKey())!;
		expect(() =>
			bob.db.transaction(() => {
				expect(bob.e2e.openRoomKey('alice', key)).toMatchObject({type: 'key'});
				throw new Error('the change did not apply');
			})(),
		).toThrow('the change did not apply');
		expect(bob.e2e.hasSession('alice')).toBe(false);
		expect(bob.e2e.openRoomKey('alice', key)).toMatchObject({type: 'key'});
	});
});
