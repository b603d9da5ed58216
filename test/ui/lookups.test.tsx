import React from 'react';
import {describe, expect, test} from 'vitest';
import {App} from '../../source/components/app.js';
import type {Contact} from '../../source/client/client-events.js';
import {keys, press, submit} from '../helpers/keys.js';
import {renderApp, type AppView} from '../helpers/render-app.js';
import {waitFor} from '../helpers/wait-for.js';
import {contact, FakeConnection} from './fake-connection.js';

const ctrlG = '\u0007';

async function start(users: Contact[], online: string[] = []) {
	const connection = new FakeConnection();
	const view = renderApp(
		<App host="h" port={1} username="me1" knownRelaysPath="/nonexistent/known_relays.json" dataDir="/nonexistent" createConnection={() => connection} />,
	);
	await waitFor(() => expect(connection.listenerCount('login-request')).toBe(1));
	connection.status = 'online';
	connection.emit('status', 'online');
	connection.emit('welcome', {username: 'me1', users, motd: null, online, onlineCount: 12, waiting: 3});
	await waitFor(() => expect(view.lastFrame()).toContain('you: me1'));
	return {connection, view};
}

function sidebar(view: AppView): string[] {
	const rows = (view.lastFrame() ?? '').split('\n');
	const statusRow = rows.findIndex(row => row.startsWith('['));
	return rows
		.slice(0, statusRow)
		.map(row => /^(.*?)│/.exec(row)?.[1]?.trimEnd())
		.filter((cell): cell is string => cell !== undefined && cell !== '');
}

function log(view: AppView): string {
	const rows = (view.lastFrame() ?? '').split('\n');
	const statusRow = rows.findIndex(row => row.startsWith('['));
	return rows
		.slice(0, statusRow)
		.map(row => row.slice(row.indexOf('│') + 1).trim())
		.join(' ')
		.replace(/\s+/g, ' ');
}

