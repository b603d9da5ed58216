import {checkUsername} from '../net/usernames.js';

/**
 * The chat's slash commands: one table that /help is printed from, and a parser whose every
 * failure is a sentence for a system line. Names are case-folded and checked here; whether such a
 * user exists is for the caller to say.
 */
export type Command = {name: 'help'} | {name: 'quit'} | {name: 'trust' | 'verify' | 'unverify'; target: string | undefined};

export type ParsedCommand = {ok: true; command: Command} | {ok: false; error: string};

type Spec = {name: Command['name']; usage: string; help: string};

export const commands: readonly Spec[] = [
	{name: 'help', usage: '/help', help: 'shows this'},
	{name: 'quit', usage: '/quit', help: 'leaves (so does Ctrl+C)'},
	{name: 'verify', usage: '/verify NAME', help: 'shows the safety number you share with NAME, to compare out of band'},
	{name: 'unverify', usage: '/unverify NAME', help: "clears NAME's verified mark"},
	{name: 'trust', usage: '/trust NAME', help: "accepts NAME's changed identity key and opens the messages held behind it"},
];

export const helpText = [
	'Commands:',
	...commands.map(spec => `  ${spec.usage.padEnd(15)} ${spec.help}`),
	'NAME defaults to the person selected. Up/Down choose a conversation; # everyone writes to everyone online.',
	'Enter sends; start a message with // to send a leading /.',
	'Sidebar: ● online, ○ offline, ✓ verified, ! identity key changed. Messages: … sending, · stored by the relay, ✓ delivered.',
];

/** Undefined when the line is not a command (a message, or // for a leading slash). */
export function parseCommand(line: string): ParsedCommand | undefined {
	const text = line.trim();
	if (!text.startsWith('/') || line.startsWith('//')) return undefined;
	const [word = '/', ...rest] = text.split(/\s+/);
	const spec = commands.find(candidate => `/${candidate.name}` === word.toLowerCase());
	if (spec === undefined) return {ok: false, error: `Unknown command ${word}; /help lists the commands.`};
	const {name} = spec;
	if (name === 'help' || name === 'quit') {
		return rest.length === 0 ? {ok: true, command: {name}} : {ok: false, error: `${spec.usage} takes nothing after it.`};
	}

	if (rest.length > 1) return {ok: false, error: `Usage: ${spec.usage} (one name).`};
	const [raw] = rest;
	if (raw === undefined) return {ok: true, command: {name, target: undefined}};
	const check = checkUsername(raw);
	if (!check.ok) {
		const why = check.code === 'reserved_username' ? 'is reserved, nobody has it' : 'is not a username (1 to 32 of a-z, 0-9, _ and -)';
		return {ok: false, error: `${spec.usage}: "${raw}" ${why}.`};
	}

	return {ok: true, command: {name, target: check.username}};
}
