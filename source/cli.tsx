#!/usr/bin/env node
// First, before Ink and chalk load: see keep-styles.ts.
import './keep-styles.js';
import {homedir} from 'node:os';
import {join, resolve} from 'node:path';
import process from 'node:process';
import React from 'react';
import {render} from 'ink';
import {parseFlags, usageError} from './cli-flags.js';
import {parseRetention, passphraseFrom, passphraseVariable} from './client-flags.js';
import {App} from './components/app.js';
import {parsePort, portError, usernameError} from './components/connect-form.js';
import {parseFingerprint} from './crypto/keys.js';
import {sanitizeText} from './sanitize.js';

const cli = parseFlags(
	'im-tui',
	`
	Usage
	  $ im-tui [options]

	Options
	  --host HOST          The relay's host name or address
	  --port PORT          The relay's TCP port
	  --user NAME          Your username (1 to 32 of a-z, 0-9, _ and -)
	  --trust FINGERPRINT  Trust a relay not seen before if its fingerprint matches
	                       (64 hex digits; spaces and case ignored)
	  --config-dir DIR     Where known_relays.json lives
	                       (default $XDG_CONFIG_HOME/im-tui or ~/.config/im-tui)
	  --data-dir DIR       Where your identity keys, contact pins and message
	                       counters live, per relay and username (keep it private)
	                       (default $XDG_DATA_HOME/im-tui or ~/.local/share/im-tui)
	  --no-color           No colours (also when NO_COLOR is set)
	  --bell on|off        Ring the terminal bell when a message arrives in a
	                       conversation not on screen (default on)
	  --mouse              Scroll with the mouse wheel (the terminal then needs
	                       Shift to select text)
	  --keep-history DAYS|forever|off
	                       How long messages are kept on this device (default
	                       forever; DAYS 1 to 36500; off keeps none and deletes
	                       what was kept)
	  --passphrase-file FILE
	                       Encrypt this account's database with the first line of
	                       FILE (an account without one is encrypted with it);
	                       without the flag, IM_TUI_PASSPHRASE is used when set
	  --json               No screen: commands and events as JSON lines on stdin
	                       and stdout, for scripts and bots (needs --host, --port
	                       and --user; see the README, "Scripts and bots")
	  --help, --version

	Whatever of host, port and user is missing is asked for on screen.
	In the chat: Up/Down choose a conversation (* status, # everyone, a person),
	Enter sends, Alt+Enter starts a new line, PgUp/PgDn scroll, Tab completes,
	/verify NAME compares safety numbers, /trust NAME accepts a changed key,
	/help lists commands and keys, /quit or Ctrl+C leaves.
`,
	{
		importMeta: import.meta,
		flags: {
			color: {type: 'boolean', default: true},
			bell: {type: 'string', default: 'on'},
			mouse: {type: 'boolean', default: false},
			host: {type: 'string'},
			port: {type: 'string'},
			user: {type: 'string'},
			trust: {type: 'string'},
			configDir: {type: 'string'},
			dataDir: {type: 'string'},
			keepHistory: {type: 'string', default: 'forever'},
			passphraseFile: {type: 'string'},
			json: {type: 'boolean', default: false},
		},
	},
);

function usage(message: string): never {
	usageError('im-tui', message);
}

const {host, user, trust} = cli.flags;
if (host !== undefined && (host.trim() === '' || /\s/.test(host.trim()))) usage('--host must be a host name or IP address');
const port = cli.flags.port === undefined ? undefined : parsePort(cli.flags.port);
if (cli.flags.port !== undefined && port === undefined) usage(`--port: ${portError}`);
const badUser = user === undefined ? undefined : usernameError(user);
if (badUser) usage(`--user: ${badUser}`);
const trustFingerprint = trust === undefined ? undefined : parseFingerprint(trust);
if (trust !== undefined && trustFingerprint === undefined) usage("--trust must be the relay's fingerprint: 64 hex digits");
if (cli.flags.dataDir !== undefined && cli.flags.dataDir.trim() === '') usage('--data-dir must name a directory');
if (cli.flags.bell !== 'on' && cli.flags.bell !== 'off') usage('--bell must be on or off');
const retention = parseRetention(cli.flags.keepHistory);
if (!retention.ok) usage(retention.message);
const passphrase = passphraseFrom(cli.flags.passphraseFile, process.env);
if (!passphrase.ok) usage(passphrase.message);
// Read once: nothing this process starts needs it.
delete process.env[passphraseVariable];

