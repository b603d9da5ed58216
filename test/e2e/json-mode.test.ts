import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ChatClient} from '../../source/client/chat-client.js';
import {next} from '../helpers/chat.js';
import {spawnJsonClient, type JsonClient} from '../helpers/json-client.js';
import {spawnRelay, type RelayProcess} from '../helpers/relay-process.js';
import {tempDir} from '../helpers/temp-dir.js';

// The built client in --json mode, over pipes, against a real relay process on 127.0.0.1: what a
// script or a bot sees.

const waitMs = 15_000;
let relay: RelayProcess;
let bob: ChatClient;

beforeAll(async () => {
	relay = await spawnRelay(['--data-dir', join(tempDir(), 'relay')]);
	bob = new ChatClient({host: '127.0.0.1', port: relay.port, knownRelaysPath: join(tempDir(), 'known_relays.json'), dataDir: tempDir(), trustFingerprint: relay.fingerprint});
	const asked = next(bob, 'login-request', waitMs);
	bob.connect();
	await asked;
	const welcomed = next(bob, 'welcome', waitMs);
	bob.login('bob');
	await welcomed;
});

afterAll(async () => {
	await bob?.close();
	relay?.child.kill('SIGTERM');
	await relay?.exited;
});

function alice(home: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, user = 'alice'): JsonClient {
	return spawnJsonClient(relay.port, home, ['--user', user, '--trust', relay.fingerprint, ...args], env);
}

async function quit(client: JsonClient): Promise<number | null> {
	client.send({type: 'quit'});
	return client.exited;
}

