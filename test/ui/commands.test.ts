import {describe, expect, test} from 'vitest';
import {commands, completeCommand, helpText, parseCommand} from '../../source/components/commands.js';

describe('parseCommand', () => {
	test.each([
		['hello', undefined],
		['//shrug', undefined],
		['/help', {ok: true, command: {name: 'help'}}],
		['  /quit  ', {ok: true, command: {name: 'quit'}}],
		['/HELP', {ok: true, command: {name: 'help'}}],
		['/trust bob', {ok: true, command: {name: 'trust', target: 'bob'}}],
		['/trust Bob', {ok: true, command: {name: 'trust', target: 'bob'}}],
		['/verify  CY_2 ', {ok: true, command: {name: 'verify', target: 'cy_2'}}],
		['/unverify', {ok: true, command: {name: 'unverify', target: undefined}}],
		['/fold', {ok: true, command: {name: 'fold', on: undefined}}],
		['/fold OFF', {ok: true, command: {name: 'fold', on: false}}],
		['/fold on', {ok: true, command: {name: 'fold', on: true}}],
		['/who', {ok: true, command: {name: 'who'}}],
		['/Passphrase ', {ok: true, command: {name: 'passphrase'}}],
		['/msg Bob', {ok: true, command: {name: 'msg', target: 'bob', text: undefined}}],
		['/msg bob   ', {ok: true, command: {name: 'msg', target: 'bob', text: undefined}}],
		['  /MSG bob  hi   there ', {ok: true, command: {name: 'msg', target: 'bob', text: 'hi   there '}}],
		['/msg bob line one\nline two', {ok: true, command: {name: 'msg', target: 'bob', text: 'line one\nline two'}}],
	])('%j', (line, parsed) => {
		expect(parseCommand(line)).toEqual(parsed);
	});

	test.each([
		['/nope now', 'Unknown command /nope; /help lists the commands.'],
		['/', 'Unknown command /; /help lists the commands.'],
		['/help me', '/help takes nothing after it.'],
		['/trust bob cy', 'Usage: /trust NAME (one name).'],
		['/verify b@d', '/verify NAME: "b@d" is not a username (1 to 32 of a-z, 0-9, _ and -).'],
		['/verify ' + 'a'.repeat(33), `/verify NAME: "${'a'.repeat(33)}" is not a username (1 to 32 of a-z, 0-9, _ and -).`],
		['/trust Everyone', '/trust NAME: "Everyone" is reserved, nobody has it.'],
		['/fold maybe', 'Usage: /fold [on|off].'],
		['/msg', 'Usage: /msg NAME [text].'],
		['/msg b@d hi', '/msg NAME [text]: "b@d" is not a username (1 to 32 of a-z, 0-9, _ and -).'],
		['/msg system hi', '/msg NAME [text]: "system" is reserved, nobody has it.'],
		['/who is there', '/who takes nothing after it.'],
		['/passphrase hunter2', '/passphrase takes nothing after it: it asks for the passphrase on a screen of its own, without showing it.'],
	])('%j is refused with a sentence', (line, error) => {
		expect(parseCommand(line)).toEqual({ok: false, error});
	});

	test('/help lists every command', () => {
		for (const spec of commands) expect(helpText.join('\n')).toContain(spec.usage);
		expect(commands.map(spec => spec.name).sort()).toEqual([
			'accept', 'admin', 'create', 'decline', 'fold', 'forget', 'help', 'invite', 'kick', 'leave', 'members', 'msg', 'passphrase', 'quit', 'rekey', 'search', 'topic', 'trust', 'unverify', 'verify', 'who',
		]);
	});
});

describe('completeCommand', () => {
	test('completes the commands that start with the word, any case', () => {
		expect(completeCommand('/v')).toEqual(['/verify']);
		expect(completeCommand('/U')).toEqual(['/unverify']);
		expect(completeCommand('/')).toHaveLength(commands.length);
		expect(completeCommand('/x')).toEqual([]);
	});
});
