import {describe, expect, test} from 'vitest';
import type {RoomView} from '../../source/hooks/rooms/room-api.js';
import {encodeLine} from '../../source/json-mode/encode-line.js';
import {keys, press} from '../helpers/keys.js';
import {waitFor} from '../helpers/wait-for.js';
import {contact, FakeConnection} from '../ui/fake-connection.js';
import {loggedInApp} from '../ui/logged-in-app.js';

/**
 * Attack: another member writes a topic, a message, a change, with terminal escapes (OSC 52 to
 * the clipboard, a screen clear, 8-bit CSI), bidi overrides, line breaks and huge lengths, and a
 * relay names rooms and members as it likes. Nothing of it may reach the terminal as a control,
 * move the frame, or crash the screen.
 */
const hostile = `a\u001B]52;c;ZXZpbA==\u0007b\u001B[2J\u009B31mc\u202Ed\u2066e\r\nf\u2028g\u0085h\u0000i\u00ADj`;
const controls = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\u2028\u2029]/;
const width = 100;

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

describe('attack: hostile text in rooms', () => {
	test('topics, messages, change lines and bad names reach the screen inert, the frame as wide as the terminal', async () => {
		const connection = new FakeConnection();
		connection.rooms.views = [view('dev', {topic: `${hostile}${'\u754C'.repeat(5000)}`}), view('\u001B[2Jbad'), view('x'.repeat(5000))];
		const app = await loggedInApp(connection, [contact('amy')], {columns: width, rows: 30});
		await press(app, keys.up);
		await waitFor(() => expect(app.lastFrame()).toContain('to #dev>'));
		const now = Date.now();
		connection.emit('room-message', {room: 'dev', seq: 5, id: 'a1', from: 'amy', text: `${hostile}${'w'.repeat(70_000)}`, time: now, sent: now});
		connection.emit('room-message', {room: 'dev', seq: 6, id: 'a2', from: '\u001B[2Jamy', text: 'forged sender', time: now, sent: now});
		connection.emit('room-change', {room: 'dev', index: 2, seq: 7, author: 'me1', action: 'topic', topic: hostile, time: now});
		connection.emit('room-change', {room: 'dev', index: 3, seq: 8, author: 'amy\u202E', action: 'add', member: '\u001B]0;x\u0007', time: now});
		connection.emit('room-invite', {room: 'evil\u001B[2J', from: 'amy', time: now});
		connection.emit('room-message', {room: 'dev', seq: 9, id: 'a3', from: 'amy', text: 'last one', time: now, sent: now});
		await waitFor(() => expect(app.lastFrame()).toContain('last one'));
		const frame = app.lastFrame() ?? '';
		expect(frame).not.toMatch(controls);
		expect(frame).not.toContain('forged sender');
		expect(frame).not.toContain('bad');
		expect(frame).not.toContain('xxxxxxxx');
		expect(frame).toContain('set the topic: ab');
		for (const row of frame.split('\n')) expect(row.length).toBeLessThanOrEqual(width * 2);
	});

	test('--json lines carry the same text escaped: one line each, no control', () => {
		const line = encodeLine({type: 'room-message', room: 'dev', text: hostile, topic: hostile});
		expect(line.slice(0, -1)).not.toMatch(controls);
		expect(line.indexOf('\n')).toBe(line.length - 1);
		expect(JSON.parse(line)).toMatchObject({text: hostile});
	});
});