describe('finding people by name', () => {
	test('the welcome says how many are online and how many messages waited; the sidebar lists contacts, then who is online now', async () => {
		const {view} = await start([contact('amy'), contact('bob', {online: false})], ['zoe', 'amy', 'me1']);
		expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '› ● amy', '  ○ bob', '  online now', '  ● zoe']);
		await press(view, keys.up);
		await press(view, keys.up);
		await waitFor(() => expect(view.lastFrame()).toContain('status>'));
		expect(log(view)).toContain('Logged in as me1. 11 other people are online; 3 messages were waiting for you.');
	});

	test('/msg NAME text looks a stranger up, opens the conversation once found and sends the text', async () => {
		const {connection, view} = await start([contact('amy')]);
		await submit(view, '/msg Carol  hello   there');
		expect(connection.lookups).toEqual([['carol']]);
		await waitFor(() => expect(log(view)).toContain('Looking up carol on the relay…'));
		expect(connection.sends).toEqual([]);
		connection.emit('found', {id: 'lookup1', reason: 'user', users: [contact('carol')], missing: []});
		await waitFor(() => expect(view.lastFrame()).toContain('to carol>'));
		expect(connection.sends).toEqual([['carol', 'hello   there']]);
		expect(sidebar(view)).toContain('› ● carol');
	});

	test('/msg a contact opens it at once, without a lookup', async () => {
		const {connection, view} = await start([contact('amy'), contact('bob')]);
		await submit(view, '/msg bob');
		await waitFor(() => expect(view.lastFrame()).toContain('to bob>'));
		expect(connection.lookups).toEqual([]);
	});

	test('/msg an unknown name says nobody has it; a throttled lookup says how long to wait', async () => {
		const {connection, view} = await start([contact('amy')]);
		await submit(view, '/msg nobody hi');
		connection.emit('found', {id: 'lookup1', reason: 'user', users: [], missing: ['nobody']});
		await waitFor(() => expect(log(view)).toContain('Nobody is registered as nobody on this relay. Your message was not sent.'));
		await submit(view, '/msg dan');
		connection.emit('lookup-failed', {id: 'lookup2', names: ['dan'], reason: 'user', code: 'lookup_throttled', message: 'looked up too many names: try again in 6 min\u001B[2J'});
		await waitFor(() => expect(log(view)).toContain('Could not look up dan now, you looked up too many people: looked up too many names: try again in 6 min'));
		for (const frame of view.stdout.frames) expect(frame).not.toContain('\u001B[2J');
		await submit(view, '/msg system');
		await waitFor(() => expect(log(view)).toContain('/msg NAME [text]: "system" is reserved, nobody has it.'));
		expect(connection.sends).toEqual([]);
	});

	test('/who asks the relay and lists its answer in the status view', async () => {
		const {connection, view} = await start([contact('amy')]);
		await submit(view, '/who');
		expect(connection.whos).toBe(1);
		connection.emit('online', {names: ['zoe', 'yan'], total: 14, asked: true});
		await waitFor(() => expect(log(view)).toContain('14 people are online, you included. Logged in last: zoe, yan.'));
		expect(view.lastFrame()).toContain('status>');
	});

	test('Ctrl+G filters the sidebar as you type; Enter opens the first match; Esc closes the search', async () => {
		const {connection, view} = await start([contact('amy'), contact('bob'), contact('bea', {online: false})], ['bill']);
		await press(view, ctrlG);
		await waitFor(() => expect(sidebar(view)[0]).toBe('/ ▏'));
		await press(view, 'b');
		await waitFor(() => expect(sidebar(view)).toEqual(['/ b▏', '› ○ bea', '  ● bob', '  ● bill']));
		await press(view, 'o');
		await waitFor(() => expect(sidebar(view)).toEqual(['/ bo▏', '› ● bob']));
		await press(view, keys.enter);
		await waitFor(() => expect(view.lastFrame()).toContain('to bob>'));
		expect(sidebar(view)[0]).toBe('People');
		// Typed while the search is closed, text goes to the input line again.
		await press(view, ctrlG);
		await press(view, 'zz');
		await waitFor(() => expect(sidebar(view)).toEqual(['/ zz▏', '  Enter: look up zz']));
		await press(view, '\u001B');
		await waitFor(() => expect(sidebar(view)[0]).toBe('People'));
		expect(connection.lookups).toEqual([]);
	});

	test('Enter in the search looks up someone shown online, or a name nothing matches, and opens the conversation once found', async () => {
		const {connection, view} = await start([contact('amy')], ['bill']);
		await press(view, ctrlG);
		await press(view, 'bi');
		await waitFor(() => expect(sidebar(view)).toEqual(['/ bi▏', '› ● bill']));
		await press(view, keys.enter);
		await waitFor(() => expect(connection.lookups).toEqual([['bill']]));
		await press(view, ctrlG);
		await press(view, 'Dora');
		await waitFor(() => expect(sidebar(view)).toEqual(['/ Dora▏', '  Enter: look up dora']));
		await press(view, keys.enter);
		await waitFor(() => expect(connection.lookups).toEqual([['bill'], ['dora']]));
		connection.emit('found', {id: 'lookup2', reason: 'user', users: [contact('dora', {online: false})], missing: []});
		await waitFor(() => expect(view.lastFrame()).toContain('to dora (offline)>'));
	});

	test('a message typed to someone shown online is sent once they are looked up', async () => {
		const {connection, view} = await start([contact('amy')], ['zoe']);
		await press(view, keys.down);
		await waitFor(() => expect(view.lastFrame()).toContain('to zoe'));
		await submit(view, 'hi zoe');
		expect(connection.lookups).toEqual([['zoe']]);
		connection.emit('found', {id: 'lookup1', reason: 'user', users: [contact('zoe')], missing: []});
		await waitFor(() => expect(connection.sends).toEqual([['zoe', 'hi zoe']]));
	});
});
