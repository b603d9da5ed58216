import {performance} from 'node:perf_hooks';
import {describe, expect, test} from 'vitest';
import type {Contact} from '../../source/client/client-events.js';
import type {History} from '../../source/client/history.js';
import {keys, press, submit} from '../helpers/keys.js';
import type {AppView} from '../helpers/render-app.js';
import {waitFor} from '../helpers/wait-for.js';
import {contact, FakeConnection} from './fake-connection.js';
import {loggedInApp} from './logged-in-app.js';

async function start(connection: FakeConnection, users: Contact[], size = {columns: 100, rows: 30}) {
	const view = await loggedInApp(connection, users, size);
	return view;
}

/** Every frame written, SGR colouring (Ink's own) taken out: nothing else of the control range may remain. */
function assertInert(view: AppView) {
	const frame = (view.lastFrame() ?? '').replace(/\u001B\[[0-9;]*m/g, '');
	expect(frame).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/);
}

const db = (kept: History) => (kept as unknown as {db: {transaction<T>(fn: () => T): () => T}}).db;

const hostileTexts = [
	'\u001B]0;owned\u0007title \u001B[2J\u001B[Hclear',
	'\u009B31mC1 csi \u009D0;x\u009C osc',
	'pine\u001Bapple split escape',
	'\u001B\u001B[31m[31mpineapple doubled ESC',
	'pine\u202Eelppa\u202C bidi \u2066isolate\u2069 \u200Fmark',
	'pine\u200Dapple zero width joiner 👩‍👩‍👧 family',
	'pineapple\u2028line separator\u2029para\u0085nel',
	'e\u0301\u0301\u0301 pinéapple combining',
	'\u001BP+q544e\u001B\\ dcs pineapple',
	'tab\tpineapple\u000Bvt\u000Cff\rcr',
];

