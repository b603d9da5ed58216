import {Buffer} from 'node:buffer';
import {createHash, createHmac, randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {generateIdentity, publicIdentity} from '../../source/crypto/identity.js';
import {
	applyChange,
	changeBytes,
	entryHash,
	isFreshEpoch,
	isValidRoomName,
	maxRoomAdmins,
	roomConfirm,
	signAccept,
	signChange,
	type RoomEntry,
	type RoomState,
} from '../../source/crypto/room-log.js';
import {add, addEntry, admins, change, create, createEntry, expectRefused, names, refusal, user} from './room-kit.js';

const alice = user('alice');
const bob = user('bob');
const carol = user('carol');
const dave = user('dave');

describe('room names', () => {
	it('are 1 to 32 of a-z, 0-9, _ and -, and not everyone', () => {
		for (const name of ['a', 'team-1', 'x_y', 'z'.repeat(32), 'system']) expect(isValidRoomName(name)).toBe(true);
		for (const name of ['', 'Team', 'a b', '#a', 'z'.repeat(33), 'everyone', 'é', 1 as unknown as string]) expect(isValidRoomName(name)).toBe(false);
	});
});

describe('signed bytes and hashes (design section 2)', () => {
	it('lays out S(entry) as the design says, and H = SHA-256(S || signature)', () => {
		const state = create('team', alice);
		const entry = change(state, alice, {action: 'admin', member: 'bob'});
		const lp = (text: string) => Buffer.concat([Buffer.from([0, Buffer.byteLength(text)]), Buffer.from(text)]);
		const u64 = (n: number) => Buffer.from(n.toString(16).padStart(16, '0'), 'hex');
		const expected = Buffer.concat([lp('im-tui/4 room change'), lp('team'), u64(1), state.head, lp('alice'), u64(entry.time), lp('admin'), lp('bob')]);
		expect(changeBytes(entry)).toEqual(expected);
		expect(entryHash(entry)).toEqual(createHash('sha256').update(expected).update(entry.signature).digest());
	});

	it('confirm = HMAC(E, lp(label, room) || u64be(index))', () => {
		const secret = randomBytes(32);
		const message = Buffer.concat([Buffer.from([0, 21]), Buffer.from('im-tui/4 room confirm'), Buffer.from([0, 4]), Buffer.from('team'), Buffer.from('0000000000000101', 'hex')]);
		expect(roomConfirm(secret, 'team', 257)).toEqual(createHmac('sha256', secret).update(message).digest());
		expect(roomConfirm(secret, 'team', 1)).not.toEqual(roomConfirm(secret, 'team', 2));
		expect(roomConfirm(secret, 'team', 1)).not.toEqual(roomConfirm(secret, 'other', 1));
	});

	it('fresh epochs are create, remove and rekey', () => {
		expect(['create', 'add', 'remove', 'leave', 'admin', 'topic', 'rekey'].filter(action => isFreshEpoch(action as never))).toEqual(['create', 'remove', 'rekey']);
	});
});

describe('applyChange: a chain of changes', () => {
	it('create → add → admin → topic → remove → leave → rekey, each a new state', () => {
		const created = createEntry('team', alice, 'plans');
		const s0 = applyChange(undefined, created);
		expect(s0).toMatchObject({room: 'team', index: 0, creator: 'alice', topic: 'plans', needsRekey: false});
		expect(s0.head).toEqual(entryHash(created));
		expect(admins(s0)).toEqual(['alice']);

		const s1 = add(s0, alice, bob, carol, dave);
		expect(s1.index).toBe(3);
		expect(names(s1)).toEqual(['alice', 'bob', 'carol', 'dave']);
		expect(names(s0)).toEqual(['alice']);
		expect(s1.members.get('bob')!.record.identity).toEqual(bob.record.identity);

		const promote = change(s1, alice, {action: 'admin', member: 'bob'});
		const s2 = applyChange(s1, promote);
		expect(admins(s2)).toEqual(['alice', 'bob']);
		expect(admins(s1)).toEqual(['alice']);
		expect(s2.head).toEqual(entryHash(promote));

		const s3 = applyChange(s2, change(s2, bob, {action: 'topic', topic: 'new plans 🙂'}));
		expect(s3.topic).toBe('new plans 🙂');

		const s4 = applyChange(s3, change(s3, bob, {action: 'remove', member: 'carol', confirm: randomBytes(32)}));
		expect(names(s4)).toEqual(['alice', 'bob', 'dave']);

		const s5 = applyChange(s4, change(s4, dave, {action: 'leave'}));
		expect(names(s5)).toEqual(['alice', 'bob']);
		expect(s5.needsRekey).toBe(true);
		expect(s4.needsRekey).toBe(false);

		const s6 = applyChange(s5, change(s5, bob, {action: 'rekey', confirm: randomBytes(32)}));
		expect(s6).toMatchObject({index: 8, needsRekey: false, topic: 'new plans 🙂', creator: 'alice'});
	});

	it('the last member leaving leaves a room with no members', () => {
		const state = add(create('team', alice), alice, bob);
		const left = applyChange(state, change(state, bob, {action: 'leave'}));
		const empty = applyChange(left, change(left, alice, {action: 'leave'}));
		expect(empty.members.size).toBe(0);
		expectRefused(empty, change(empty, alice, {action: 'rekey', confirm: randomBytes(32)}), 'not_member');
	});
});

describe('applyChange: order and signatures', () => {
	const state = add(create('team', alice), alice, bob);
	const topic = (s: RoomState = state) => change(s, alice, {action: 'topic', topic: 'x'});

	it('refuses a create without a valid record, signature or start', () => {
		const entry = createEntry('team', alice);
		if (entry.action !== 'create') throw new Error('a create');
		expectRefused(undefined, {...entry, index: 1} as RoomEntry, 'bad_change');
		expectRefused(undefined, {...entry, prev: randomBytes(32)}, 'bad_change');
		expectRefused(undefined, {...entry, author: 'bob'}, 'bad_change');
		expectRefused(undefined, signChange({...entry, record: bob.record}, alice.keys.identity.privateKey), 'bad_change');
		expectRefused(undefined, signChange({...entry, record: {...alice.record, binding: bob.record.binding}}, alice.keys.identity.privateKey), 'bad_change');
		expectRefused(undefined, signChange(entry, bob.keys.identity.privateKey), 'bad_change');
		expectRefused(undefined, {...entry, topic: 'changed'} as RoomEntry, 'bad_change');
		expectRefused(undefined, {...entry, topic: 'é'.repeat(129)} as RoomEntry, 'bad_change');
		expectRefused(undefined, topic(), 'bad_change');
		expectRefused(state, change(state, alice, {action: 'create', topic: '', record: alice.record, confirm: randomBytes(32)}), 'bad_change');
	});

	it('takes a create topic of 256 UTF-8 bytes', () => {
		expect(create('team', alice, 'é'.repeat(128)).topic).toBe('é'.repeat(128));
	});

	it('refuses a wrong index, a wrong prev, another room, a forged or altered signature', () => {
		const good = topic();
		expectRefused(state, {...good, index: state.index + 2}, 'bad_change');
		expectRefused(state, {...good, index: state.index}, 'bad_change');
		expectRefused(state, signChange({...good, prev: randomBytes(32)}, alice.keys.identity.privateKey), 'bad_change');
		expectRefused(state, signChange({...good, room: 'other'}, alice.keys.identity.privateKey), 'bad_change');
		expectRefused(state, change(state, alice, {action: 'topic', topic: 'x'}, bob), 'bad_change');
		const flipped = Buffer.from(good.signature);
		flipped[10]! ^= 1;
		expectRefused(state, {...good, signature: flipped}, 'bad_change');
		expectRefused(state, {...good, signature: good.signature.subarray(0, 63)}, 'bad_change');
		expectRefused(state, {...good, time: good.time + 1}, 'bad_change');
		expect(applyChange(state, good).topic).toBe('x');
	});

	it('refuses a ghost: an author who is not a member', () => {
		expectRefused(state, change(state, carol, {action: 'topic', topic: 'x'}), 'not_member');
		expectRefused(state, change(state, carol, {action: 'leave'}), 'not_member');
	});
});

describe('applyChange: add', () => {
	const state = add(create('team', alice), alice, bob);

	it('needs an admin, no pending rekey, a newcomer, a bound record and the newcomer\'s acceptance', () => {
		expectRefused(state, addEntry(state, bob, carol), 'not_admin');
		expectRefused(state, addEntry(state, alice, bob), 'already_member');
		const good = addEntry(state, alice, carol);
		if (good.action !== 'add') throw new Error('an add');
		const resign = (fields: Partial<typeof good>) => signChange({...good, ...fields}, alice.keys.identity.privateKey);
		expectRefused(state, resign({nonce: randomBytes(16)}), 'bad_change');
		expectRefused(state, resign({accept: signAccept({room: 'team', member: 'carol', nonce: good.nonce}, dave.keys.identity.privateKey)}), 'bad_change');
		expectRefused(state, resign({accept: signAccept({room: 'other', member: 'carol', nonce: good.nonce}, carol.keys.identity.privateKey)}), 'bad_change');
		expectRefused(state, resign({record: {...carol.record, binding: dave.record.binding}}), 'bad_change');
		expectRefused(state, resign({record: {...carol.record, username: 'dave'}}), 'bad_change');
		// a record whose identity is a weak key, or no point at all: refused, never thrown past applyChange
		const weak = {...carol.record, identity: Buffer.concat([Buffer.from([1]), Buffer.alloc(31)])};
		expectRefused(state, resign({record: weak}), 'bad_change');
		const notAPoint = {...carol.record, identity: Buffer.alloc(32, 0xff)};
		expectRefused(state, resign({record: notAPoint}), 'bad_change');
		expect(names(applyChange(state, good))).toEqual(['alice', 'bob', 'carol']);
	});

	it('is refused while the room needs a rekey', () => {
		const withCarol = add(state, alice, carol);
		const left = applyChange(withCarol, change(withCarol, carol, {action: 'leave'}));
		expectRefused(left, addEntry(left, alice, dave), 'needs_rekey');
		const rekeyed = applyChange(left, change(left, alice, {action: 'rekey', confirm: randomBytes(32)}));
		expect(names(add(rekeyed, alice, dave))).toEqual(['alice', 'bob', 'dave']);
	});
});

describe('applyChange: remove, leave, admin, topic, rekey', () => {
	const base = add(create('team', alice), alice, bob, carol, dave);
	const withBobAdmin = applyChange(base, change(base, alice, {action: 'admin', member: 'bob'}));
	const remove = (s: RoomState, author: typeof alice, member: string) => change(s, author, {action: 'remove', member, confirm: randomBytes(32)});

	it('remove: an admin removes another member, not itself, a stranger or the creator', () => {
		expectRefused(base, remove(base, bob, 'carol'), 'not_admin');
		expectRefused(base, remove(base, alice, 'alice'), 'bad_change');
		expectRefused(base, remove(base, alice, 'erin'), 'not_member');
		expectRefused(withBobAdmin, remove(withBobAdmin, bob, 'alice'), 'creator');
		const removed = applyChange(withBobAdmin, remove(withBobAdmin, alice, 'bob'));
		expect(names(removed)).toEqual(['alice', 'carol', 'dave']);
		expect(admins(removed)).toEqual(['alice']);
	});

	it('remove and rekey clear a pending rekey; leave sets it', () => {
		const left = applyChange(base, change(base, dave, {action: 'leave'}));
		expect(left.needsRekey).toBe(true);
		expect(applyChange(left, remove(left, alice, 'carol')).needsRekey).toBe(false);
		const left2 = applyChange(left, change(left, carol, {action: 'leave'}));
		expect(left2.needsRekey).toBe(true);
		expectRefused(left2, change(left2, bob, {action: 'rekey', confirm: randomBytes(32)}), 'not_admin');
		expect(applyChange(left2, change(left2, alice, {action: 'rekey', confirm: randomBytes(32)})).needsRekey).toBe(false);
	});

	it('leave: the only admin cannot leave others behind; the creator can leave when another admin stays', () => {
		expectRefused(base, change(base, alice, {action: 'leave'}), 'last_admin');
		const creatorLeft = applyChange(withBobAdmin, change(withBobAdmin, alice, {action: 'leave'}));
		expect(names(creatorLeft)).toEqual(['bob', 'carol', 'dave']);
		expect(admins(creatorLeft)).toEqual(['bob']);
		expect(applyChange(base, change(base, carol, {action: 'leave'})).members.has('carol')).toBe(false);
	});

	it('admin: an admin promotes a member who is not one yet, up to the limit, not during a pending rekey', () => {
		expectRefused(base, change(base, bob, {action: 'admin', member: 'carol'}), 'not_admin');
		expectRefused(base, change(base, alice, {action: 'admin', member: 'erin'}), 'not_member');
		expectRefused(withBobAdmin, change(withBobAdmin, alice, {action: 'admin', member: 'bob'}), 'bad_change');
		const left = applyChange(base, change(base, dave, {action: 'leave'}));
		expectRefused(left, change(left, alice, {action: 'admin', member: 'bob'}), 'needs_rekey');

		const keys = generateIdentity();
		const many = Array.from({length: maxRoomAdmins}, (_, index) => ({name: `m${index}`, keys, record: {username: `m${index}`, ...publicIdentity(keys, `m${index}`)}}));
		let state = add(create('big', alice), alice, ...many);
		for (const member of many.slice(0, maxRoomAdmins - 1)) state = applyChange(state, change(state, alice, {action: 'admin', member: member.name}));
		expect(admins(state)).toHaveLength(maxRoomAdmins);
		expectRefused(state, change(state, alice, {action: 'admin', member: many.at(-1)!.name}), 'admin_limit');
	});

	it('topic: an admin sets it, at most 256 UTF-8 bytes, not during a pending rekey', () => {
		expectRefused(base, change(base, bob, {action: 'topic', topic: 'x'}), 'not_admin');
		const good = change(base, alice, {action: 'topic', topic: 'é'.repeat(128)});
		expect(applyChange(base, good).topic).toBe('é'.repeat(128));
		expectRefused(base, {...good, topic: `${'é'.repeat(128)}x`} as RoomEntry, 'bad_change');
		const left = applyChange(base, change(base, dave, {action: 'leave'}));
		expectRefused(left, change(left, alice, {action: 'topic', topic: 'x'}), 'needs_rekey');
	});

	it('never throws anything but a RoomLogError for a malformed entry', () => {
		const good = change(base, alice, {action: 'admin', member: 'bob'});
		const broken: unknown[] = [
			{...good, member: 3},
			{...good, author: 7},
			{...good, action: 'own'},
			{...good, prev: 'x'},
			{...good, index: -1},
			{...good, time: 1.5},
			{...good, signature: undefined},
			{...good, room: 'everyone'},
			{...good, action: 'add', record: null, nonce: randomBytes(16), accept: randomBytes(64)},
			{...good, action: 'add', record: {...carol.record, identity: 'x'}, nonce: randomBytes(16), accept: randomBytes(64)},
		];
		for (const entry of broken) expect(refusal(() => applyChange(base, entry as RoomEntry))).toBe('bad_change');
	});
});
