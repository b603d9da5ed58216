import {PassThrough} from 'node:stream';
import {describe, expect, test} from 'vitest';
import {parseCommand} from '../../source/json-mode/commands.js';
import {JsonSession} from '../../source/json-mode/json-session.js';
import {FakeRooms} from '../ui/fake-rooms.js';
import {waitFor} from '../helpers/wait-for.js';
import {FakeChat} from './fake-chat.js';

describe('room commands in --json', () => {
	test.each([
		['{"type":"create","room":"#Dev"}', {type: 'create', ref: null, room: 'dev', topic: ''}],
		['{"type":"create","room":"dev","topic":"builds","ref":1}', {type: 'create', ref: 1, room: 'dev', topic: 'builds'}],
		['{"type":"invite","room":"dev","user":"Bob"}', {type: 'invite', ref: null, room: 'dev', user: 'bob'}],
		['{"type":"kick","room":"#dev","user":"bob"}', {type: 'kick', ref: null, room: 'dev', user: 'bob'}],
		['{"type":"admin","room":"dev","user":"carol"}', {type: 'admin', ref: null, room: 'dev', user: 'carol'}],
		['{"type":"accept","room":"#dev"}', {type: 'accept', ref: null, room: 'dev'}],
		['{"type":"decline","room":"dev"}', {type: 'decline', ref: null, room: 'dev'}],
		['{"type":"leave","room":"dev"}', {type: 'leave', ref: null, room: 'dev'}],
		['{"type":"rekey","room":"dev"}', {type: 'rekey', ref: null, room: 'dev'}],
		['{"type":"topic","room":"dev","topic":""}', {type: 'topic', ref: null, room: 'dev', topic: ''}],
		['{"type":"rooms"}', {type: 'rooms', ref: null}],
		['{"type":"send","to":"#Dev","text":"hi"}', {type: 'send', ref: null, to: '#dev', text: 'hi'}],
		['{"type":"history","with":"#dev"}', {type: 'history', ref: null, with: '#dev', limit: 50}],
		['{"type":"forget","with":"#dev"}', {type: 'forget', ref: null, with: '#dev'}],
	])('%s', (line, command) => {
		expect(parseCommand(line)).toEqual({ok: true, command});
	});

	test.each([
		['{"type":"create"}', 'missing_field'],
		['{"type":"create","room":"#everyone"}', 'invalid_field'],
		['{"type":"create","room":"b@d"}', 'invalid_field'],
		['{"type":"create","room":"dev","topic":7}', 'invalid_field'],
		['{"type":"invite","room":"dev"}', 'missing_field'],
		['{"type":"invite","room":"dev","user":"system"}', 'invalid_field'],
		['{"type":"send","to":"#","text":"hi"}', 'invalid_field'],
		['{"type":"history","with":"#a b"}', 'invalid_field'],
	])('%s is refused: %s', (line, code) => {
		expect(parseCommand(line)).toMatchObject({ok: false, code});
	});

	test('room commands reach the client; its refusals and the room events come back as lines', async () => {
		const chat = new FakeChat() as FakeChat & {rooms: FakeRooms};
		chat.rooms = new FakeRooms();
		const input = new PassThrough();
		const output = new PassThrough();
		let out = '';
		output.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
		new JsonSession({connection: chat, username: 'alice', input, output, errors: new PassThrough()}).start();
		const lines = () => out.split('\n').filter(line => line !== '').map(line => JSON.parse(line) as Record<string, unknown>);
		const line = async (match: (line: Record<string, unknown>) => boolean) =>
			waitFor(() => {
				const found = lines().find(match);
				if (found === undefined) throw new Error(`no such line in:\n${out}`);
				return found;
			});
		await waitFor(() => expect(chat.calls).toContainEqual(['login', 'alice']));
		chat.welcome();

		input.write('{"type":"create","room":"dev","topic":"builds","ref":1}\n');
		expect(await line(each => each.ref === 1)).toEqual({type: 'requested', ref: 1, command: 'create', room: 'dev'});
		input.write('{"type":"send","to":"#dev","text":"hi room","ref":2}\n');
		expect(await line(each => each.ref === 2)).toEqual({type: 'sent', ref: 2, id: 'r1', to: '#dev'});
		chat.rooms.refuse.set('kick', 'you are not an admin of #dev');
		input.write('{"type":"kick","room":"dev","user":"bob","ref":3}\n');
		expect(await line(each => each.ref === 3)).toEqual({type: 'error', ref: 3, code: 'refused', message: 'you are not an admin of #dev'});
		chat.rooms.pending = [{room: 'qa', from: 'bob', time: 5}];
		input.write('{"type":"rooms","ref":4}\n');
		expect(await line(each => each.ref === 4)).toEqual({type: 'rooms', ref: 4, rooms: [], invites: [{room: 'qa', from: 'bob', time: 5}]});
		expect(chat.rooms.calls).toEqual(['create dev builds', 'send dev hi room', 'kick dev bob']);

		chat.emit('room-change', {room: 'dev', index: 0, seq: 1, author: 'alice', action: 'create', topic: 'builds', time: 7});
		chat.emit('room-accepted', {room: 'dev', id: 'r1', seq: 2, time: 8});
		chat.emit('room-message', {room: 'dev', seq: 3, id: 'x', from: 'bob', text: '\u001B[2Jhi', time: 9, sent: 9});
		chat.emit('room-delivered', {room: 'dev', id: 'r1', delivered: 1, of: 1});
		chat.emit('room-invite', {room: 'qa', from: 'bob', time: 10});
		await line(each => each.event === 'room-invite');
		const events = lines().filter(each => typeof each.event === 'string' && each.event.startsWith('room-'));
		expect(events).toEqual([
			{type: 'event', event: 'room-change', room: 'dev', index: 0, seq: 1, author: 'alice', action: 'create', topic: 'builds', time: 7},
			{type: 'event', event: 'room-accepted', room: 'dev', id: 'r1', seq: 2, time: 8},
			{type: 'event', event: 'room-message', room: 'dev', seq: 3, id: 'x', from: 'bob', text: '\u001B[2Jhi', time: 9, sent: 9},
			{type: 'event', event: 'room-delivered', room: 'dev', id: 'r1', delivered: 1, of: 1},
			{type: 'event', event: 'room-invite', room: 'qa', from: 'bob', time: 10},
		]);
		// Inert on the way: the escape is written escaped.
		expect(out).toContain(String.raw`"text":"\u001b[2Jhi"`);
	});
});
