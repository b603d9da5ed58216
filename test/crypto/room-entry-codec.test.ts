import {Buffer} from 'node:buffer';
import {randomBytes} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {roomEntryFromJson, roomEntryToJson, type RoomEntryJson} from '../../source/crypto/room-entry-codec.js';
import {applyChange, type RoomEntry} from '../../source/crypto/room-log.js';
import {add, addEntry, change, create, createEntry, refusal, user} from './room-kit.js';

const alice = user('alice');
const bob = user('bob');
const carol = user('carol');
const state = add(create('team', alice), alice, bob);
const entries: RoomEntry[] = [
	createEntry('team', alice, 'plans 🙂'),
	addEntry(state, alice, carol),
	change(state, alice, {action: 'remove', member: 'bob', confirm: randomBytes(32)}),
	change(state, bob, {action: 'leave'}),
	change(state, alice, {action: 'admin', member: 'bob'}),
	change(state, alice, {action: 'topic', topic: ''}),
	change(state, alice, {action: 'rekey', confirm: randomBytes(32)}),
];
const wire = (entry: RoomEntry): RoomEntryJson => JSON.parse(JSON.stringify(roomEntryToJson(entry))) as RoomEntryJson;
const fromJson = (json: unknown) => refusal(() => roomEntryFromJson(json as RoomEntryJson));

describe('room entries as JSON', () => {
	it.each(entries.map(entry => [entry.action, entry] as const))('round-trips %s with only its own fields', (action, entry) => {
		const json = wire(entry);
		const own: Record<string, string[]> = {create: ['topic', 'record', 'confirm'], add: ['record', 'nonce', 'accept'], remove: ['member', 'confirm'], leave: [], admin: ['member'], topic: ['topic'], rekey: ['confirm']};
		expect(Object.keys(json).sort()).toEqual(['room', 'index', 'prev', 'author', 'time', 'action', 'signature', ...own[action]!].sort());
		const back = roomEntryFromJson(json);
		expect(back).toEqual(entry);
		expect(wire(back)).toEqual(json);
	});

	it('decodes to entries applyChange takes', () => {
		const created = applyChange(undefined, roomEntryFromJson(wire(entries[0]!)));
		expect(applyChange(state, roomEntryFromJson(wire(entries[1]!))).members.has('carol')).toBe(true);
		expect(created.topic).toBe('plans 🙂');
	});

	it('ignores fields no action has', () => {
		expect(roomEntryFromJson({...wire(entries[3]!), colour: 'red'} as RoomEntryJson)).toEqual(entries[3]);
	});

	const created = wire(entries[0]!);
	const added = wire(entries[1]!);
	const removed = wire(entries[2]!);
	const b64 = (length: number) => Buffer.alloc(length, 7).toString('base64url');
	it.each<[string, unknown]>([
		['null', null],
		['an array', [created]],
		['a string', 'entry'],
		['no room', {...created, room: undefined}],
		['a room of capitals', {...created, room: 'Team'}],
		['the room everyone', {...created, room: 'everyone'}],
		['a room of 33 characters', {...created, room: 'r'.repeat(33)}],
		['a negative index', {...created, index: -1}],
		['a fractional index', {...created, index: 0.5}],
		['an index as a string', {...created, index: '0'}],
		['an index of 2^53', {...created, index: 2 ** 53}],
		['a prev of 31 bytes', {...created, prev: b64(31)}],
		['a padded prev', {...created, prev: `${b64(32)}=`}],
		['a prev in base64', {...created, prev: Buffer.alloc(32, 0xff).toString('base64')}],
		['a prev with unused bits set', {...created, prev: `${b64(32).slice(0, -1)}B`}],
		['an author that is not a username', {...created, author: 'Alice'}],
		['a reserved author', {...created, author: 'system'}],
		['a fractional time', {...created, time: 1.5}],
		['a negative time', {...created, time: -1}],
		['no action', {...created, action: undefined}],
		['an unknown action', {...created, action: 'delete'}],
		['an action that is not a string', {...created, action: 7}],
		['a signature of 63 bytes', {...created, signature: b64(63)}],
		['no signature', {...created, signature: undefined}],
		['a topic of 257 bytes', {...created, topic: 'x'.repeat(257)}],
		['a topic with a lone surrogate', {...created, topic: 'a\ud800'}],
		['a topic that is a number', {...created, topic: 5}],
		['a create without a topic', {...created, topic: undefined}],
		['a create without a record', {...created, record: undefined}],
		['a record that is a string', {...created, record: 'alice'}],
		['a record without a username', {...created, record: {...created.record, username: undefined}}],
		['a record of another shape of name', {...created, record: {...created.record, username: 'a b'}}],
		['a record identity of 33 bytes', {...created, record: {...created.record, identity: b64(33)}}],
		['a record x25519 of 31 bytes', {...created, record: {...created.record, x25519: b64(31)}}],
		['a record binding of 32 bytes', {...created, record: {...created.record, binding: b64(32)}}],
		['a confirm of 16 bytes', {...created, confirm: b64(16)}],
		['a create with a member', {...created, member: 'bob'}],
		['a create with a nonce', {...created, nonce: b64(16)}],
		['an add with a topic', {...added, topic: ''}],
		['an add with a confirm', {...added, confirm: b64(32)}],
		['an add with a nonce of 32 bytes', {...added, nonce: b64(32)}],
		['an add without accept', {...added, accept: undefined}],
		['an add with an accept of 32 bytes', {...added, accept: b64(32)}],
		['a remove without a member', {...removed, member: undefined}],
		['a remove of a member that is not a username', {...removed, member: 'a/b'}],
		['a remove without a confirm', {...removed, confirm: undefined}],
		['a leave with a member', {...wire(entries[3]!), member: 'bob'}],
		['an admin with a confirm', {...wire(entries[4]!), confirm: b64(32)}],
		['a topic with a record', {...wire(entries[5]!), record: added.record}],
		['a rekey with a topic', {...wire(entries[6]!), topic: 'x'}],
		['a rekey with a null confirm', {...wire(entries[6]!), confirm: null}],
	])('refuses %s with bad_change, and nothing else', (_, json) => {
		expect(fromJson(json)).toBe('bad_change');
	});
});
