import {PassThrough} from 'node:stream';
import {describe, expect, test} from 'vitest';
import {JsonSession, type JsonSessionLimits} from '../../source/json-mode/json-session.js';
import {waitFor} from '../helpers/wait-for.js';
import {FakeChat} from './fake-chat.js';

function start(limits: Partial<JsonSessionLimits> = {}) {
	const chat = new FakeChat();
	const input = new PassThrough();
	const output = new PassThrough();
	const errors = new PassThrough();
	const chunks: Buffer[] = [];
	output.on('data', (chunk: Buffer) => chunks.push(chunk));
	const session = new JsonSession({connection: chat, username: 'alice', input, output, errors, limits}).start();
	const raw = () => Buffer.concat(chunks);
	const lines = () =>
		raw()
			.toString('utf8')
			.split('\n')
			.filter(line => line !== '')
			.map(line => JSON.parse(line) as Record<string, unknown>);
	return {chat, input, session, raw, lines};
}

// Raw in an output line, any of these can break a line reader, act on a terminal that shows the
// output (tail -f, a log viewer), or reorder what a person reads there.
const unsafeRaw = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u2028\u2029\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF\uFFFD]/;

describe('attack: --json output and input bounds', () => {
	test("a peer's message text, author-side fields and a relay error's words come out as one inert line each", async () => {
		const run = start();
		await waitFor(() => expect(run.chat.calls).toContainEqual(['login', 'alice']));
		run.chat.welcome();
		const hostile = 'a\nb\r\u001B[2J\u0085c\u2028d\u2029e\u009B31m\u202Eevil\u2066x\u2069\uFEFF\u200F \uD800 lone \uDC00 \u007F';
		run.chat.emit('message', {id: 'm1', from: 'bob', to: 'alice', kind: 'direct', text: hostile, time: 1, sent: 1});
		run.chat.emit('relay-error', {code: 'x\u001B', message: hostile, ref: null} as never);
		run.chat.emit('announcement', {text: hostile, time: 1} as never);
		await waitFor(() => expect(run.lines().filter(line => line.event === 'message')).toHaveLength(1));
		await waitFor(() => expect(run.lines().filter(line => line.event === 'announcement')).toHaveLength(1));
		const out = run.raw().toString('utf8');
		// Valid UTF-8, nothing of the list raw.
		expect(Buffer.from(out, 'utf8').equals(run.raw())).toBe(true);
		for (const line of out.split('\n')) expect(line).not.toMatch(unsafeRaw);
		// And the text is what the peer wrote, once parsed.
		expect(run.lines().find(line => line.event === 'message')!.text).toBe(hostile);
		run.session.quit();
		expect(await run.session.done).toBe(0);
	});

	test('commands pipelined before the first login: past the limit the rest of a read waits unparsed, and all are answered in order after the welcome (limit 10)', async () => {
		const run = start({maxQueuedCommands: 10});
		await waitFor(() => expect(run.chat.calls).toContainEqual(['login', 'alice']));
		const text = 'x'.repeat(60_000);
		// One chunk holding 2,000 commands, as a fast writer's pipe can deliver (64 KiB a read on Linux, more from a file).
		run.input.write(Array.from({length: 2000}, (_, index) => `{"type":"history","with":"bob","ref":${index}}`).join('\n') + '\n');
		// Then 200 sends of 60 KB each.
		for (let index = 0; index < 200; index++) run.input.write(`{"type":"send","to":"bob","text":"${text}","ref":"s${index}"}\n`);
		await new Promise(resolve => setTimeout(resolve, 200));
		run.chat.welcome();
		await waitFor(() => expect(run.lines().filter(line => line.type === 'history').length).toBeGreaterThan(0));
		await new Promise(resolve => setTimeout(resolve, 200));
		const answered = run.lines().filter(line => line.ref !== undefined && line.type !== 'event');
		const histories = answered.filter(line => line.type === 'history');
		expect(histories.map(line => line.ref)).toEqual(Array.from({length: 2000}, (_, index) => index));
	});

	test('input that ends while lines wait unparsed before the first login: they are answered after the welcome, then the session quits', async () => {
		const run = start({maxQueuedCommands: 2});
		await waitFor(() => expect(run.chat.calls).toContainEqual(['login', 'alice']));
		run.input.end(Array.from({length: 6}, (_, index) => `{"type":"history","with":"bob","ref":${index}}`).join('\n') + '\n');
		await new Promise(resolve => setTimeout(resolve, 100));
		run.chat.welcome();
		expect(await run.session.done).toBe(0);
		expect(run.lines().filter(line => line.type === 'history').map(line => line.ref)).toEqual([0, 1, 2, 3, 4, 5]);
	});

	test('bad commands answer an error each and never end the process', async () => {
		const run = start();
		await waitFor(() => expect(run.chat.calls).toContainEqual(['login', 'alice']));
		run.chat.welcome();
		const bad = [
			'{"type":"history","with":"bob","limit":1e9,"ref":1}',
			'{"type":"history","with":"bob","limit":-1,"ref":2}',
			'{"type":"history","with":"bob","before":1e300,"ref":3}',
			'{"type":"history","with":"__proto__","ref":4}',
			'{"type":"history","with":"#everyone","limit":1.5,"ref":5}',
			`{"type":"search","words":"${'a '.repeat(600)}","ref":6}`,
			'{"type":"search","words":"\\ud800","ref":7}',
			'{"type":"__proto__","ref":8}',
			'{"type":"constructor","ref":9}',
			'{"__proto__":{"type":"quit"},"ref":10}',
			'{"type":"send","to":"bob","text":"\\u0000","ref":{"x":1}}',
			'{"type":"lookup","names":["a","__proto__","constructor"],"ref":11}',
			'{"type":"send","to":"#EVERYONE","text":"x","ref":12}',
			'{"type":"trust","user":"toString","ref":13}',
			'[1,2]',
			'"quit"',
			'{"type":"nope","extra":' + '['.repeat(5000) + ']'.repeat(5000) + '}',
		];
		for (const line of bad) run.input.write(line + '\n');
		run.input.write(Buffer.from([0xff, 0xfe, 0x0a]));
		run.input.write('{"type":"who","ref":"alive"}\n');
		await waitFor(() => expect(run.chat.calls.some(call => call[0] === "who")).toBe(true)).catch(() => console.log(run.raw().toString("utf8").slice(0, 3000), run.chat.calls.slice(-3)));
		const answers = run.lines().filter(line => line.type !== 'event');
		console.log(JSON.stringify(answers.map(line => [line.ref, line.type, line.code ?? ''])));
		expect(answers.length).toBe(bad.length + 1);
		run.session.quit();
		expect(await run.session.done).toBe(0);
	});
});
