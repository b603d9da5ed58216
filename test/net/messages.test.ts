import {describe, expect, it, test} from 'vitest';
import {ProtocolError} from '../../source/net/error-codes.js';
import {maxRelayTextChars, parseClientMessage, parseRelayMessage} from '../../source/net/messages.js';
import {checkUsername, foldUsername} from '../../source/net/usernames.js';

function rejection(parse: (value: unknown) => unknown, value: unknown): string | undefined {
	try {
		parse(value);
	} catch (error) {
		expect(error).toBeInstanceOf(ProtocolError);
		return (error as ProtocolError).code;
	}
	return undefined;
}

const key32 = 'A'.repeat(43);
const key64 = 'A'.repeat(86);
const user = {username: 'alice', online: true, identity: key32, x25519: key32, binding: key64};
const envelope = {id: 'a-B_9', to: 'bob', kind: 'direct', ephemeral: key32, body: 'gAAAA'};
/** Ratchet headers of 74, 78 and 82 bytes. */
const headers = ['A'.repeat(99), 'A'.repeat(104), 'A'.repeat(110)];
const {ephemeral: _ephemeral, ...keyless} = envelope;
const ratchetEnvelopes = headers.map(ratchet => ({...keyless, ratchet}));
const signed = {id: 7, key: key32, signature: key64};
const oneTime = (count: number, first = 0) => Array.from({length: count}, (_, index) => ({id: first + index, key: key32}));

describe('parseClientMessage', () => {
	it.each([
		[{type: 'login', username: 'alice', identity: key32, x25519: key32, binding: key64, proof: key64}],
		[{type: 'send', ...envelope}],
		[{type: 'send', ...envelope, kind: 'everyone'}],
		...ratchetEnvelopes.map(ratchetEnvelope => [{type: 'send', ...ratchetEnvelope}] as [object]),
		[{type: 'prekeys', signed}],
		[{type: 'prekeys', oneTime: oneTime(1)}],
		[{type: 'prekeys', signed: {...signed, id: 4_294_967_295}, oneTime: oneTime(100)}],
		[{type: 'get_bundle', id: 'q1', username: 'Bob'}],
		[{type: 'ack', deliveries: [1, 2, 3]}],
		[{type: 'bye'}],
		[{type: 'ping', nonce: 0}],
		[{type: 'pong', nonce: 12}],
	])('accepts %j', message => {
		expect(parseClientMessage(message)).toEqual(message);
	});

	it('drops unknown fields, such as a spoofed sender', () => {
		expect(parseClientMessage({type: 'send', ...envelope, from: 'alice'})).toEqual({type: 'send', ...envelope});
	});

	it.each([
		['null', null],
		['an array', [{type: 'bye'}]],
		['a string', 'bye'],
		['no type', {}],
		['an unknown type', {type: 'message'}],
		['a numeric username', {type: 'login', username: 1, identity: key32, x25519: key32, binding: key64, proof: key64}],
		['a short identity key', {type: 'login', username: 'a', identity: 'AAAA', x25519: key32, binding: key64, proof: key64}],
		['a padded key', {type: 'login', username: 'a', identity: key32 + '=', x25519: key32, binding: key64, proof: key64}],
		['a missing proof', {type: 'login', username: 'a', identity: key32, x25519: key32, binding: key64}],
		['a missing body', {type: 'send', ...envelope, body: undefined}],
		['an empty body', {type: 'send', ...envelope, body: ''}],
		['a body with a quote', {type: 'send', ...envelope, body: 'gAAA"A'}],
		['a body with a backslash', {type: 'send', ...envelope, body: 'gAAA\\u0041'}],
		['a body with a control character', {type: 'send', ...envelope, body: 'gAAA\u001bA'}],
		['a body with a space', {type: 'send', ...envelope, body: 'gAAA A'}],
		['a body with a non-ASCII letter', {type: 'send', ...envelope, body: 'gAAAé'}],
		['an unknown kind', {type: 'send', ...envelope, kind: 'group'}],
		['a short ephemeral key', {type: 'send', ...envelope, ephemeral: 'AAAA'}],
		['both ephemeral and ratchet', {type: 'send', ...envelope, ratchet: headers[0]}],
		['neither ephemeral nor ratchet', {type: 'send', ...keyless}],
		['a 73-byte ratchet header', {type: 'send', ...keyless, ratchet: 'A'.repeat(98)}],
		['an 80-byte ratchet header', {type: 'send', ...keyless, ratchet: 'A'.repeat(107)}],
		['an 83-byte ratchet header', {type: 'send', ...keyless, ratchet: 'A'.repeat(111)}],
		['a ratchet header with padding', {type: 'send', ...keyless, ratchet: `${'A'.repeat(99)}=`}],
		['a ratchet header with a character outside base64url', {type: 'send', ...keyless, ratchet: `${'A'.repeat(103)}+`}],
		['a ratchet header not a string', {type: 'send', ...keyless, ratchet: 7}],
		['a megabyte ratchet header', {type: 'send', ...keyless, ratchet: 'A'.repeat(1_000_000)}],
		['prekeys with neither part', {type: 'prekeys'}],
		['prekeys with no one-time keys', {type: 'prekeys', oneTime: []}],
		['prekeys with 101 one-time keys', {type: 'prekeys', oneTime: oneTime(101)}],
		['prekeys with a repeated id', {type: 'prekeys', oneTime: [...oneTime(2), ...oneTime(1, 1)]}],
		['a prekey id of 2^32', {type: 'prekeys', oneTime: oneTime(1, 2 ** 32)}],
		['a negative prekey id', {type: 'prekeys', signed: {...signed, id: -1}}],
		['a fractional prekey id', {type: 'prekeys', signed: {...signed, id: 1.5}}],
		['a signed prekey without its signature', {type: 'prekeys', signed: {id: 1, key: key32}}],
		['a one-time prekey of 31 bytes', {type: 'prekeys', oneTime: [{id: 1, key: 'A'.repeat(42)}]}],
		['a signed prekey that is an array', {type: 'prekeys', signed: [signed]}],
		['a get_bundle without a name', {type: 'get_bundle', id: 'q1'}],
		['a get_bundle with a bad id', {type: 'get_bundle', id: 'q 1', username: 'bob'}],
		['a get_bundle with a 257-character name', {type: 'get_bundle', id: 'q1', username: 'a'.repeat(257)}],
		['an id with a space', {type: 'send', ...envelope, id: 'a b'}],
		['an empty id', {type: 'send', ...envelope, id: ''}],
		['a 65-character id', {type: 'send', ...envelope, id: 'a'.repeat(65)}],
		['an empty ack', {type: 'ack', deliveries: []}],
		['an ack of 1,025', {type: 'ack', deliveries: Array.from({length: 1025}, (_, i) => i + 1)}],
		['an ack of zero', {type: 'ack', deliveries: [0]}],
		['an ack of a string', {type: 'ack', deliveries: ['1']}],
		['a negative nonce', {type: 'ping', nonce: -1}],
		['a fractional nonce', {type: 'ping', nonce: 1.5}],
		['a string nonce', {type: 'ping', nonce: '1'}],
		['a relay-only type', {type: 'welcome', username: 'a', users: [], motd: null}],
	])('rejects %s with bad_message', (_name, value) => {
		expect(rejection(parseClientMessage, value)).toBe('bad_message');
	});

	it('does not echo what a peer sent in its error message', () => {
		try {
			parseClientMessage({type: '\u001b]0;pwned\u0007'.repeat(1000)});
		} catch (error) {
			expect((error as Error).message).toBe('unknown client message type (string)');
		}
	});
});

