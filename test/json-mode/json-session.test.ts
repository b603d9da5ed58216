import {PassThrough} from 'node:stream';
import {describe, expect, test} from 'vitest';
import {JsonSession, type JsonSessionLimits} from '../../source/json-mode/json-session.js';
import {flushEffects, waitFor} from '../helpers/wait-for.js';
import {FakeChat} from './fake-chat.js';

type Line = Record<string, unknown>;

function start(limits: Partial<JsonSessionLimits> = {}) {
	const chat = new FakeChat();
	const input = new PassThrough();
	const output = new PassThrough();
	const errors = new PassThrough();
	let out = '';
	let err = '';
	output.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
	errors.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
	const session = new JsonSession({connection: chat, username: 'alice', input, output, errors, limits}).start();
	const lines = () => out.split('\n').filter(line => line !== '').map(line => JSON.parse(line) as Line);
	const send = (line: string | Buffer) => input.write(typeof line === 'string' ? `${line}\n` : line);
	/** Waits for the line after the `count` already seen that matches. */
	const nextLine = async (match: Partial<Line>, after = 0) =>
		waitFor(() => {
			const found = lines()
				.slice(after)
				.find(line => Object.entries(match).every(([key, value]) => JSON.stringify(line[key]) === JSON.stringify(value)));
			if (found === undefined) throw new Error(`no line ${JSON.stringify(match)} in:\n${out}`);
			return found;
		});
	return {chat, input, session, lines, send, nextLine, stderr: () => err, raw: () => out};
}

