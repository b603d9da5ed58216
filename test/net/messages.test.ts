import {describe, expect, it} from 'vitest';
import {ProtocolError} from '../../source/net/error-codes.js';
import {parseClientMessage, parseRelayMessage} from '../../source/net/messages.js';
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

describe('parseClientMessage', () => {
	it.each([
		[{type: 'login', username: 'alice'}],
		[{type: 'send', id: 'a-B_9', to: 'bob', text: ''}],
		[{type: 'bye'}],
		[{type: 'ping', nonce: 0}],
		[{type: 'pong', nonce: 12}],
	])('accepts %j', message => {
		expect(parseClientMessage(message)).toEqual(message);
	});

	it('drops unknown fields, such as a spoofed sender', () => {
		expect(parseClientMessage({type: 'send', id: 'm', to: 'bob', text: 'x', from: 'alice'})).toEqual({
			type: 'send',
			id: 'm',
			to: 'bob',
			text: 'x',
		});
	});

	it.each([
		['null', null],
		['an array', [{type: 'bye'}]],
		['a string', 'bye'],
		['no type', {}],
		['an unknown type', {type: 'message'}],
		['a numeric username', {type: 'login', username: 1}],
		['a missing text', {type: 'send', id: 'm', to: 'bob'}],
		['an id with a space', {type: 'send', id: 'a b', to: 'bob', text: ''}],
		['an empty id', {type: 'send', id: '', to: 'bob', text: ''}],
		['a 65-character id', {type: 'send', id: 'a'.repeat(65), to: 'bob', text: ''}],
		['a negative nonce', {type: 'ping', nonce: -1}],
		['a fractional nonce', {type: 'ping', nonce: 1.5}],
		['a string nonce', {type: 'ping', nonce: '1'}],
		['a relay-only type', {type: 'welcome', username: 'a', users: [], motd: null}],
	])('rejects %s with bad_message', (_name, value) => {
		expect(rejection(parseClientMessage, value)).toBe('bad_message');
	});
});

describe('parseRelayMessage', () => {
	it.each([
		[{type: 'login_request'}],
		[{type: 'welcome', username: 'bob', users: ['alice'], motd: null}],
		[{type: 'welcome', username: 'bob', users: [], motd: 'hi'}],
		[{type: 'user_joined', username: 'x'}],
		[{type: 'message', id: 'm1', from: 'a', to: 'b', text: 't', time: 1}],
		[{type: 'sent', id: 'm1', time: 5}],
		[{type: 'announcement', text: 'x', time: 5}],
		[{type: 'shutdown', reason: 'bye'}],
		[{type: 'error', code: 'recipient_offline', message: 'm', fatal: false, ref: 'm1'}],
	])('accepts %j', message => {
		expect(parseRelayMessage(message)).toEqual(message);
	});

	it.each([
		['users not all strings', {type: 'welcome', username: 'b', users: [1], motd: null}],
		['motd a number', {type: 'welcome', username: 'b', users: [], motd: 3}],
		['an unknown error code', {type: 'error', code: 'oops', message: 'm', fatal: true, ref: null}],
		['fatal not a boolean', {type: 'error', code: 'bad_token', message: 'm', fatal: 'yes', ref: null}],
		['a time as a string', {type: 'sent', id: 'm1', time: '5'}],
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