describe('parseRelayMessage', () => {
	it.each([
		[{type: 'login_request'}],
		[{type: 'welcome', username: 'bob', users: [user], motd: null, online: [], onlineCount: 1, waiting: 0}],
		[{type: 'welcome', username: 'bob', users: [], motd: 'hi', online: [], onlineCount: 1, waiting: 0}],
		[{type: 'welcome', username: 'bob', users: [user], motd: null, more: 300, online: ['alice'], onlineCount: 2, waiting: 3}],
		[{type: 'welcome', username: 'bob', users: [], motd: null, online: [], onlineCount: 1, waiting: 0, prekeys: {oneTime: 0, signed: null}}],
		[{type: 'welcome', username: 'bob', users: [], motd: null, online: [], onlineCount: 1, waiting: 0, prekeys: {oneTime: 40, signed: 3}}],
		[{type: 'prekey_count', oneTime: 24, signed: 7}],
		[{type: 'prekey_count', oneTime: 0, signed: null}],
		[{type: 'bundle', id: 'q1', username: 'bob', signed, oneTime: {id: 3, key: key32}}],
		[{type: 'bundle', id: 'q1', username: 'bob', signed, oneTime: null}],
		...ratchetEnvelopes.map(ratchetEnvelope => [{type: 'message', delivery: 1, from: 'alice', time: 1, ...ratchetEnvelope}] as [object]),
		[{type: 'directory', users: [user, {...user, username: 'carol', online: false}]}],
		[{type: 'user_joined', user}],
		[{type: 'user_left', username: 'x'}],
		[{type: 'message', delivery: 1, from: 'alice', time: 1, ...envelope}],
		// not a token: it fails to open and is dropped, where refusing it would end the session at every login
		[{type: 'message', delivery: 1, from: 'alice', time: 1, ...envelope, body: 'not "a" token\u001b'}],
		[{type: 'accepted', id: 'm1', to: 'bob', time: 5}],
		[{type: 'announcement', text: 'x', time: 5}],
		[{type: 'shutdown', reason: 'bye'}],
		[{type: 'error', code: 'queue_full', message: 'm', fatal: false, ref: 'm1'}],
	])('accepts %j', message => {
		expect(parseRelayMessage(message)).toEqual(message);
	});

	it.each([
		['users not records', {type: 'welcome', username: 'b', users: ['alice'], motd: null}],
		['a negative more', {type: 'welcome', username: 'b', users: [], motd: null, more: -1}],
		['a directory without users', {type: 'directory'}],
		['a user record without online', {type: 'user_joined', user: {...user, online: undefined}}],
		['a user record with a bad binding length', {type: 'user_joined', user: {...user, binding: key32}}],
		['a welcome name with an escape sequence', {type: 'welcome', username: '\u001b]0;x\u0007', users: [], motd: null}],
		['a user name with a bidi override', {type: 'user_joined', user: {...user, username: 'ali\u202ece'}}],
		['a leaving name that is not a username', {type: 'user_left', username: 'Not Valid'}],
		['a sender that is not a username', {type: 'message', delivery: 1, from: 'SYSTEM', time: 1, ...envelope}],
		['a delivery of zero', {type: 'message', delivery: 0, from: 'alice', time: 1, ...envelope}],
		['motd a number', {type: 'welcome', username: 'b', users: [], motd: 3}],
		['an unknown error code', {type: 'error', code: 'oops', message: 'm', fatal: true, ref: null}],
		['fatal not a boolean', {type: 'error', code: 'bad_token', message: 'm', fatal: 'yes', ref: null}],
		['a time as a string', {type: 'accepted', id: 'm1', to: 'bob', time: '5'}],
		['an accepted without its recipient', {type: 'accepted', id: 'm1', time: 5}],
		['a message with both key fields', {type: 'message', delivery: 1, from: 'alice', time: 1, ...envelope, ratchet: headers[1]}],
		['a message with neither key field', {type: 'message', delivery: 1, from: 'alice', time: 1, ...keyless}],
		['a message with a 75-byte ratchet header', {type: 'message', delivery: 1, from: 'alice', time: 1, ...keyless, ratchet: 'A'.repeat(100)}],
		['a welcome with prekeys not an object', {type: 'welcome', username: 'bob', users: [], motd: null, online: [], onlineCount: 1, waiting: 0, prekeys: 3}],
		['a prekey_count without oneTime', {type: 'prekey_count', signed: null}],
		['a prekey_count with signed missing', {type: 'prekey_count', oneTime: 1}],
		['a bundle without a signed prekey', {type: 'bundle', id: 'q1', username: 'bob', oneTime: null}],
		['a bundle with oneTime missing', {type: 'bundle', id: 'q1', username: 'bob', signed}],
		['a bundle for a name that is not a username', {type: 'bundle', id: 'q1', username: 'Bob', signed, oneTime: null}],
		['a bundle with a short signature', {type: 'bundle', id: 'q1', username: 'bob', signed: {...signed, signature: key32}, oneTime: null}],
	])('rejects %s with bad_message', (_name, value) => {
		expect(rejection(parseRelayMessage, value)).toBe('bad_message');
	});
});

