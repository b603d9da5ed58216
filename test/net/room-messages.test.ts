import {describe, expect, it} from 'vitest';
import {ProtocolError} from '../../source/net/error-codes.js';
import {parseClientMessage, parseRelayMessage} from '../../source/net/messages.js';

const key16 = 'A'.repeat(22);
const key32 = 'A'.repeat(43);
const key64 = 'A'.repeat(86);
const record = {username: 'bob', identity: key32, x25519: key32, binding: key64};
const entry = {room: 'dev', index: 1, prev: key32, author: 'alice', time: 5, action: 'add', record, nonce: key16, accept: key64, signature: key64};
const key = {to: 'bob', id: 'k1', ratchet: 'A'.repeat(99), body: 'gAAAA'};

function code(parse: (value: unknown) => unknown, value: unknown): string | undefined {
	try {
		parse(value);
	} catch (error) {
		expect(error).toBeInstanceOf(ProtocolError);
		return (error as ProtocolError).code;
	}
	return undefined;
}

describe('room messages on the wire (design rooms.md section 4)', () => {
	it.each([
		[{type: 'room_stage', room: 'dev', keys: [key, {...key, to: 'carol'}]}],
		[{type: 'room_change', room: 'dev', entry}],
		[{type: 'room_change', room: 'dev', entry: {room: 'dev', index: 0, prev: key32, author: 'alice', time: 5, action: 'create', topic: 'é', record, confirm: key32, signature: key64}}],
		[{type: 'room_send', room: 'dev', id: 'm1', epoch: key32, n: 4_294_967_295, body: 'gAAAA', signature: key64}],
		[{type: 'room_ack', room: 'dev', seq: 9}],
		[{type: 'room_invite', room: 'dev', to: 'bob', nonce: key16, signature: key64}],
		[{type: 'room_accept', room: 'dev', nonce: key16, accept: key64}],
		[{type: 'room_decline', room: 'dev', nonce: key16}],
		[{type: 'room_log', room: 'dev', from: 0}],
	])('a client may send %j', message => {
		expect(parseClientMessage(message)).toEqual(message);
	});

	it('a staged key of kind direct is taken, its kind implied; unknown fields of an entry are dropped', () => {
		expect(parseClientMessage({type: 'room_stage', room: 'dev', keys: [{...key, kind: 'direct'}]})).toEqual({type: 'room_stage', room: 'dev', keys: [key]});
		expect(parseClientMessage({type: 'room_change', room: 'dev', entry: {...entry, extra: 1}})).toEqual({type: 'room_change', room: 'dev', entry});
	});

	it.each([
		[{type: 'room_change', room: 'dev', seq: 3, time: 4, entry, key: {...key, from: 'alice', kind: 'direct'}}],
		[{type: 'room_change', room: 'dev', seq: 3, time: 4, entry}],
		[{type: 'room_message', room: 'dev', seq: 4, time: 5, from: 'alice', id: 'm1', epoch: key32, n: 0, body: 'gAAAA', signature: key64}],
		[{type: 'room_accepted', room: 'dev', id: 'm1', seq: 4, time: 5}],
		[{type: 'room_changed', room: 'dev', index: 2, seq: 4}],
		[{type: 'room_delivered', room: 'dev', seq: 4, id: 'm1', delivered: 2, of: 3}],
		[{type: 'room_invitation', room: 'dev', from: record, nonce: key16, signature: key64, time: 5, topic: 'talk'}],
		[{type: 'room_invitation', room: 'dev', from: record, nonce: key16, signature: key64, time: 5}],
		[{type: 'room_join_request', room: 'dev', record, nonce: key16, accept: key64}],
		[{type: 'room_declined', room: 'dev', username: 'bob'}],
		[{type: 'room_log', room: 'dev', entries: [entry]}],
		[{type: 'welcome', username: 'bob', users: [], motd: null, online: [], onlineCount: 1, waiting: 0, rooms: [{room: 'dev', seq: 7}]}],
	])('a relay may send %j', message => {
		expect(parseRelayMessage(message)).toEqual(message);
	});

	it.each([
		['a key without a sender', {type: 'room_change', room: 'dev', seq: 3, time: 4, entry, key: {...key, kind: 'direct'}}],
		['a key without its kind', {type: 'room_change', room: 'dev', seq: 3, time: 4, entry, key: {...key, from: 'alice'}}],
		['a message from no valid name', {type: 'room_message', room: 'dev', seq: 4, time: 5, from: 'Alice', id: 'm1', epoch: key32, n: 0, body: 'x', signature: key64}],
		['a record with a short identity', {type: 'room_join_request', room: 'dev', record: {...record, identity: key16}, nonce: key16, accept: key64}],
		['101 log entries', {type: 'room_log', room: 'dev', entries: Array.from({length: 101}, () => entry)}],
		['a welcome room with a bad name', {type: 'welcome', username: 'bob', users: [], motd: null, online: [], onlineCount: 1, waiting: 0, rooms: [{room: '#dev', seq: 1}]}],
		['a delivery count of -1', {type: 'room_delivered', room: 'dev', seq: 4, id: 'm1', delivered: -1, of: 3}],
	])('a client refuses %s with bad_message', (_name, message) => {
		expect(code(parseRelayMessage, message)).toBe('bad_message');
	});
});