describe('im-tui --json against a real relay', () => {
	it('sends to bob and reads his reply; after a restart, history has both with their delivery state; search finds one; forget removes them', {timeout: 60_000}, async () => {
		const home = tempDir();
		const first = alice(home);
		const welcome = await first.waitLine({type: 'event', event: 'welcome'});
		expect(welcome).toMatchObject({username: 'alice'});

		const received = next(bob, 'message', waitMs);
		first.send({type: 'send', to: 'bob', text: 'hello bob, the coffee plan', ref: 'm1'});
		const sent = await first.waitLine({type: 'sent', ref: 'm1'});
		expect(sent).toMatchObject({to: 'bob', id: expect.any(String)});
		const [message] = await received;
		expect(message).toMatchObject({from: 'alice', text: 'hello bob, the coffee plan', id: sent.id});
		await first.waitLine({type: 'event', event: 'accepted', id: sent.id});
		await first.waitLine({type: 'event', event: 'delivered', id: sent.id, by: 'bob'});

		const reply = 'hi alice \u001b[31mred\u001b[0m\nsecond line';
		bob.send('alice', reply);
		const heard = await first.waitLine({type: 'event', event: 'message', from: 'bob'});
		expect(heard).toMatchObject({to: 'alice', kind: 'direct', text: reply});
		expect(first.stdout()).not.toContain('\u001b');
		expect(await quit(first)).toBe(0);
		expect(first.lines().at(-1)).toMatchObject({type: 'event', event: 'closed', code: 'closed'});
		expect(first.stderr()).toBe('');

		const again = alice(home);
		await again.waitLine({type: 'event', event: 'welcome'});
		again.send({type: 'history', with: 'bob', ref: 'h'});
		const history = await again.waitLine({type: 'history', ref: 'h'});
		expect(history.messages).toEqual([
			expect.objectContaining({direction: 'out', author: 'alice', conversation: 'bob', text: 'hello bob, the coffee plan', id: sent.id, delivery: {state: 'delivered'}}),
			expect.objectContaining({direction: 'in', author: 'bob', conversation: 'bob', text: reply}),
		]);

		const [, second] = history.messages as Array<{seq: number}>;
		again.send({type: 'history', with: 'bob', before: second!.seq, ref: 'older'});
		expect((await again.waitLine({type: 'history', ref: 'older'})).messages).toHaveLength(1);

		again.send({type: 'search', words: 'COFF', ref: 's'});
		const search = await again.waitLine({type: 'search', ref: 's'});
		expect(search.messages).toEqual([expect.objectContaining({id: sent.id})]);

		again.send({type: 'forget', with: 'bob', ref: 'f'});
		expect(await again.waitLine({type: 'forgot', ref: 'f'})).toEqual({type: 'forgot', ref: 'f', with: 'bob', count: 2});
		again.send({type: 'history', with: 'bob', ref: 'h2'});
		expect((await again.waitLine({type: 'history', ref: 'h2'})).messages).toEqual([]);
		again.send({type: 'search', words: 'coffee', ref: 's2'});
		expect((await again.waitLine({type: 'search', ref: 's2'})).messages).toEqual([]);

		// stdin's end is a quit too.
		again.child.stdin.end();
		expect(await again.exited).toBe(0);
	});

	it('a table of bad lines: an error line each, with its code, and the process goes on', {timeout: 60_000}, async () => {
		const client = alice(tempDir(), [], {}, 'carol');
		await client.waitLine({type: 'event', event: 'welcome'});
		const bad: Array<[string | Buffer, string]> = [
			['not json at all', 'invalid_json'],
			['{"type":"send","to":"bob"', 'invalid_json'],
			[Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 0x07, 0xc3]), 'invalid_json'],
			['[1,2,3]', 'invalid_command'],
			['null', 'invalid_command'],
			['{"text":"no type"}', 'invalid_command'],
			['{"type":"explode"}', 'unknown_command'],
			['{"type":"send","to":"bob"}', 'missing_field'],
			['{"type":"send","to":"bo b","text":"x"}', 'invalid_field'],
			['{"type":"history","with":"bob","limit":-1}', 'invalid_field'],
			['{"type":"lookup","names":[]}', 'invalid_field'],
			[`{"type":"send","to":"bob","text":"${'a'.repeat(1024 * 1024)}"}`, 'line_too_long'],
			['{"type":"send","to":"nobody","text":"x"}', 'not_a_contact'],
			[`{"type":"send","to":"bob","text":"${'a'.repeat(9000)}"}`, 'refused'],
		];
		for (const [line] of bad) client.send(line);
		client.send({type: 'who', ref: 'still-up'});
		const answer = await client.waitLine({type: 'who', ref: 'still-up'});
		expect(answer.names).toEqual(expect.arrayContaining(['bob']));
		expect(client.lines().filter(line => line.type === 'error').map(line => line.code)).toEqual(bad.map(([, code]) => code));
		expect(await quit(client)).toBe(0);
	});

	it('--keep-history off: a message goes out and nothing is kept', {timeout: 30_000}, async () => {
		const client = alice(tempDir(), ['--keep-history', 'off'], {}, 'frank');
		await client.waitLine({type: 'event', event: 'welcome'});
		client.send({type: 'send', to: 'bob', text: 'not kept', ref: 1});
		const sent = await client.waitLine({type: 'sent', ref: 1});
		await client.waitLine({type: 'event', event: 'accepted', id: sent.id});
		client.send({type: 'history', with: 'bob', ref: 'h'});
		expect((await client.waitLine({type: 'history', ref: 'h'})).messages).toEqual([]);
		expect(await quit(client)).toBe(0);
	});

	it('an unknown relay without --trust: a sentence on stderr, exit 3', async () => {
		const client = spawnJsonClient(relay.port, tempDir(), ['--user', 'dave']);
		expect(await client.exited).toBe(3);
		expect(client.stderr()).toContain(`is not known on this device (fingerprint ${relay.fingerprint})`);
		expect(client.stderr()).toContain('--trust FINGERPRINT');
	});

	it('--passphrase-file encrypts the account; without it, or with a wrong one, exit 5 with a sentence; IM_TUI_PASSPHRASE opens it', {timeout: 60_000}, async () => {
		const home = tempDir();
		const secret = 'correct horse battery staple';
		const file = join(tempDir(), 'passphrase');
		writeFileSync(file, `${secret}\n`, {mode: 0o600});
		const first = alice(home, ['--passphrase-file', file], {}, 'erin');
		await first.waitLine({type: 'event', event: 'welcome'});
		first.send({type: 'send', to: 'bob', text: 'sealed on disk', ref: 1});
		await first.waitLine({type: 'event', event: 'accepted'});
		expect(await quit(first)).toBe(0);
		const database = readFileSync(join(home, 'data', 'im-tui', relay.fingerprint, 'erin', 'account.db'));
		expect(database.subarray(0, 16).toString('latin1')).not.toBe('SQLite format 3\0');
		expect(database.includes('sealed on disk')).toBe(false);

		const without = alice(home, [], {}, 'erin');
		expect(await without.exited).toBe(5);
		expect(without.stderr()).toMatch(/^im-tui: .*is encrypted: give its passphrase/);

		const wrongFile = join(tempDir(), 'wrong');
		writeFileSync(wrongFile, 'not it\n', {mode: 0o600});
		// The flag wins over the variable, even when the variable holds the right one.
		const wrong = alice(home, ['--passphrase-file', wrongFile], {IM_TUI_PASSPHRASE: secret}, 'erin');
		expect(await wrong.exited).toBe(5);
		expect(wrong.stderr()).toMatch(/^im-tui: wrong passphrase/);

		const byVariable = alice(home, [], {IM_TUI_PASSPHRASE: secret}, 'erin');
		await byVariable.waitLine({type: 'event', event: 'welcome'});
		byVariable.send({type: 'search', words: 'sealed', ref: 's'});
		expect((await byVariable.waitLine({type: 'search', ref: 's'})).messages).toEqual([expect.objectContaining({text: 'sealed on disk'})]);
		expect(await quit(byVariable)).toBe(0);

		for (const client of [first, without, wrong, byVariable]) {
			expect(client.stdout() + client.stderr()).not.toContain(secret);
			expect(client.stdout() + client.stderr()).not.toContain('not it');
		}
	});
});