describe('usernames', () => {
	it('folds ASCII case only', () => {
		expect(foldUsername('AliCE_9')).toBe('alice_9');
		expect(foldUsername('ÉMILE')).toBe('Émile');
	});

	it.each([
		['alice', {ok: true, username: 'alice'}],
		['Bob-2', {ok: true, username: 'bob-2'}],
		['a'.repeat(32), {ok: true, username: 'a'.repeat(32)}],
	])('accepts %s', (name, result) => {
		expect(checkUsername(name)).toEqual(result);
	});

	it.each([
		['', 'invalid_username'],
		['a'.repeat(33), 'invalid_username'],
		['a b', 'invalid_username'],
		['a.b', 'invalid_username'],
		['ünïcode', 'invalid_username'],
		['alice\u202e', 'invalid_username'],
		['SYSTEM', 'reserved_username'],
		['everyone', 'reserved_username'],
	])('refuses %j with %s', (name, code) => {
		expect(checkUsername(name)).toMatchObject({ok: false, code});
	});
});

describe("the relay's own words", () => {
	test('a message of the day, an announcement, an error and a shutdown reason are cut at 2,000 characters', () => {
		const long = 'w'.repeat(150_000);
		const cut = `${'w'.repeat(maxRelayTextChars - 1)}…`;
		expect(parseRelayMessage({type: 'announcement', text: long, time: 1})).toEqual({type: 'announcement', text: cut, time: 1});
		expect(parseRelayMessage({type: 'shutdown', reason: long})).toEqual({type: 'shutdown', reason: cut});
		expect(parseRelayMessage({type: 'error', code: 'queue_full', message: long, fatal: false, ref: null})).toMatchObject({message: cut});
		expect(parseRelayMessage({type: 'welcome', username: 'amy', users: [], motd: long, online: [], onlineCount: 1, waiting: 0})).toMatchObject({motd: cut});
		expect(parseRelayMessage({type: 'announcement', text: `${'w'.repeat(maxRelayTextChars - 2)}🙂tail`, time: 1})).toEqual({type: 'announcement', text: `${'w'.repeat(maxRelayTextChars - 2)}…`, time: 1});
	});
});
