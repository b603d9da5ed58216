import {describe, expect, test} from 'vitest';
import type {Contact, HistoryEntry} from '../../source/client/client-events.js';
import {keys, press, submit} from '../helpers/keys.js';
import type {AppView} from '../helpers/render-app.js';
import {waitFor} from '../helpers/wait-for.js';
import {contact, FakeConnection} from './fake-connection.js';
import {loggedInApp} from './logged-in-app.js';
import {keepConversation} from './kept-history.js';

/** A FakeConnection that remembers the largest page of history any read returned. */
class CountingConnection extends FakeConnection {
	largestPage = 0;
	rowsRead = 0;
	override history(conversation: string, options: {before?: number; limit: number}): HistoryEntry[] {
		return this.#count(super.history(conversation, options));
	}

	override historyFrom(conversation: string, seq: number, limit: number): HistoryEntry[] {
		return this.#count(super.historyFrom(conversation, seq, limit));
	}

	#count(page: HistoryEntry[]): HistoryEntry[] {
		this.largestPage = Math.max(this.largestPage, page.length);
		this.rowsRead += page.length;
		return page;
	}
}

/** The App logged in as me1 over `connection`, whose kept history the test filled first (an earlier run). */
async function start(connection: FakeConnection, users: Contact[], size = {columns: 100, rows: 30}) {
	const view = await loggedInApp(connection, users, size);
	return view;
}

function screenRows(view: AppView): string[] {
	const rows = (view.lastFrame() ?? '').split('\n');
	return rows.slice(0, rows.findIndex(row => row.startsWith('[')));
}

const sidebar = (view: AppView) => screenRows(view).map(row => /^(.*?)│/.exec(row)?.[1]?.trimEnd() ?? '');
const log = (view: AppView) => screenRows(view).map(row => row.slice(row.indexOf('│') + 1).trim());
/** The log column, rows joined back where they wrapped. */
const logText = (view: AppView) => log(view).join(' ').replace(/\s+/g, ' ');

