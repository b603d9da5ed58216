import {describe, expect, it} from 'vitest';
import {roomEntryToJson} from '../../source/crypto/room-entry-codec.js';
import {relayForTest} from '../helpers/chat.js';
import {create, fakeKey, join, next, roomSend, roomUser, send, type RoomUser} from '../helpers/room-kit.js';

const key32 = 'A'.repeat(43);
const key64 = 'A'.repeat(86);
const key16 = 'A'.repeat(22);

describe('malformed room frames (design rooms.md section 4)', () => {
	it('each is a fatal bad_message for its connection only; the room goes on', async () => {
		const relay = await relayForTest();
		const [alice, bob] = (await Promise.all(['alice', 'bob'].map(name => roomUser(relay.port, name)))) as [RoomUser, RoomUser];
		const room = await create(alice, 'dev');
		await join(alice, room, bob);
		const entry = roomEntryToJson(room.entry(alice, {action: 'topic', topic: 'fine'}));
		const send0 = roomSend(room, 'ok');
		const cases: Array<[string, object]> = [
			['a stage without keys', {type: 'room_stage', room: 'dev'}],
			['a stage of no keys', {type: 'room_stage', room: 'dev', keys: []}],
			['a stage of 201 keys', {type: 'room_stage', room: 'dev', keys: Array.from({length: 201}, (_, index) => fakeKey(`u${index}`))}],
			['a key without a ratchet header', {type: 'room_stage', room: 'dev', keys: [{to: 'bob', id: 'k', ephemeral: key32, body: 'gAAAA'}]}],
			['a key of kind everyone', {type: 'room_stage', room: 'dev', keys: [{...fakeKey('bob'), kind: 'everyone'}]}],
			['a key to no valid name', {type: 'room_stage', room: 'dev', keys: [fakeKey('Bob!')]}],
			['a key with a quote in its body', {type: 'room_stage', room: 'dev', keys: [{...fakeKey('bob'), body: 'gA"A'}]}],
			['an upper-case room', {type: 'room_stage', room: 'Dev', keys: [fakeKey('bob')]}],
			['the reserved room', {...send0, room: 'everyone'}],
			['a 33-character room', {...send0, room: 'a'.repeat(33)}],
			['a change without an entry', {type: 'room_change', room: 'dev'}],
			['an entry that is a string', {type: 'room_change', room: 'dev', entry: 'topic'}],
			['an entry without a signature', {type: 'room_change', room: 'dev', entry: {...entry, signature: undefined}}],
			['an entry index of -1', {type: 'room_change', room: 'dev', entry: {...entry, index: -1}}],
			['an entry time of 1.5', {type: 'room_change', room: 'dev', entry: {...entry, time: 1.5}}],
			['a topic of 257 characters', {type: 'room_change', room: 'dev', entry: {...entry, topic: 'x'.repeat(257)}}],
			['a megabyte prev', {type: 'room_change', room: 'dev', entry: {...entry, prev: 'A'.repeat(100_000)}}],
			['a record that is an array', {type: 'room_change', room: 'dev', entry: {...entry, record: []}}],
			['a member that is a number', {type: 'room_change', room: 'dev', entry: {...entry, member: 7}}],
			['an epoch of 31 bytes', {...send0, epoch: 'A'.repeat(42)}],
			['a chain index of 2^32', {...send0, n: 2 ** 32}],
			['a negative chain index', {...send0, n: -1}],
			['a message id with a space', {...send0, id: 'a b'}],
			['a short signature', {...send0, signature: key32}],
			['an empty body', {...send0, body: ''}],
			['a send without a room', {...send0, room: undefined}],
			['an ack of a string', {type: 'room_ack', room: 'dev', seq: '4'}],
			['an ack of -1', {type: 'room_ack', room: 'dev', seq: -1}],
			['an invitation to an upper-case name', {type: 'room_invite', room: 'dev', to: 'Bob', nonce: key16, signature: key64}],
			['an invitation with a 15-byte nonce', {type: 'room_invite', room: 'dev', to: 'bob', nonce: 'A'.repeat(20), signature: key64}],
			['an acceptance of 63 bytes', {type: 'room_accept', room: 'dev', nonce: key16, accept: 'A'.repeat(84)}],
			['a decline without a nonce', {type: 'room_decline', room: 'dev'}],
			['a log request without from', {type: 'room_log', room: 'dev'}],
			['a log request from -1', {type: 'room_log', room: 'dev', from: -1}],
		];
		await Promise.all(
			cases.map(async ([name, frame], turn) => {
				const mallory = await roomUser(relay.port, `mallory${turn}`, {roster: false, localAddress: `127.0.0.${10 + turn}`});
				const from = mallory.peer.messages().length;
				mallory.peer.send(frame);
				expect(await next(mallory, message => message.type === 'error', from), name).toMatchObject({code: 'bad_message', fatal: true});
				await mallory.peer.peer.untilClosed();
			}),
		);
		// an entry of the right shape whose bytes are wrong is the change's refusal, not the connection's
		const from = alice.peer.messages().length;
		alice.peer.send({type: 'room_change', room: 'dev', entry: {...entry, action: 'explode'}}, {type: 'room_change', room: 'dev', entry: {...entry, prev: key16}});
		await next(alice, message => message.type === 'error' && alice.peer.messages().slice(from).filter(m => m.type === 'error').length === 2, from);
		expect(alice.peer.messages().slice(from).filter(message => message.type === 'error')).toEqual([
			expect.objectContaining({code: 'bad_room_change', fatal: false, ref: 'dev'}),
			expect.objectContaining({code: 'bad_room_change', fatal: false, ref: 'dev'}),
		]);
		expect(await send(alice, room, 'still')).toMatchObject({type: 'room_accepted'});
		await next(bob, message => message.type === 'room_message' && message.id === 'still');
	});
});