const configHome = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
const knownRelaysPath = join(cli.flags.configDir ?? join(configHome, 'im-tui'), 'known_relays.json');
const dataHome = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
const dataDir = resolve(cli.flags.dataDir ?? join(dataHome, 'im-tui'));

if (cli.flags.json) {
	if (host === undefined || port === undefined || user === undefined) usage('--json needs --host, --port and --user (a script cannot answer questions on screen)');
	const {jsonMain} = await import('./json-mode/main.js');
	await jsonMain({
		host: host.trim(),
		port,
		username: user.trim(),
		trustFingerprint,
		knownRelaysPath,
		dataDir,
		passphrase: passphrase.value,
		retention: retention.value,
	});
}

if (!process.stdin.isTTY || !process.stdout.isTTY) {
	process.stderr.write('im-tui: stdin and stdout must be a terminal (im-tui is a full-screen chat; run it in a terminal, not a pipe, or use --json)\n');
	process.exit(2);
}

// no-color.org: set and not empty.
const color = cli.flags.color && !process.env.NO_COLOR;
const {mouse} = cli.flags;

/**
 * The terminal modes the client runs in: the alternate screen; bracketed paste (2004), so that a
 * paste arrives marked and becomes one message; the mouse wheel only with --mouse (1000 + 1006,
 * which takes plain text selection away). Auto-wrap (DECAWM, 7) is off: a character the terminal
 * draws wider than it is measured (there are such) is cut at the right edge instead of pushing
 * the rest of the frame onto a new row, where it could pass for a line of its own. Alternate
 * scroll (1007) is off while the client runs,
 * or a terminal that sends the wheel as Up/Down would change the conversation; its setting is
 * saved first and restored on leaving (XTSAVE, XTRESTORE).
 */
const enterModes = `\u001B[?1049h\u001B[?7l\u001B[?2004h\u001B[?1007s\u001B[?1007l${mouse ? '\u001B[?1000h\u001B[?1006h' : ''}`;
const leaveModes = `${mouse ? '\u001B[?1006l\u001B[?1000l' : ''}\u001B[?1007r\u001B[?2004l\u001B[?7h\u001B[?1049l\u001B[?25h`;

let modesOn = false;
function restoreTerminal(): void {
	if (process.stdin.isTTY) process.stdin.setRawMode(false);
	if (!modesOn) return;
	modesOn = false;
	process.stdout.write(leaveModes);
}

process.on('exit', restoreTerminal);
process.stdout.write(enterModes);
modesOn = true;

const instance = render(
	<App
		host={host?.trim()}
		port={port}
		username={user?.trim()}
		trustFingerprint={trustFingerprint}
		knownRelaysPath={knownRelaysPath}
		dataDir={dataDir}
		passphrase={passphrase.value}
		retention={retention.value}
		color={color}
		bell={cli.flags.bell === 'on'}
	/>,
	{exitOnCtrlC: false, maxFps: 60},
);

/** A reason printed on leaving is cut to this: it is a line for a person, not a dump. */
const maxExitMessageChars = 400;

function stop(code: number, message?: string): never {
	try {
		instance.unmount();
	} catch {}

	restoreTerminal();
	// The reason may quote the relay, which can be anyone at that address before the handshake.
	if (message !== undefined) process.stderr.write(`im-tui: ${sanitizeText(message).slice(0, maxExitMessageChars)}\n`);
	process.exit(code);
}

/** The terminal went away (its window closed): nobody is left to type, so leave. */
process.stdin.once('end', () => stop(129));
process.stdin.once('error', () => stop(129));

process.on('uncaughtException', error => stop(1, error.message));
process.on('unhandledRejection', reason => stop(1, reason instanceof Error ? reason.message : String(reason)));
process.once('SIGTERM', () => stop(143));
process.once('SIGHUP', () => stop(129));
process.once('SIGINT', () => stop(130));
process.once('SIGQUIT', () => stop(131));

try {
	await instance.waitUntilExit();
	stop(0);
} catch (error) {
	stop(1, error instanceof Error ? error.message : String(error));
}
