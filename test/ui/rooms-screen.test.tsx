import {describe, expect, test} from 'vitest';
import type {RoomView} from '../../source/hooks/rooms/room-api.js';
import {keys, press, submit} from '../helpers/keys.js';
import type {AppView} from '../helpers/render-app.js';
import {waitFor} from '../helpers/wait-for.js';
import {contact, FakeConnection} from './fake-connection.js';
import {loggedInApp} from './logged-in-app.js';

/** The whole App over a scripted connection with rooms: what the person sees of them. */

const view = (room: string, fields: Partial<RoomView> = {}): RoomView => ({
	room,
	topic: '',
	members: [
		{username: 'me1', admin: true},
		{username: 'amy', admin: false},
	],
	admins: ['me1'],
	creator: 'me1',
	index: 1,
	status: 'member',
	needsRekey: false,
	...fields,
});

async function start(rooms: RoomView[] = []) {
	const connection = new FakeConnection();
	connection.rooms.views = rooms;
	const app = await loggedInApp(connection, [contact('amy'), contact('bob')]);
	return {connection, app};
}

function rows(app: AppView): string[] {
	const all = (app.lastFrame() ?? '').split('\n');
	return all.slice(0, all.findIndex(row => row.startsWith('[')));
}

function sidebar(app: AppView): string[] {
	return rows(app)
		.map(row => /^(.*?)│/.exec(row)?.[1]?.trimEnd())
		.filter((cell): cell is string => cell !== undefined && cell !== '');
}

function log(app: AppView): string {
	return rows(app)
		.map(row => row.slice(row.indexOf('│') + 1).trim())
		.join(' ')
		.replace(/\s+/g, ' ');
}

function statusRow(app: AppView): string {
	return (app.lastFrame() ?? '').split('\n').find(row => row.startsWith('[')) ?? '';
}

const now = () => Date.now();



