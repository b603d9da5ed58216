import {closeSync, openSync, readSync} from 'node:fs';
import type {Retention} from './client/history.js';

/** The most days --keep-history takes: a hundred years. */
export const maxRetentionDays = 36_500;

/** The most bytes of a passphrase file's first line. */
export const maxPassphraseBytes = 1024;

/** The environment variable a bot may give its passphrase in (--passphrase-file wins over it). */
export const passphraseVariable = 'IM_TUI_PASSPHRASE';

export type Parsed<T> = {ok: true; value: T} | {ok: false; message: string};

/** --keep-history DAYS|forever|off. */
export function parseRetention(raw: string): Parsed<Retention> {
	const value = raw.trim().toLowerCase();
	if (value === 'forever' || value === 'off') return {ok: true, value};
	const days = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
	if (days >= 1 && days <= maxRetentionDays) return {ok: true, value: {days}};
	return {ok: false, message: `--keep-history must be a number of days (1 to ${maxRetentionDays}), forever or off`};
}

/**
 * The passphrase from --passphrase-file (its first line, without the line break) or, without the
 * flag, from IM_TUI_PASSPHRASE. Messages name the file or the variable, never the passphrase.
 */
export function passphraseFrom(file: string | undefined, environment: NodeJS.ProcessEnv): Parsed<string | undefined> {
	if (file !== undefined) {
		const line = firstLine(file);
		if (!line.ok) return line;
		return checked(line.value, `--passphrase-file: the first line of ${file}`);
	}
	const variable = environment[passphraseVariable];
	if (variable === undefined) return {ok: true, value: undefined};
	return checked(variable, passphraseVariable);
}

function checked(passphrase: string, source: string): Parsed<string> {
	if (passphrase === '') return {ok: false, message: `${source} is empty: a passphrase needs at least one character`};
	if (passphrase.includes('\0')) return {ok: false, message: `${source} holds a NUL character, which a passphrase cannot`};
	if (Buffer.byteLength(passphrase) > maxPassphraseBytes) return {ok: false, message: `${source} is longer than ${maxPassphraseBytes} bytes`};
	return {ok: true, value: passphrase};
}

/** At most maxPassphraseBytes + 2 bytes are read: a passphrase file is one short line, not a dump. */
function firstLine(file: string): Parsed<string> {
	if (file.trim() === '') return {ok: false, message: '--passphrase-file must name a file'};
	const buffer = Buffer.alloc(maxPassphraseBytes + 2);
	let length = 0;
	let fd: number | undefined;
	try {
		fd = openSync(file, 'r');
		for (;;) {
			const read = readSync(fd, buffer, length, buffer.length - length, null);
			length += read;
			if (read === 0 || length === buffer.length || buffer.subarray(0, length).includes(0x0a)) break;
		}
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code ?? 'error';
		return {ok: false, message: `--passphrase-file: cannot read ${file} (${code})`};
	} finally {
		if (fd !== undefined) closeSync(fd);
	}
	const bytes = buffer.subarray(0, length);
	const end = bytes.indexOf(0x0a);
	const line = bytes.subarray(0, end === -1 ? length : end).toString('utf8');
	// A file of more than one long line: its first line did not end within the bound.
	if (end === -1 && length === buffer.length) return {ok: false, message: `--passphrase-file: the first line of ${file} is longer than ${maxPassphraseBytes} bytes`};
	return {ok: true, value: line.endsWith('\r') ? line.slice(0, -1) : line};
}
