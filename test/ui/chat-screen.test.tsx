import React from 'react';
import {describe, expect, test} from 'vitest';
import {App} from '../../source/components/app.js';
import type {Contact} from '../../source/client/client-events.js';
import {keys, press, submit} from '../helpers/keys.js';
import {renderApp, type AppView} from '../helpers/render-app.js';
import {waitFor} from '../helpers/wait-for.js';
import {contact, FakeConnection} from './fake-connection.js';
import {loggedInApp} from './logged-in-app.js';

/** The whole App over a scripted connection: what the person sees for each event. */
async function start(users: Contact[], size?: {columns: number; rows: number}) {
	const connection = new FakeConnection();
	const view = await loggedInApp(connection, users, size);
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

/** The log column, rows joined back where they wrapped. */
function log(view: AppView): string {
	const rows = (view.lastFrame() ?? '').split('\n');
	const statusRow = rows.findIndex(row => row.startsWith('['));
	return rows
		.slice(0, statusRow)
		.map(row => row.slice(row.indexOf('│') + 1).trim())
		.join(' ')
		.replace(/\s+/g, ' ');
}

describe('logging in over a scripted connection', () => {
	test('a drop after the login was sent and before the welcome: the name goes again when the relay asks again', async () => {
		const connection = new FakeConnection();
		const view = renderApp(<App host="h" port={1} username="alice" knownRelaysPath="/nonexistent/k.json" dataDir="/nonexistent" createConnection={() => connection} />);
		await waitFor(() => expect(connection.listenerCount('login-request')).toBe(1));
		connection.emit('status', 'login');
		connection.emit('login-request');
		await waitFor(() => expect(connection.logins).toEqual(['alice']));
		connection.emit('status', 'reconnecting');
		connection.emit('reconnecting', {attempt: 1, at: Date.now() + 500, code: 'closed', message: 'the relay closed the connection'});
		await waitFor(() => expect(view.lastFrame()).toContain('The connection ended before you were logged in'));
		connection.emit('status', 'login');
		connection.emit('login-request');
		await waitFor(() => expect(connection.logins).toEqual(['alice', 'alice']));
		// Refused: the person is asked, and the name is not sent by itself any more.
		connection.emit('login-error', {code: 'username_taken', message: 'alice is taken'});
		await waitFor(() => expect(view.lastFrame()).toContain('Username:'));
		connection.emit('login-request');
		await new Promise(resolve => {
			setImmediate(resolve);
		});
		expect(connection.logins).toEqual(['alice', 'alice']);
	});
});

describe('ChatScreen over a scripted connection', () => {
	test('a changed key: marked in the sidebar, warning in the conversation, nothing sent, /verify then y trusts and verifies', async () => {
		const {connection, view} = await start([contact('amy'), contact('bob')]);
		expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '› ● amy', '  ● bob']);
		connection.emit('contact-updated', contact('bob', {keyChanged: true}));
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '› ● amy', '  ● bob !']));
		expect(view.lastFrame()).toContain("bob's identity key changed: /verify bob, then /trust bob");

		await press(view, keys.down);
		await waitFor(() => expect(view.lastFrame()).toContain('to bob (key changed)>'));
		expect(log(view)).toContain(
			"=!= WARNING: bob's identity key changed. bob may have reinstalled, or someone may be impersonating bob. Nothing is sent to bob and messages from the new key are held; compare safety numbers with /verify bob, then /trust bob to accept.",
		);
		connection.emit('held', {from: 'bob', count: 2});
		await waitFor(() => expect(log(view)).toContain('=!= 2 messages from bob are held behind the key warning until you /trust bob.'));

		await submit(view, 'are you really bob?');
		await waitFor(() => expect(log(view)).toContain("=!= Not sent: bob's identity key changed. Compare safety numbers with /verify bob, then /trust bob to accept the new key."));
		expect(connection.sends).toEqual([]);
		expect(view.lastFrame()).toContain('are you really bob?');

		// The refused text stays in the input; clear it.
		for (let index = 0; index < 'are you really bob?'.length; index++) await press(view, '\u007F');
		await waitFor(() => expect(view.lastFrame()).not.toContain('are you really bob?'));
		await submit(view, '/verify Bob');
		await waitFor(() => expect(view.lastFrame()).toContain('Safety number of me1 and bob:'));
		expect(view.lastFrame()).toContain('0123 4567 89ab cdef 0123');
		expect(view.lastFrame()).toContain("bob's identity key changed: only a number that matches");
		await press(view, 'y');
		await waitFor(() => expect(connection.calls).toEqual(['safetyNumber bob', 'trust bob', 'setVerified bob true']));
		connection.emit('contact-updated', contact('bob', {verified: true}));
		await waitFor(() => expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '  ● amy', '› ● bob ✓']));
		expect(log(view)).toContain("-!- You accepted bob's new identity key; held messages follow.");
	});

	test('/verify: any key but y goes back and marks nothing; /unverify clears the mark', async () => {
		const {connection, view} = await start([contact('amy', {verified: true})]);
		expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '› ● amy ✓']);
		await submit(view, '/verify');
		await waitFor(() => expect(view.lastFrame()).toContain('Press y to mark amy verified; any other key goes back.'));
		await press(view, 'n');
		await waitFor(() => expect(view.lastFrame()).toContain('to amy>'));
		expect(connection.calls).toEqual(['safetyNumber amy']);
		await submit(view, '/unverify amy');
		await waitFor(() => expect(connection.calls).toEqual(['safetyNumber amy', 'setVerified amy false']));
	});

	test('message states: sending, stored, delivered; to everyone, how many confirmed', async () => {
		const {connection, view} = await start([contact('amy'), contact('bob')]);
		await submit(view, 'hi amy');
		await waitFor(() => expect(log(view)).toContain('<me1> hi amy …'));
		connection.emit('accepted', {id: 'id1', time: Date.now()});
		await waitFor(() => expect(log(view)).toContain('<me1> hi amy · stored'));
		connection.emit('delivered', {id: 'id1', by: 'amy'});
		await waitFor(() => expect(log(view)).toContain('<me1> hi amy ✓'));

		await press(view, keys.up);
		await waitFor(() => expect(view.lastFrame()).toContain('to # everyone>'));
		await submit(view, 'hi all');
		await waitFor(() => expect(log(view)).toContain('<me1> hi all …'));
		expect(connection.sends).toEqual([
			['amy', 'hi amy'],
			['#everyone', 'hi all'],
		]);
		connection.emit('accepted', {id: 'id2', time: Date.now()});
		connection.emit('delivered', {id: 'id2', by: 'bob'});
		await waitFor(() => expect(log(view)).toContain('<me1> hi all ✓ 1/2'));
		connection.emit('message', {id: 'm9', from: 'bob', to: 'me1', kind: 'everyone', text: 'hi from bob', time: Date.now(), sent: Date.now()});
		await waitFor(() => expect(log(view)).toContain('<bob> hi from bob'));
		connection.emit('relay-error', {code: 'queue_full', message: 'too many waiting', ref: 'id2'});
		await waitFor(() => expect(log(view)).toContain('=!= A copy of your message to everyone was refused by the relay: too many waiting (queue_full)'));
	});

	test('a relay error naming a message shows it failed with the relay’s reason', async () => {
		const {connection, view} = await start([contact('amy')]);
		await submit(view, 'too much');
		connection.emit('relay-error', {code: 'queue_full', message: 'amy has too many messages waiting', ref: 'id1'});
		await waitFor(() => expect(log(view)).toContain('<me1> too much ✗ not sent: amy has too many messages waiting (queue_full)'));
		expect(view.lastFrame()).toContain('not sent to amy: amy has too many messages waiting');
	});

	test('writing to an offline user says it will be delivered when they log in', async () => {
		const {view} = await start([contact('amy'), contact('carol', {online: false})]);
		expect(sidebar(view)).toEqual(['People', '  * status', '  # everyone', '› ● amy', '  ○ carol']);
		await press(view, keys.down);
		await waitFor(() => expect(view.lastFrame()).toContain('to carol (offline)>'));
		await submit(view, 'for later');
		await waitFor(() => expect(view.lastFrame()).toContain('carol is offline: the relay keeps it until carol logs in'));
	});

	// Finding 8: the status line kept "bob is offline" after bob came back, and after switching away.
	test('the offline notice goes when that person comes back, and when you look at another conversation', async () => {
		const {connection, view} = await start([contact('amy'), contact('carol', {online: false})]);
		await press(view, keys.down);
		await submit(view, 'for later');
		await waitFor(() => expect(view.lastFrame()).toContain('carol is offline'));
		connection.emit('user-joined', contact('carol'));
		await waitFor(() => expect(view.lastFrame()).toContain('to carol>'));
		expect(view.lastFrame()).not.toContain('carol is offline');

		connection.emit('user-left', 'carol');
		await submit(view, 'again later');
		await waitFor(() => expect(view.lastFrame()).toContain('carol is offline'));
		await press(view, keys.up + keys.up);
		await waitFor(() => expect(view.lastFrame()).toContain('to # everyone>'));
		expect(view.lastFrame()).not.toContain('carol is offline');
	});

	// Finding 9: a message written while the relay was down showed one time to its writer and another to its reader.
	test('a message shows when its author wrote it, not when the relay took it', async () => {
		const {connection, view} = await start([contact('amy')]);
		const written = new Date(2026, 0, 5, 23, 4, 30).getTime();
		connection.emit('message', {id: 'late', from: 'amy', to: 'me1', kind: 'direct', text: 'written offline', time: written + 60_000, sent: written});
		await waitFor(() => expect(log(view)).toContain('23:04 <amy> written offline'));
	});

	test('Alt+A jumps to the conversation with unread messages; the sidebar counts them', async () => {
		const {connection, view} = await start([contact('amy'), contact('bob')]);
		connection.emit('message', {id: 'b1', from: 'bob', to: 'me1', kind: 'direct', text: 'psst', time: Date.now(), sent: Date.now()});
		await waitFor(() => expect(sidebar(view)).toContain('  ● bob (1)'));
		expect(view.stdout.bells).toBe(1);
		await press(view, '\u001Ba');
		await waitFor(() => expect(view.lastFrame()).toContain('to bob>'));
		expect(log(view)).toContain('<bob> psst');
		expect(sidebar(view)).toContain('› ● bob');
	});

	test('PgUp and PgDn scroll the log; Ctrl+End returns to the newest; sending returns there too', async () => {
		const {connection, view} = await start([contact('amy')], {columns: 80, rows: 12});
		for (let index = 0; index < 40; index++) {
			connection.emit('message', {id: `m${index}`, from: 'amy', to: 'me1', kind: 'direct', text: `line ${String(index).padStart(2, '0')}`, time: Date.now(), sent: Date.now()});
		}

		await waitFor(() => expect(log(view)).toContain('line 39'));
		expect(log(view)).not.toContain('line 30');
		await press(view, keys.pageUp);
		await waitFor(() => expect(log(view)).toMatch(/lines below: PgDn scrolls down/));
		expect(log(view)).not.toContain('line 39');
		await press(view, keys.pageUp + keys.pageUp + keys.pageUp + keys.pageUp + keys.pageUp);
		await waitFor(() => expect(log(view)).toContain('line 00'));
		await press(view, keys.pageDown);
		await waitFor(() => expect(log(view)).not.toContain('line 00'));
		await press(view, keys.ctrlEnd);
		await waitFor(() => expect(log(view)).toContain('line 39'));
		expect(log(view)).not.toContain('lines below');
		await press(view, keys.ctrlHome);
		await waitFor(() => expect(log(view)).toContain('line 00'));
		await submit(view, 'back down');
		await waitFor(() => expect(log(view)).toContain('<me1> back down'));
		expect(log(view)).not.toContain('line 00');
	});

	test('the mouse wheel (reported with --mouse) scrolls the log three rows a notch', async () => {
		const {connection, view} = await start([contact('amy')], {columns: 80, rows: 12});
		for (let index = 0; index < 30; index++) {
			connection.emit('message', {id: `w${index}`, from: 'amy', to: 'me1', kind: 'direct', text: `wheel ${index}`, time: Date.now(), sent: Date.now()});
		}

		await waitFor(() => expect(log(view)).toContain('wheel 29'));
		await press(view, '\u001B[<64;40;5M');
		await waitFor(() => expect(log(view)).toMatch(/3 lines below/));
		await press(view, '\u001B[<65;40;5M');
		await waitFor(() => expect(log(view)).not.toContain('lines below'));
		expect(log(view)).toContain('wheel 29');
	});

	test('Down then PgUp in one read scrolls the conversation Down chose', async () => {
		const {connection, view} = await start([contact('amy'), contact('bob')], {columns: 80, rows: 12});
		for (let index = 0; index < 30; index++) {
			connection.emit('message', {id: `b${index}`, from: 'bob', to: 'me1', kind: 'direct', text: `bob ${index}`, time: Date.now(), sent: Date.now()});
		}

		await waitFor(() => expect(sidebar(view)).toContain('  ● bob (30)'));
		await press(view, keys.down + keys.pageUp);
		await waitFor(() => expect(log(view)).toMatch(/lines below: PgDn scrolls down/));
		expect(view.lastFrame()).toContain('to bob>');
		expect(log(view)).not.toContain('bob 29');
	});

	test('/fold off shows a long message whole; /fold on folds it again', async () => {
		const {connection, view} = await start([contact('amy')], {columns: 80, rows: 30});
		const long = Array.from({length: 20}, (_, index) => `row ${index}`).join('\n');
		connection.emit('message', {id: 'long', from: 'amy', to: 'me1', kind: 'direct', text: long, time: Date.now(), sent: Date.now()});
		await waitFor(() => expect(log(view)).toContain('… 20 lines, folded: /fold off shows all'));
		expect(log(view)).not.toContain('row 19');
		await submit(view, '/fold off');
		await waitFor(() => expect(log(view)).toContain('row 19'));
		await submit(view, '/fold');
		await waitFor(() => expect(log(view)).not.toContain('row 19'));
	});

	test('a line that is not a valid command stays in the input, with the reason', async () => {
		const {view} = await start([contact('amy')]);
		await press(view, '/nope keep this text\r');
		await waitFor(() => expect(log(view)).toContain('=!= Unknown command /nope; /help lists the commands.'));
		expect(view.lastFrame()).toContain('to amy> /nope keep this text');
	});

	test('Tab completes commands, and names of contacts and of people shown online, never of anyone else', async () => {
		const {connection, view} = await start([contact('amy'), contact('bob'), contact('bea', {online: false})]);
		connection.emit('online', {names: ['bill', 'me1'], total: 3, asked: false});
		await press(view, '/ver\t');
		await waitFor(() => expect(view.lastFrame()).toContain('to amy> /verify'));
		await press(view, 'b\t');
		await waitFor(() => expect(view.lastFrame()).toContain('to amy> /verify bea'));
		// Tab again: the next match; bill is shown online, not a contact; me1 (me) is not one.
		await press(view, '\t');
		await waitFor(() => expect(view.lastFrame()).toContain('to amy> /verify bill'));
		await press(view, '\t');
		await waitFor(() => expect(view.lastFrame()).toContain('to amy> /verify bob'));
		await press(view, '\t');
		await waitFor(() => expect(view.lastFrame()).toContain('to amy> /verify bea'));
	});

	test('a gap and a rejected envelope are system lines in the sender’s conversation', async () => {
		const {connection, view} = await start([contact('amy'), contact('bob')]);
		connection.emit('gap', {from: 'amy', missing: 3});
		connection.emit('rejected', {from: 'amy', code: 'unauthenticated', reason: 'it did not \u001B[2Jauthenticate'});
		connection.emit('gap', {from: 'bob', missing: 1});
		await waitFor(() => expect(log(view)).toContain('=!= 3 messages from amy never arrived: the relay withheld or lost them'));
		await waitFor(() => expect(log(view)).toContain('=!= A message from amy was rejected: it did not authenticate'));
		expect(log(view)).not.toContain('from bob');
		for (const frame of view.stdout.frames) expect(frame).not.toContain('\u001B[2J');
	});

	test('/help lists every command; a bad or unknown name gets a clear line', async () => {
		const {connection, view} = await start([contact('amy')], {columns: 140, rows: 50});
		await submit(view, '/help');
		for (const usage of ['/help', '/quit', '/verify NAME', '/unverify NAME', '/trust NAME', '/search WORDS', '/forget [NAME]', '/members [#ROOM]', '/rekey [#ROOM]']) {
			await waitFor(() => expect(log(view)).toContain(usage));
		}

		await submit(view, '/trust zed');
		await waitFor(() => expect(log(view)).toContain('=!= Nobody named zed is registered on this relay.'));
		await submit(view, '/verify b@d');
		await waitFor(() => expect(log(view)).toContain('=!= /verify NAME: "b@d" is not a username (1 to 32 of a-z, 0-9, _ and -).'));
		expect(connection.calls).toEqual([]);
	});

	test('many registered users: the sidebar scrolls with the selection', async () => {
		const users = Array.from({length: 40}, (_, index) => contact(`user${String(index).padStart(2, '0')}`, {online: index % 3 === 0}));
		const {view} = await start(users, {columns: 80, rows: 12});
		expect(sidebar(view)).toEqual(['People ↓34', '  * status', '  # everyone', '› ● user00', '  ○ user01', '  ○ user02', '  ● user03', '  ○ user04', '  ○ user05', '  ● user06'].slice(0, sidebar(view).length));
		for (let index = 0; index < 20; index++) await press(view, keys.down);
		await waitFor(() => expect(sidebar(view)).toContain('› ○ user20'));
		expect(sidebar(view)[0]).toMatch(/^People ↑\d+ ↓\d+$/);
		await press(view, keys.up);
		await waitFor(() => expect(sidebar(view)).toContain('› ○ user19'));
	});
});