describe('the history kept on this device, on screen', () => {
	test('after login the kept conversations are in the sidebar, and the most recent opens with its messages as they were', async () => {
		const connection = new FakeConnection();
		keepConversation(connection.kept, 'zed', 'me1', 2);
		keepConversation(connection.kept, 'amy', 'me1', 6);
		connection.kept.delivered('amy-kept-6', 'amy');
		connection.kept.stored('amy-kept-4', Date.now());
		const view = await start(connection, [contact('bob')]);
		expect(sidebar(view).filter(cell => cell !== '')).toEqual(['People', '  * status', '  # everyone', '› ○ amy', '  ● bob', '  ○ zed']);
		const shown = log(view).join('\n');
		expect(shown).toMatch(/^Mar 03 (2024 )?09:01 <amy> old 1$/m);
		expect(shown).toMatch(/09:02 <me1> old 2 · waiting to be sent\n/);
		expect(shown).toMatch(/09:04 <me1> old 4 · stored\n/);
		expect(shown).toMatch(/09:06 <me1> old 6 ✓/);
		// A message arriving now comes after them, once.
		connection.emit('message', {id: 'new1', from: 'amy', to: 'me1', kind: 'direct', text: 'back again', time: Date.now(), sent: Date.now()});
		connection.kept.received({id: 'new1', from: 'amy', to: 'me1', kind: 'direct', text: 'back again', time: Date.now(), sent: Date.now()});
		await waitFor(() => expect(log(view).join('\n')).toMatch(/old 6 ✓\n\d\d:\d\d <amy> back again/));
		expect(log(view).join('\n').match(/back again/g)).toHaveLength(1);
		// The other conversation opens with its own.
		await press(view, keys.down);
		await press(view, keys.down);
		await waitFor(() => expect(log(view).join('\n')).toMatch(/<zed> old 1\n.*<me1> old 2/));
	});

	test('PgUp reaches back through 1,000 kept messages, read a page at a time', async () => {
		const connection = new CountingConnection();
		keepConversation(connection.kept, 'amy', 'me1', 1000);
		const view = await start(connection, [contact('amy')]);
		await waitFor(() => expect(log(view).join('\n')).toContain('<me1> old 1000'));
		expect(log(view).join('\n')).not.toContain('old 1\n');
		for (let page = 0; page < 60 && !log(view).some(row => /<amy> old 1$/.test(row)); page++) {
			const before = log(view).join('\n');
			await press(view, keys.pageUp);
			await waitFor(() => expect(log(view).join('\n')).not.toBe(before));
		}

		expect(log(view).some(row => /<amy> old 1$/.test(row))).toBe(true);
		expect(log(view).join('\n')).toMatch(/lines below/);
		expect(connection.largestPage).toBeLessThanOrEqual(500);
		// Ctrl+End: the newest again.
		await press(view, keys.ctrlEnd);
		await waitFor(() => expect(log(view).join('\n')).toContain('<me1> old 1000'));
	});

	test('/search shows the matches, newest first, marked; Enter opens the conversation at the message; Esc closes', async () => {
		const connection = new FakeConnection();
		keepConversation(connection.kept, 'amy', 'me1', 300);
		connection.kept.received({id: 'p1', from: 'bob', to: 'me1', kind: 'direct', text: 'the Pineapple \u001B[31mpizza', time: Date.now() - 5000, sent: Date.now() - 5000});
		connection.kept.received({id: 'p2', from: 'amy', to: 'me1', kind: 'direct', text: 'pineapples again', time: Date.now() - 4000, sent: Date.now() - 4000});
		// Deep in amy's history: far from what opens.
		const deep = connection.kept.search('old 37', 1)[0]!;
		expect(deep.text).toBe('old 37');
		const view = await start(connection, [contact('amy'), contact('bob')]);
		await submit(view, '/search nothing-like-it');
		await waitFor(() => expect(logText(view)).toContain('Nothing found for "nothing-like-it": no message kept on this device holds every word.'));

		await submit(view, '/search pineapple');
		await waitFor(() => expect(log(view).join('\n')).toContain('Search "pineapple": 2 messages, newest first'));
		const results = log(view).filter(row => row.includes('pineapple') || row.includes('Pineapple'));
		expect(results[1]).toMatch(/amy\s+<amy> pineapples again$/);
		expect(results[2]).toMatch(/bob\s+<bob> the Pineapple pizza$/);
		expect(view.lastFrame()).not.toContain('\u001B[31mpizza');
		await press(view, keys.down);
		await press(view, keys.enter);
		await waitFor(() => expect(view.lastFrame()).toContain('to bob>'));
		expect(log(view).join('\n')).toContain('<bob> the Pineapple pizza');

		await submit(view, '/search old 37');
		await waitFor(() => expect(log(view).join('\n')).toContain('Search "old 37"'));
		await press(view, '\u001B');
		await waitFor(() => expect(log(view).join('\n')).not.toContain('Search "old 37"'));
		await submit(view, '/search old 37');
		await waitFor(() => expect(log(view).join('\n')).toContain('Search "old 37"'));
		await press(view, keys.enter);
		await waitFor(() => expect(view.lastFrame()).toContain('to amy>'));
		await waitFor(() => expect(log(view).some(row => /<amy> old 37$/.test(row))).toBe(true));
		expect(log(view).join('\n')).toContain('lines below');
	});

	test('/forget asks first, then the kept messages go from the screen and the status line says how many', async () => {
		const connection = new FakeConnection();
		keepConversation(connection.kept, 'amy', 'me1', 40);
		const view = await start(connection, [contact('amy')]);
		await waitFor(() => expect(log(view).join('\n')).toContain('<me1> old 40'));
		await submit(view, '/forget');
		await waitFor(() => expect(logText(view)).toContain('Repeat /forget amy within 10 s to confirm.'));
		expect(connection.calls).toEqual([]);
		await submit(view, '/forget amy');
		await waitFor(() => expect(connection.calls).toEqual(['forget amy']));
		await waitFor(() => expect(log(view).join('\n')).not.toContain('old 40'));
		expect(view.lastFrame()).toContain("Deleted 40 messages of amy from this device; amy's copy is theirs.");
		expect(connection.history('amy', {limit: 10})).toEqual([]);

		await press(view, keys.up);
		await waitFor(() => expect(view.lastFrame()).toContain('to # everyone>'));
		await press(view, keys.up);
		await submit(view, '/forget');
		await waitFor(() => expect(logText(view)).toContain('The status view keeps nothing on this device'));
	});
});