describe('rooms on screen', () => {
	test('rooms have a section of their own; Up/Down reach them; the status line shows members and topic', async () => {
		const {app} = await start([view('dev', {topic: 'ship \u001B[2Jfriday'})]);
		expect(sidebar(app)).toEqual(['People', '  * status', '  # everyone', '  rooms', '  #dev', '› ● amy', '  ● bob']);
		await press(app, keys.up);
		await waitFor(() => expect(app.lastFrame()).toContain('to #dev>'));
		expect(sidebar(app)).toContain('› #dev');
		// The topic is another person's words: sanitized.
		expect(statusRow(app)).toContain('#dev: 2 members · ship friday');
		expect(app.lastFrame()).not.toContain('\u001B[2J');
	});

	test('typing in a room sends to it: … then · stored then ✓ 1/1; messages of others arrive there, unread elsewhere', async () => {
		const {connection, app} = await start([view('dev')]);
		await press(app, keys.up);
		await waitFor(() => expect(app.lastFrame()).toContain('to #dev>'));
		await submit(app, 'hello room');
		await waitFor(() => expect(log(app)).toContain('<me1> hello room …'));
		expect(connection.rooms.calls).toEqual(['send dev hello room']);
		expect(connection.sends).toEqual([]);
		connection.emit('room-accepted', {room: 'dev', id: 'r1', seq: 4, time: now()});
		await waitFor(() => expect(log(app)).toContain('<me1> hello room · stored'));
		connection.emit('room-delivered', {room: 'dev', id: 'r1', delivered: 1, of: 1});
		await waitFor(() => expect(log(app)).toContain('<me1> hello room ✓ 1/1'));

		connection.emit('room-message', {room: 'dev', seq: 5, id: 'a1', from: 'amy', text: 'hi back', time: now(), sent: now()});
		await waitFor(() => expect(log(app)).toContain('<amy> hi back'));
		await press(app, keys.down);
		await waitFor(() => expect(app.lastFrame()).toContain('to amy>'));
		connection.emit('room-message', {room: 'dev', seq: 6, id: 'a2', from: 'amy', text: 'psst', time: now(), sent: now()});
		await waitFor(() => expect(sidebar(app)).toContain('  #dev (1)'));
	});

	test('/create makes the room and shows it; its changes are lines', async () => {
		const {connection, app} = await start();
		expect(sidebar(app)).toEqual(['People', '  * status', '  # everyone', '› ● amy', '  ● bob']);
		await submit(app, '/create #Ops build and deploy');
		await waitFor(() => expect(app.lastFrame()).toContain('#ops (not a member)>'));
		expect(connection.rooms.calls).toEqual(['create ops build and deploy']);
		expect(log(app)).toContain('-!- Creating #ops…');
		connection.rooms.views = [view('ops', {topic: 'build and deploy', members: [{username: 'me1', admin: true}]})];
		connection.emit('rooms', connection.rooms.views);
		connection.emit('room-change', {room: 'ops', index: 0, seq: 1, author: 'me1', action: 'create', topic: 'build and deploy', time: now()});
		await waitFor(() => expect(log(app)).toContain('--> me1 created #ops (topic: build and deploy)'));
		expect(app.lastFrame()).toContain('to #ops>');
		expect(statusRow(app)).toContain('#ops: 1 member · build and deploy');
		expect(sidebar(app)).toContain('› #ops');

		await submit(app, '/invite bob');
		await waitFor(() => expect(connection.rooms.calls).toContain('invite ops bob'));
		connection.emit('room-change', {room: 'ops', index: 1, seq: 2, author: 'me1', action: 'add', member: 'bob', time: now()});
		connection.emit('room-change', {room: 'ops', index: 2, seq: 3, author: 'me1', action: 'admin', member: 'bob', time: now()});
		connection.emit('room-change', {room: 'ops', index: 3, seq: 4, author: 'bob', action: 'leave', time: now()});
		connection.emit('room-change', {room: 'ops', index: 4, seq: 5, author: 'me1', action: 'rekey', time: now()});
		await waitFor(() => expect(log(app)).toContain("-!- me1 renewed the room's keys"));
		expect(log(app)).toContain('--> me1 added bob');
		expect(log(app)).toContain('-!- me1 made bob an admin');
		expect(log(app)).toContain('<-- bob left');
	});

	test('what the client refuses comes back as a line, never a crash; commands that need a room say so', async () => {
		const {connection, app} = await start([view('dev')]);
		await submit(app, '/kick bob');
		await waitFor(() => expect(log(app)).toContain('=!= /kick is about a room: name it (#ROOM), or choose the room first.'));
		connection.rooms.refuse.set('kick', 'you are not an admin of #dev');
		await submit(app, '/kick #dev bob');
		await waitFor(() => expect(log(app)).toContain('=!= /kick #dev: you are not an admin of #dev'));
		await press(app, keys.up);
		await waitFor(() => expect(app.lastFrame()).toContain('to #dev>'));
		await submit(app, '/invite #dev b@d');
		await waitFor(() => expect(log(app)).toContain('/invite [#ROOM] NAME: "b@d" is not a username'));
		// A command refused by the parser stays in the input to be corrected: clear it.
		for (let index = 0; index < '/invite #dev b@d'.length; index++) await press(app, '\u007F');
		connection.emit('room-error', {room: 'dev', code: 'not_room_admin', message: 'only an admin can do that'});
		await waitFor(() => expect(log(app)).toContain('=!= #dev: only an admin can do that (not_room_admin)'));
		connection.rooms.refuse.set('send', 'you are not a member of #dev');
		await submit(app, 'anyone?');
		await waitFor(() => expect(log(app)).toContain('=!= Not sent: you are not a member of #dev'));
	});

	test('/members lists them with the admins marked; /topic, /admin, /rekey, /leave ask the client', async () => {
		const {connection, app} = await start([view('dev', {members: [{username: 'me1', admin: true}, {username: 'bob', admin: false}, {username: 'amy', admin: true}]})]);
		await press(app, keys.up);
		await waitFor(() => expect(app.lastFrame()).toContain('to #dev>'));
		await submit(app, '/members');
		await waitFor(() => expect(log(app)).toContain('-!- #dev: 3 members (@ an admin): @amy, bob, @me1'));
		await submit(app, '/topic new plans');
		await submit(app, '/admin bob');
		await submit(app, '/rekey');
		await submit(app, '/leave');
		await waitFor(() => expect(connection.rooms.calls).toEqual(['topic dev new plans', 'admin dev bob', 'rekey dev', 'leave dev']));
	});

	test('an invitation: a line saying what to type, marked in the sidebar; /accept asks the client and opens the room', async () => {
		const {connection, app} = await start();
		connection.emit('room-invite', {room: 'qa', from: 'bob', time: now()});
		await waitFor(() => expect(sidebar(app)).toContain('  #qa invited (1)'));
		expect(app.stdout.bells).toBe(1);
		await submit(app, '/accept #qa');
		await waitFor(() => expect(app.lastFrame()).toContain('#qa (invited: /accept or /decline)>'));
		expect(connection.rooms.calls).toEqual(['accept qa']);
		expect(log(app)).toContain('-!- bob invites you to #qa — /accept #qa or /decline #qa');
		connection.emit('rooms', [view('qa')]);
		await waitFor(() => expect(app.lastFrame()).toContain('to #qa>'));
		expect(sidebar(app)).toContain('› #qa');
	});

	test('/decline drops the mark; a refused room message is a warning line', async () => {
		const {connection, app} = await start();
		connection.emit('room-invite', {room: 'qa', from: 'bob', time: now()});
		await waitFor(() => expect(sidebar(app)).toContain('  #qa invited (1)'));
		await submit(app, '/decline #qa');
		await waitFor(() => expect(sidebar(app)).not.toContain('  #qa invited (1)'));
		expect(connection.rooms.calls).toEqual(['decline qa']);
		connection.emit('room-rejected', {room: 'qa', from: 'bob', code: 'forged', reason: 'the signature is not bob\u2019s'});
		await press(app, keys.up);
		await waitFor(() => expect(log(app)).toContain('=!= A message from bob in #qa was refused: the signature is not bob\u2019s'));
	});
});
