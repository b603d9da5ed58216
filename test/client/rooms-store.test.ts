import {randomBytes} from 'node:crypto';
import {statSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {RoomKeyError, roomKeySecret} from '../../source/client/rooms/room-keeper.js';
import {entryHash, RoomLogError, signChange, signInvite, type RoomEntry} from '../../source/crypto/room-log.js';
import {reopened, roomOf, roomUser, rowCount, type RoomUser} from '../helpers/room-users.js';

const roomTables = ['rooms', 'room_members', 'room_log', 'room_chains', 'room_skipped', 'room_invites', 'room_sent'];
const snapshot = (user: RoomUser) => roomTables.map(table => user.db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all());
const trio = () => {
	const users = ['alice', 'bob', 'carol'].map(name => roomUser(name)) as [RoomUser, RoomUser, RoomUser];
	return {users, stream: roomOf('team', users)};
};
const codeOf = (run: () => unknown) => {
	try {
		run();
		return 'none';
	} catch (error) {
		return error instanceof RoomKeyError || error instanceof RoomLogError ? error.code : String(error);
	}
};

describe('rooms: what the store keeps', () => {
	it('a fresh epoch with a wrong or missing secret writes nothing; applied without a key the room stalls until a fresh epoch it reads', () => {
		const {users: [alice, bob, carol], stream} = trio();
		stream.send(alice, 'skipped');
		stream.send(alice, 'skipped too');
		expect(bob.keeper.open(stream.send(alice, 'third'))).toMatchObject({type: 'text'}); // two skipped keys
		const before = snapshot(bob);
		const prepared = alice.keeper.prepare('team', {action: 'rekey'});
		const seq = ++stream.seq;
		alice.keeper.applyChange(prepared.entry, seq);
		carol.keeper.applyChange(prepared.entry, seq, prepared.secret);
		expect(codeOf(() => bob.keeper.applyChange(prepared.entry, seq, randomBytes(32)))).toBe('wrong_secret');
		expect(codeOf(() => bob.keeper.applyChange(prepared.entry, seq, prepared.secret!.subarray(0, 16)))).toBe('wrong_secret');
		expect(codeOf(() => bob.keeper.applyChange(prepared.entry, seq))).toBe('missing_secret');
		expect(snapshot(bob)).toEqual(before);
		expect(rowCount(bob, 'room_skipped')).toBe(2);

		bob.keeper.applyStalled(prepared.entry, seq, 'the key of change 3 could not be read');
		expect(bob.keeper.room('team')).toMatchObject({status: 'stalled', note: 'the key of change 3 could not be read', index: prepared.entry.index});
		expect(rowCount(bob, 'room_chains') + rowCount(bob, 'room_skipped')).toBe(0);
		expect(bob.keeper.open(stream.send(alice, 'after the rekey'))).toMatchObject({type: 'rejected', code: 'unreadable'});
		expect(codeOf(() => bob.keeper.seal('team', 'b1', 'hello?', 1))).toBe('no_epoch');
		// a derived epoch cannot be derived from nothing: still stalled
		stream.change(alice, [alice, carol], {action: 'topic', topic: 'quiet'});
		const topic = alice.keeper.log('team', prepared.entry.index)[0]!;
		expect(codeOf(() => bob.keeper.applyChange(topic, stream.seq))).toBe('missing_secret');
		bob.keeper.applyStalled(topic, stream.seq, 'still no key');
		expect(bob.keeper.room('team')).toMatchObject({status: 'stalled', topic: 'quiet'});
		stream.change(alice, [alice, bob, carol], {action: 'rekey'});
		expect(bob.keeper.room('team')).toMatchObject({status: 'member'});
		expect(bob.keeper.room('team')).not.toHaveProperty('note');
		expect(bob.keeper.open(stream.send(carol, 'welcome back'))).toMatchObject({type: 'text', text: 'welcome back'});
	});

	it('a room_key payload must name the change it came with', () => {
		const {users: [alice], stream} = trio();
		const {prepared} = stream.change(alice, [alice], {action: 'rekey'});
		const payload = {room: 'team', index: prepared.entry.index, head: entryHash(prepared.entry).toString('base64url'), secret: prepared.secret!.toString('base64url')};
		expect(roomKeySecret(payload, prepared.entry)).toEqual(prepared.secret);
		for (const wrong of [{index: payload.index - 1}, {room: 'other'}, {head: randomBytes(32).toString('base64url')}, {secret: 'short'}]) {
			expect(codeOf(() => roomKeySecret({...payload, ...wrong}, prepared.entry))).toBe('wrong_secret');
		}
	});

	it('a change that does not follow the last one leaves the room as it was', () => {
		const {users: [alice, bob], stream} = trio();
		const last = alice.keeper.log('team', 1)[0]!;
		const before = snapshot(bob);
		expect(codeOf(() => bob.keeper.applyChange(last, ++stream.seq))).toBe('bad_change');
		const state = alice.keeper.state('team')!;
		const wrongPrev = signChange({room: 'team', index: state.index + 1, prev: randomBytes(32), author: 'alice', time: 1, action: 'topic', topic: 'x'}, alice.keys.identity.privateKey);
		expect(codeOf(() => bob.keeper.applyChange(wrongPrev, ++stream.seq))).toBe('bad_change');
		const byBob = signChange({room: 'team', index: state.index + 1, prev: state.head, author: 'alice', time: 1, action: 'topic', topic: 'x'}, bob.keys.identity.privateKey);
		expect(codeOf(() => bob.keeper.applyChange(byBob, ++stream.seq))).toBe('bad_change');
		const fine = alice.keeper.prepare('team', {action: 'topic', topic: 'fine'}).entry;
		expect(codeOf(() => bob.keeper.applyChange(fine, bob.keeper.position('team')))).toBe('bad_change'); // an item already processed
		expect(snapshot(bob)).toEqual(before);
		bob.keeper.skip('team', stream.seq);
		expect(bob.keeper.position('team')).toBe(stream.seq);
	});

	it('a history that is not a chain is refused with nothing written', () => {
		const {users: [alice]} = trio();
		const dave = roomUser('dave');
		const log = alice.keeper.log('team');
		const tampered: RoomEntry[] = [log[0]!, {...log[1]!, time: log[1]!.time + 1}, log[2]!];
		expect(codeOf(() => dave.keeper.applyHistory('team', tampered))).toBe('bad_change');
		expect(codeOf(() => dave.keeper.applyHistory('team', [log[1]!]))).toBe('bad_change');
		expect(codeOf(() => dave.keeper.applyHistory('other', log))).toBe('bad_change');
		expect(snapshot(dave).flat()).toEqual([]);
	});

	it('everything survives closing and opening the database', () => {
		let {users: [alice, bob, carol], stream} = trio();
		const early = stream.send(alice, 'early');
		const late = stream.send(alice, 'late');
		expect(bob.keeper.open(late)).toMatchObject({type: 'text'});
		const views = [alice, bob, carol].map(user => user.keeper.rooms());
		[alice, bob, carol] = [alice, bob, carol].map(reopened) as [RoomUser, RoomUser, RoomUser];
		expect([alice, bob, carol].map(user => user.keeper.rooms())).toEqual(views);
		expect(bob.keeper.open({...early, seq: ++stream.seq})).toMatchObject({type: 'text', text: 'early'});
		expect(alice.keeper.open(stream.send(bob, 'after a restart'))).toMatchObject({type: 'text'});
		expect(carol.keeper.open(stream.send(alice, 'and again'))).toMatchObject({type: 'text'});
		expect(alice.keeper.state('team')?.members.size).toBe(3);
		stream.change(alice, [alice, bob, carol], {action: 'remove', member: 'carol'});
		expect(bob.keeper.open(stream.send(alice, 'two of us'))).toMatchObject({type: 'text'});
	});

	it("joins the caller's transaction: rolled back with it, nothing stays", () => {
		const {users: [alice, bob], stream} = trio();
		const item = stream.send(alice, 'roll me back');
		const before = snapshot(bob);
		expect(() =>
			bob.db.transaction(() => {
				expect(bob.keeper.open(item)).toMatchObject({type: 'text'});
				throw new Error('the caller failed after');
			})(),
		).toThrow('the caller failed after');
		expect(snapshot(bob)).toEqual(before);
		expect(bob.keeper.open(item)).toMatchObject({type: 'text', text: 'roll me back'});
	});

	it('the database is private (0600)', () => {
		const alice = roomUser('alice');
		expect(statSync(join(alice.directory, 'account.db')).mode & 0o777).toBe(0o600);
	});

	it('keeps only invitations whose signature verifies, at most 100, also to a room it is in (which may be over); one told again is not new', () => {
		const {users: [alice, bob]} = trio();
		const dave = roomUser('dave');
		const invite = (room: string, signer = alice, time = 1) => {
			const nonce = randomBytes(16);
			const signature = signInvite({room, inviter: 'alice', invitee: 'dave', nonce}, signer.keys.identity.privateKey);
			return {room, inviter: 'alice', record: alice.keeper.record(), nonce, signature, time};
		};
		expect(dave.keeper.saveInvite(invite('club', bob))).toBe(false);
		expect(dave.keeper.saveInvite({...invite('club'), inviter: 'bob'})).toBe(false);
		expect(bob.keeper.saveInvite({...invite('team'), signature: signInvite({room: 'team', inviter: 'alice', invitee: 'bob', nonce: Buffer.alloc(16)}, alice.keys.identity.privateKey), nonce: Buffer.alloc(16)})).toBe(true);
		expect(bob.keeper.room('team')).toMatchObject({status: 'member', members: [{username: 'alice'}, {username: 'bob'}, {username: 'carol'}]});
		const twice = invite('twice');
		expect(dave.keeper.saveInvite(twice)).toBe(true);
		expect(dave.keeper.saveInvite(twice)).toBe(false);
		expect(dave.keeper.saveInvite(invite('twice'))).toBe(true);
		dave.keeper.dropInvite('twice');
		for (let index = 0; index < 101; index++) expect(dave.keeper.saveInvite(invite(`room-${index}`, alice, index))).toBe(true);
		expect(dave.keeper.invites()).toHaveLength(100);
		expect(dave.keeper.room('room-0')).toBeUndefined();
		expect(dave.keeper.room('room-100')).toMatchObject({status: 'invited', admins: ['alice']});
		dave.keeper.dropInvite('room-100');
		expect(dave.keeper.room('room-100')).toBeUndefined();
		expect(() => dave.keeper.accept('room-100')).toThrow();
	});
});
