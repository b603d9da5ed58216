import {checkUsername} from '../net/usernames.js';
import {isRoomName} from '../hooks/chat-state/room-keys.js';
import {isRoomCommandName, parseRoomCommand, roomCommands, type RoomCommand} from './room-commands.js';

/**
 * The chat's slash commands: one table that /help is printed from, and a parser whose every
 * failure is a sentence for a system line. Names are case-folded and checked here; whether such a
 * user exists is for the caller to say.
 */
export type Command =
	| {name: 'help'}
	| {name: 'quit'}
	| {name: 'fold'; on: boolean | undefined}
	| {name: 'who'}
	| {name: 'passphrase'}
	/** `text` as typed after the name (undefined when there is none). */
	| {name: 'msg'; target: string; text: string | undefined}
	| {name: 'trust' | 'verify' | 'unverify'; target: string | undefined}
	/** The words as typed. */
	| {name: 'search'; words: string}
	/** A username, '#everyone' or a room's '#name'; undefined: the conversation selected. */
	| {name: 'forget'; target: string | undefined}
	| RoomCommand;

export type ParsedCommand = {ok: true; command: Command} | {ok: false; error: string};

type Spec = {name: Command['name']; usage: string; help: string};

/** Rows one message fills in the log before the rest is folded away (/fold off shows it whole). */
export const foldRows = 12;

export const commands: readonly Spec[] = [
	{name: 'help', usage: '/help', help: 'shows this'},
	{name: 'quit', usage: '/quit', help: 'leaves (so does Ctrl+C)'},
	{name: 'msg', usage: '/msg NAME [text]', help: 'opens the conversation with NAME (looked up on the relay if not a contact) and sends text if given'},
	{name: 'who', usage: '/who', help: 'shows who logged in last of those online, and how many are online'},
	{name: 'verify', usage: '/verify NAME', help: 'shows the safety number you share with NAME, to compare out of band'},
	{name: 'unverify', usage: '/unverify NAME', help: "clears NAME's verified mark"},
	{name: 'trust', usage: '/trust NAME', help: "accepts NAME's changed identity key and opens the messages held behind it"},
	{name: 'passphrase', usage: '/passphrase', help: 'sets, changes or removes the passphrase that encrypts your messages and keys on this device'},
	{name: 'fold', usage: '/fold [on|off]', help: `folds messages longer than ${foldRows} rows (on, the default) or shows them whole; alone, switches`},
	{name: 'search', usage: '/search WORDS', help: 'finds the messages kept on this device that hold every word (or a word starting so), in all conversations'},
	{name: 'forget', usage: '/forget [NAME]', help: 'deletes a conversation (NAME, #everyone, #ROOM) from this device, after you repeat it within 10 s'},
	...roomCommands,
];

export const helpText = [
	'Commands:',
	...commands.map(spec => `  ${spec.usage.padEnd(21)} ${spec.help}`),
	'NAME defaults to the person selected, #ROOM to the room on screen. Start a message with // to send a leading /.',
	'Keys: Up/Down choose a conversation (* status, # everyone online, a #room, a person); Alt+A the next with unread messages;',
	'  Ctrl+G finds a person: type to filter the sidebar, Enter opens the first match (or looks the name up), Esc closes;',
	'  PgUp/PgDn scroll; Ctrl+Home/Ctrl+End (or Alt+Home/Alt+End) the oldest / the newest; Enter sends; Alt+Enter a new line;',
	'  Tab completes; Ctrl+P/Ctrl+N what you sent; Ctrl+A/E, Ctrl+B/F, Alt+B/F move; Ctrl+W, Ctrl+U, Ctrl+K, Alt+Backspace, Alt+D cut;',
	'  Ctrl+Y puts back what was cut; Ctrl+C or /quit leaves.',
	'  /search results: Up/Down, PgUp/PgDn choose one, Enter shows it marked in its conversation, Esc closes.',
	'Sidebar: your rooms (invited: an invitation to answer, ! stalled), your contacts, ● online, ○ offline, ✓ verified,',
	'  ! identity key changed, (N) unread; then "online now": who logged in last.',
	'Messages: … sending, · stored by the relay, ✓ delivered (in a room, ✓ 3/5: read by 3 of the 5 other members).',
];

/** What Tab completes at the start of a line: the commands whose name starts with `word`. */
export function completeCommand(word: string): string[] {
	const lower = word.toLowerCase();
	return commands.map(spec => `/${spec.name}`).filter(name => name.startsWith(lower));
}

/** Undefined when the line is not a command (a message, or // for a leading slash). */
export function parseCommand(line: string): ParsedCommand | undefined {
	const text = line.trim();
	if (!text.startsWith('/') || line.startsWith('//')) return undefined;
	const [word = '/', ...rest] = text.split(/\s+/);
	const spec = commands.find(candidate => `/${candidate.name}` === word.toLowerCase());
	if (spec === undefined) return {ok: false, error: `Unknown command ${word}; /help lists the commands.`};
	const {name} = spec;
	if (isRoomCommandName(name)) return parseRoomCommand(name, line, word, rest);
	if (name === 'fold') {
		if (rest.length === 0) return {ok: true, command: {name, on: undefined}};
		const [choice] = rest;
		if (rest.length === 1 && (choice!.toLowerCase() === 'on' || choice!.toLowerCase() === 'off')) return {ok: true, command: {name, on: choice!.toLowerCase() === 'on'}};
		return {ok: false, error: `Usage: ${spec.usage}.`};
	}

	if (name === 'msg') {
		const [raw] = rest;
		if (raw === undefined) return {ok: false, error: `Usage: ${spec.usage}.`};
		const check = checkUsername(raw);
		if (!check.ok) return {ok: false, error: `${spec.usage}: "${raw}" ${check.code === 'reserved_username' ? 'is reserved, nobody has it' : 'is not a username (1 to 32 of a-z, 0-9, _ and -)'}.`};
		// The text as typed, spaces inside it kept.
		const after = line.trimStart().slice(word.length).trimStart().slice(raw.length).trimStart();
		return {ok: true, command: {name, target: check.username, text: after.trim() === '' ? undefined : after}};
	}

	if (name === 'search') {
		const words = line.trimStart().slice(word.length).trim();
		return words === '' ? {ok: false, error: `Usage: ${spec.usage}.`} : {ok: true, command: {name, words}};
	}

	if (name === 'forget') return parseForget(rest, spec.usage);

	if (name === 'passphrase' && rest.length > 0) return {ok: false, error: '/passphrase takes nothing after it: it asks for the passphrase on a screen of its own, without showing it.'};
	if (name === 'help' || name === 'quit' || name === 'who' || name === 'passphrase') {
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

function parseForget(rest: readonly string[], usage: string): ParsedCommand {
	if (rest.length > 1) return {ok: false, error: `Usage: ${usage} (one name, #everyone or #ROOM).`};
	const [raw] = rest;
	if (raw === undefined) return {ok: true, command: {name: 'forget', target: undefined}};
	const folded = raw.toLowerCase();
	if (folded === '#everyone') return {ok: true, command: {name: 'forget', target: '#everyone'}};
	if (raw.startsWith('#') && isRoomName(folded.slice(1))) return {ok: true, command: {name: 'forget', target: folded}};
	const check = checkUsername(raw);
	if (!check.ok) return {ok: false, error: `${usage}: "${raw}" is not a username (1 to 32 of a-z, 0-9, _ and -), #everyone nor a #ROOM.`};
	return {ok: true, command: {name: 'forget', target: check.username}};
}
