import {PassThrough} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {JsonSession} from '../../source/json-mode/json-session.js';
import {newClient, relayForTest, type RelayAddress} from '../helpers/chat.js';
import {waitFor} from '../helpers/wait-for.js';

type Line = Record<string, unknown>;

/** One --json session over a real ChatClient: what a bot sees, without a process of its own. */
function jsonUser(relay: RelayAddress, username: string) {
	const input = new PassThrough();
	const output = new PassThrough();
	let out = '';
	output.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
	const session = new JsonSession({connection: newClient(relay), username, input, output, errors: new PassThrough()}).start();
	const lines = () => out.split('\n').filter(line => line !== '').map(line => JSON.parse(line) as Line);
	const matches = (line: Line, match: Line) => Object.entries(match).every(([key, value]) => JSON.stringify(line[key]) === JSON.stringify(value));
	return {
		session,
		send: (command: Line) => input.write(`${JSON.stringify(command)}\n`),
		lines,
		async line(match: Line): Promise<Line> {
			return waitFor(
				() => {
					const found = lines().find(line => matches(line, match));
					if (found === undefined) throw new Error(`${username}: no line like ${JSON.stringify(match)} in:\n${out}`);
					return found;
				},
				{timeoutMs: 10_000},
			);
		},
		async quit() {
			input.write('{"type":"quit"}\n');
			return session.done;
		},
	};
}

describe('rooms over --json, against a real relay', () => {
	it('alice creates #dev and invites bob, bob accepts, a message each way, ✓ counted, history of #dev kept', {timeout: 30_000}, async () => {
		const relay = await relayForTest();
		const alice = jsonUser(relay, 'alice');
		const bob = jsonUser(relay, 'bob');
		await alice.line({event: 'welcome'});
		await bob.line({event: 'welcome'});

		alice.send({type: 'create', room: '#dev', topic: 'builds', ref: 1});
		expect(await alice.line({ref: 1})).toEqual({type: 'requested', ref: 1, command: 'create', room: 'dev'});
		await alice.line({event: 'room-change', room: 'dev', action: 'create', author: 'alice', topic: 'builds'});

		alice.send({type: 'invite', room: 'dev', user: 'bob', ref: 2});
		await alice.line({type: 'requested', ref: 2});
		await bob.line({event: 'room-invite', room: 'dev', from: 'alice'});
		bob.send({type: 'accept', room: '#dev', ref: 3});
		await bob.line({type: 'requested', ref: 3, command: 'accept'});
		// An admin's client (alice's, online) adds bob by itself.
		await bob.line({event: 'room-change', room: 'dev', action: 'add', member: 'bob'});
		await alice.line({event: 'room-change', room: 'dev', action: 'add', member: 'bob'});

		bob.send({type: 'send', to: '#dev', text: 'hi from bob', ref: 4});
		const fromBob = await bob.line({type: 'sent', ref: 4});
		expect(await alice.line({event: 'room-message', room: 'dev', from: 'bob'})).toMatchObject({text: 'hi from bob', id: fromBob.id});

		alice.send({type: 'send', to: '#dev', text: 'hi \u001B[31mbob', ref: 5});
		const fromAlice = await alice.line({type: 'sent', ref: 5});
		expect(await bob.line({event: 'room-message', room: 'dev', from: 'alice'})).toMatchObject({text: 'hi \u001B[31mbob', id: fromAlice.id});
		await alice.line({event: 'room-accepted', room: 'dev', id: fromAlice.id});
		await alice.line({event: 'room-delivered', room: 'dev', id: fromAlice.id, delivered: 1, of: 1});

		alice.send({type: 'rooms', ref: 6});
		const listed = await alice.line({type: 'rooms', ref: 6});
		expect(listed.rooms).toEqual([
			expect.objectContaining({
				room: 'dev',
				topic: 'builds',
				status: 'member',
				members: expect.arrayContaining([
					{username: 'alice', admin: true},
					{username: 'bob', admin: false},
				]),
			}),
		]);

		alice.send({type: 'history', with: '#dev', ref: 7});
		const history = await alice.line({type: 'history', ref: 7});
		expect((history.messages as Line[]).map(message => [message.author, message.text])).toEqual([
			['bob', 'hi from bob'],
			['alice', 'hi \u001B[31mbob'],
		]);

		// Refused by the client or the relay: an error line or a room-error event, never an end.
		bob.send({type: 'kick', room: 'dev', user: 'alice', ref: 8});
		await waitFor(() => expect(bob.lines().some(line => (line.ref === 8 && line.type === 'error') || (line.event === 'room-error' && line.room === 'dev'))).toBe(true), {timeoutMs: 10_000});
		expect(await alice.quit()).toBe(0);
		expect(await bob.quit()).toBe(0);
	});
});
