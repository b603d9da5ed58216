import React, {useRef, useState} from 'react';
import {Box, Text} from 'ink';
import {useKeys} from '../hooks/use-keys.js';
import {checkUsername, foldUsername} from '../net/usernames.js';
import {sanitizeText} from '../sanitize.js';
import {LineEditorView} from './line-editor/line-editor-view.js';
import {useLineEditor} from './line-editor/use-line-editor.js';
import {usePaint} from './theme.js';

export type ConnectValues = {host: string; port: number; username: string};

type Field = keyof ConnectValues;

const fields: Field[] = ['host', 'port', 'username'];

const labels: Record<Field, string> = {host: 'Relay host', port: 'Relay port', username: 'Username'};

/** A TCP port typed by a person, or undefined. */
export function parsePort(text: string): number | undefined {
	const trimmed = text.trim();
	if (!/^\d{1,5}$/.test(trimmed)) return undefined;
	const port = Number(trimmed);
	return port >= 1 && port <= 65_535 ? port : undefined;
}

export const portError = 'The port must be a whole number from 1 to 65535.';

export function usernameError(raw: string): string | undefined {
	const check = checkUsername(raw.trim());
	if (check.ok) return undefined;
	return check.code === 'reserved_username'
		? `"${foldUsername(raw.trim())}" is reserved; choose another name.`
		: 'A username is 1 to 32 characters of a-z, 0-9, _ and -.';
}

function validate(field: Field, text: string): string | undefined {
	if (field === 'port') return parsePort(text) === undefined ? portError : undefined;
	if (field === 'username') return usernameError(text);
	const host = text.trim();
	return host === '' || /\s/.test(host) || host.length > 253 ? 'Enter a host name or IP address.' : undefined;
}

type Props = {
	host?: string;
	port?: number;
	username?: string;
	/** Why the last attempt failed (for example the relay refused the username). */
	error?: string;
	/** A word about the connection, shown dim (for example that it is being tried again). */
	note?: string;
	onSubmit: (values: ConnectValues) => void;
};

/** Asks, one at a time, for whichever of host, port and username are missing. */
export function ConnectForm({host, port, username, error, note, onSubmit}: Props) {
	const paint = usePaint();
	const [values, setValues] = useState<Partial<Record<Field, string>>>({
		host,
		port: port === undefined ? undefined : String(port),
		username,
	});
	// Several lines can arrive in one read (a paste): each submit must see the one before it.
	const known = useRef(values);
	const [problem, setProblem] = useState<string | undefined>(undefined);
	const current = fields.find(field => values[field] === undefined);

	const submit = (input: string): boolean => {
		const field = fields.find(candidate => known.current[candidate] === undefined);
		if (field === undefined) return true;
		const invalid = validate(field, input);
		setProblem(invalid && `${sanitizeText(input.trim()) || 'Nothing'} was refused: ${invalid}`);
		if (invalid) return true;
		const next = {...known.current, [field]: input.trim()};
		known.current = next;
		setValues(next);
		if (fields.every(candidate => next[candidate] !== undefined)) {
			onSubmit({host: next.host!, port: parsePort(next.port!)!, username: next.username!});
		}

		return true;
	};

	const editor = useLineEditor({onSubmit: submit});
	useKeys(key => {
		editor.handle(key);
	});

	return (
		<Box flexDirection="column" paddingX={1}>
			<Text bold>im-tui: connect to a relay</Text>
			<Text> </Text>
			{error ? <Text color={paint('red')}>{sanitizeText(error)}</Text> : null}
			{note ? <Text dimColor>{sanitizeText(note)}</Text> : null}
			{fields.map(field =>
				values[field] !== undefined && field !== current ? (
					<Text key={field} dimColor>{`${labels[field]}: ${sanitizeText(values[field] ?? '')}`}</Text>
				) : null,
			)}
			{current ? (
				<LineEditorView key={current} state={editor.state} prompt={{text: `${labels[current]}:`}} width={60} maxRows={2} />
			) : null}
			{problem ? <Text color={paint('red')}>{`✗ ${problem}`}</Text> : null}
			<Text> </Text>
			<Text dimColor>Enter confirms. Ctrl+C quits.</Text>
		</Box>
	);
}