describe('JsonSession over a scripted connection', () => {
	test('logs in as --user, answers every command with its ref, and quit closes with exit 0', async () => {
		const run = start();
		await waitFor(() => expect(run.chat.calls).toContainEqual(['login', 'alice']));
		run.chat.welcome();
		await run.nextLine({type: 'event', event: 'welcome'});

		run.send('{"type":"send","to":"bob","text":"hi\\u001b[2J","ref":1}');
		expect(await run.nextLine({type: 'sent'})).toEqual({type: 'sent', ref: 1, id: 'id1', to: 'bob'});
		expect(run.chat.calls).toContainEqual(['send', 'bob', 'hi\u001b[2J']);

		run.send('{"type":"send","to":"#everyone","text":"all","ref":"e"}');
		expect(await run.nextLine({ref: 'e'})).toEqual({type: 'sent', ref: 'e', id: 'id2', to: '#everyone', recipients: ['bob']});

		run.send('{"type":"send","to":"carol","text":"who?","ref":2}');
		expect(await run.nextLine({ref: 2})).toMatchObject({type: 'error', code: 'not_a_contact'});

		run.send('{"type":"history","with":"bob","limit":5,"ref":3}');
		const history = await run.nextLine({ref: 3});
		expect(history).toMatchObject({type: 'history', with: 'bob'});
		expect(history.messages).toEqual(run.chat.kept);

		run.send('{"type":"search","words":"text 2","ref":4}');
		expect(await run.nextLine({ref: 4})).toMatchObject({type: 'search', words: 'text 2', messages: [{seq: 2}]});

		run.send('{"type":"lookup","names":["Carol"],"ref":5}');
		expect(await run.nextLine({ref: 5})).toEqual({type: 'lookup', ref: 5, ids: ['lookup1']});
		expect(run.chat.calls).toContainEqual(['lookup', 'carol']);

		run.send('{"type":"trust","user":"bob","ref":6}');
		expect(await run.nextLine({ref: 6})).toEqual({type: 'trusted', ref: 6, user: 'bob'});
		run.send('{"type":"trust","user":"zed","ref":7}');
		expect(await run.nextLine({ref: 7})).toEqual({type: 'error', ref: 7, code: 'refused', message: 'zed is not a contact'});

		run.send('{"type":"who","ref":8}');
		run.send('{"type":"who","ref":9}');
		await waitFor(() => expect(run.chat.calls.filter(call => call[0] === 'who')).toHaveLength(2));
		run.chat.emit('online', {names: ['bob'], total: 2, asked: false});
		run.chat.emit('online', {names: ['bob', 'carol'], total: 3, asked: true});
		expect(await run.nextLine({ref: 8})).toEqual({type: 'who', ref: 8, names: ['bob', 'carol'], total: 3});
		expect(await run.nextLine({ref: 9})).toEqual({type: 'who', ref: 9, names: ['bob', 'carol'], total: 3});
		expect(run.lines()).toContainEqual({type: 'event', event: 'online', names: ['bob'], total: 2});

		run.send('{"type":"forget","with":"bob","ref":10}');
		expect(await run.nextLine({ref: 10})).toEqual({type: 'forgot', ref: 10, with: 'bob', count: 2});

		// What was sent is settled before quitting: quit waits for the relay to take it.
		run.send('{"type":"quit"}');
		await flushEffects();
		expect(run.chat.calls).not.toContainEqual(['close']);
		run.chat.emit('accepted', {id: 'receipt', time: 1});
		run.chat.emit('accepted', {id: 'id1', time: 1});
		// Not taken for now: the copy goes again by itself, and quitting still waits for it.
		run.chat.emit('relay-error', {code: 'rate_limited', message: 'slow down', ref: 'id2'});
		await flushEffects();
		expect(run.chat.calls).not.toContainEqual(['close']);
		run.chat.emit('accepted', {id: 'id2', time: 2});
		expect(await run.session.done).toBe(0);
		const accepted = run.lines().filter(line => line.event === 'accepted');
		expect(accepted).toEqual([
			{type: 'event', event: 'accepted', id: 'id1', time: 1},
			{type: 'event', event: 'accepted', id: 'id2', time: 2},
		]);
		expect(run.lines().at(-1)).toEqual({type: 'event', event: 'closed', code: 'closed', message: 'you left'});
		expect(run.stderr()).toBe('');
	});

	test('events reach stdout as one line each; message text stays raw, escaped', async () => {
		const run = start();
		run.chat.welcome();
		const text = 'evil\u001b]0;title\u0007\n\u009b2J\u2028';
		run.chat.emit('message', {id: 'm9', from: 'bob', to: 'alice', kind: 'direct', text, time: 5, sent: 4});
		run.chat.emit('delivered', {id: 'id1', by: 'bob'});
		run.chat.emit('user-left', 'bob');
		run.chat.emit('status', 'online');
		expect(await run.nextLine({event: 'message'})).toEqual({type: 'event', event: 'message', id: 'm9', from: 'bob', to: 'alice', kind: 'direct', text, time: 5, sent: 4});
		expect(await run.nextLine({event: 'user-left'})).toEqual({type: 'event', event: 'user-left', username: 'bob'});
		expect(run.lines().some(line => line.event === 'status')).toBe(false);
		expect(run.raw()).not.toMatch(/[\u001b\u0007\u009b\u2028]/);
		expect(run.raw().split('\n').filter(Boolean)).toHaveLength(run.lines().length);
	});

	test('commands read before the first welcome wait for it, in order; end of input then quits', async () => {
		const run = start();
		run.send('{"type":"send","to":"bob","text":"early","ref":"a"}');
		run.send('{"type":"bogus"}');
		run.input.end();
		expect(await run.nextLine({code: 'unknown_command'})).toMatchObject({type: 'error', ref: null});
		expect(run.chat.calls.some(call => call[0] === 'send')).toBe(false);
		run.chat.welcome();
		expect(await run.nextLine({ref: 'a'})).toMatchObject({type: 'sent', to: 'bob'});
		run.chat.emit('accepted', {id: 'id1', time: 1});
		expect(await run.session.done).toBe(0);
	});

	test('bad lines get an error line each and the session goes on', async () => {
		const run = start({maxLineBytes: 1024});
		run.chat.welcome();
		run.send('not json');
		run.send(Buffer.from([0xff, 0x00, 0x1b, 0x5b, 0x0a]));
		run.send('x'.repeat(5000));
		run.send('[]');
		run.send('');
		run.send('{"type":"who","ref":"last"}');
		await waitFor(() => expect(run.chat.calls).toContainEqual(['who']));
		expect(run.lines().filter(line => line.type === 'error').map(line => line.code)).toEqual(['invalid_json', 'invalid_json', 'line_too_long', 'invalid_command']);
		expect(run.chat.status).toBe('online');
	});

	test('an unknown relay is refused with exit 3 and a sentence naming --trust', async () => {
		const run = start();
		let answer: boolean | undefined;
		run.chat.emit('relay-unknown', run.chat.relay!, trust => {
			answer = trust;
			run.chat.end('refused_relay', 'you did not trust the relay');
		});
		expect(await run.session.done).toBe(3);
		expect(answer).toBe(false);
		expect(run.stderr()).toMatch(/^im-tui: the relay at 127\.0\.0\.1:5000 is not known on this device \(fingerprint (ab){32}\).*--trust FINGERPRINT\n$/);
	});

	test.each([
		['passphrase_required', 5],
		['wrong_passphrase', 5],
		['account_in_use', 5],
		['username_taken', 4],
	])('login-error %s: the reason on stderr, exit %i', async (code, exit) => {
		const run = start();
		run.chat.emit('login-error', {code: code as never, message: `because ${code}`});
		expect(await run.session.done).toBe(exit);
		expect(run.stderr()).toBe(`im-tui: because ${code}\n`);
	});

	test('input that ends while the relay cannot be reached ends the process (exit 1), with the reason', async () => {
		const run = start();
		run.chat.status = 'reconnecting';
		run.chat.emit('reconnecting', {attempt: 1, at: Date.now() + 500, code: 'connect_failed', message: 'could not reach 127.0.0.1:5000 (ECONNREFUSED)'});
		run.input.end();
		expect(await run.session.done).toBe(1);
		expect(run.stderr()).toContain('could not reach 127.0.0.1:5000 (ECONNREFUSED)');
	});

	test('quit() (a signal) closes cleanly before the first welcome too', async () => {
		const run = start();
		run.session.quit();
		expect(await run.session.done).toBe(0);
		expect(run.chat.calls).toContainEqual(['close']);
	});
});