describe('attack: kept history reaching the screen', () => {
	test('hostile text kept from a peer and from #everyone, after a restart and in /search, draws no control', async () => {
		const connection = new FakeConnection();
		const t = Date.now() - 100_000;
		hostileTexts.forEach((text, index) => {
			connection.kept.received({id: `h${index}`, from: 'amy', to: 'me1', kind: 'direct', text, time: t + index, sent: t + index});
			connection.kept.received({id: `e${index}`, from: 'bob', to: 'me1', kind: 'everyone', text, time: t + 50 + index, sent: t + 50 + index});
		});
		const view = await start(connection, [contact('amy'), contact('bob')]);
		await waitFor(() => expect(view.lastFrame()).toContain('clear'));
		assertInert(view);
		for (let step = 0; step < 3; step++) {
			await press(view, keys.down);
			await waitFor(() => assertInert(view));
		}
		for (const words of ['pineapple', 'pine', 'e', 'apple split', 'owned', '31m', 'e\u0301']) {
			await submit(view, `/search ${words}`);
			await waitFor(() => expect(view.lastFrame()).toMatch(/Search "|Nothing found/));
			assertInert(view);
			await press(view, '\u001B');
			await waitFor(() => expect(view.lastFrame()).not.toMatch(/Search "/));
		}
		// Jump to each result of the pineapple search: the conversation opens at a hostile line.
		await submit(view, '/search pineapple');
		await waitFor(() => expect(view.lastFrame()).toContain('Search "pineapple"'));
		await press(view, keys.enter);
		await waitFor(() => expect(view.lastFrame()).not.toContain('Search "pineapple"'));
		assertInert(view);
	});

	test("odd stored rows: '__proto__'/'constructor' conversations, 8 KiB of combining marks, a future-dated row", async () => {
		const connection = new FakeConnection();
		const now = Date.now();
		for (const name of ['__proto__', 'constructor', 'hasownproperty', 'tostring']) {
			connection.kept.received({id: `p-${name}`, from: name, to: 'me1', kind: 'direct', text: `hi from ${name}`, time: now - 1000, sent: now - 1000});
		}
		const marks = 'a' + '\u0301'.repeat(8191);
		connection.kept.received({id: 'marks', from: 'amy', to: 'me1', kind: 'direct', text: marks, time: now - 500, sent: now - 500});
		connection.kept.received({id: 'marks2', from: 'amy', to: 'me1', kind: 'direct', text: '\u0301'.repeat(8192), time: now - 400, sent: now - 400});
		connection.kept.received({id: 'zwj', from: 'amy', to: 'me1', kind: 'direct', text: '\u200D'.repeat(8192), time: now - 300, sent: now - 300});
		connection.kept.received({id: 'far', from: 'amy', to: 'me1', kind: 'direct', text: 'far future', time: 8.64e15, sent: 8.64e15});
		connection.kept.received({id: 'neg', from: 'amy', to: 'me1', kind: 'direct', text: 'far past', time: -8.64e15, sent: -8.64e15});
		connection.kept.received({id: 'nan', from: 'amy', to: 'me1', kind: 'direct', text: 'beyond', time: 9e15, sent: 9e15});
		const started = performance.now();
		const view = await start(connection, [contact('amy')]);
		await waitFor(() => expect(view.lastFrame()).toContain('beyond'));
		console.log(`odd rows: first frame with them ${(performance.now() - started).toFixed(0)} ms`);
		assertInert(view);
		for (let step = 0; step < 5; step++) {
			await press(view, keys.down);
			await waitFor(() => assertInert(view));
		}
		const searchStart = performance.now();
		await submit(view, '/search a');
		await waitFor(() => expect(view.lastFrame()).toContain('Search "a"'));
		console.log(`odd rows: /search a ${(performance.now() - searchStart).toFixed(0)} ms`);
		await press(view, keys.enter);
		await submit(view, '/search from');
		await waitFor(() => expect(view.lastFrame()).toContain('Search "from"'));
		assertInert(view);
	});

	test('10,000 kept conversations: login, moving down the sidebar', async () => {
		const connection = new FakeConnection();
		const t = Date.now() - 1_000_000;
		db(connection.kept).transaction(() => {
			for (let index = 0; index < 10_000; index++) {
				connection.kept.received({id: `c${index}`, from: `u${index}`, to: 'me1', kind: 'direct', text: `hello ${index}`, time: t + index, sent: t + index});
			}
		})();
		const started = performance.now();
		const view = await start(connection, [contact('amy')]);
		console.log(`10,000 conversations: login to first frame ${(performance.now() - started).toFixed(0)} ms`);
		const times: number[] = [];
		for (let step = 0; step < 10; step++) {
			const before = view.lastFrame();
			const at = performance.now();
			await press(view, keys.down);
			await waitFor(() => expect(view.lastFrame()).not.toBe(before));
			times.push(performance.now() - at);
		}
		console.log(`10,000 conversations: Down ${times.map(each => each.toFixed(0)).join(' ')} ms`);
		const at = performance.now();
		await submit(view, '/search hello');
		await waitFor(() => expect(view.lastFrame()).toContain('Search "hello"'));
		console.log(`10,000 conversations: /search hello ${(performance.now() - at).toFixed(0)} ms`);
		assertInert(view);
	}, 60_000);

	test('100,000 kept messages: PgUp, Ctrl+Home, PgDn, Ctrl+End', async () => {
		const connection = new FakeConnection();
		const t = Date.now() - 10_000_000;
		const fill = performance.now();
		db(connection.kept).transaction(() => {
			for (let index = 1; index <= 100_000; index++) {
				connection.kept.received({id: `m${index}`, from: 'amy', to: 'me1', kind: 'direct', text: `msg ${index} ${index % 7 === 0 ? 'long '.repeat(40) : ''}`, time: t + index * 10, sent: t + index * 10});
			}
		})();
		console.log(`100,000: filled in ${(performance.now() - fill).toFixed(0)} ms`);
		const started = performance.now();
		const view = await start(connection, [contact('amy')]);
		await waitFor(() => expect(view.lastFrame()).toContain('msg 100000'));
		console.log(`100,000: login to newest shown ${(performance.now() - started).toFixed(0)} ms`);
		const timed = async (label: string, key: string, count = 1) => {
			const times: number[] = [];
			for (let step = 0; step < count; step++) {
				const before = view.lastFrame();
				const at = performance.now();
				await press(view, key);
				await waitFor(() => expect(view.lastFrame()).not.toBe(before), {timeoutMs: 30_000});
				times.push(performance.now() - at);
			}
			console.log(`100,000: ${label} ${times.map(each => each.toFixed(0)).join(' ')} ms`);
		};
		await timed('PgUp x5', keys.pageUp, 5);
		await timed('Ctrl+Home', keys.ctrlHome);
		await waitFor(() => expect(view.lastFrame()).toMatch(/msg 1\b/));
		await timed('PgDn x5', keys.pageDown, 5);
		await timed('Ctrl+End', keys.ctrlEnd);
		await waitFor(() => expect(view.lastFrame()).toContain('msg 100000'));
		await timed('PgUp x3 after End', keys.pageUp, 3);
		// Type a key in the input while scrolled up: is each keypress cheap?
		await timed('typing x5', 'x', 5);
		assertInert(view);
	}, 120_000);
});
