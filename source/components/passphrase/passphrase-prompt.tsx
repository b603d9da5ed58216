import React, {useRef, useState} from 'react';
import {Box, Text} from 'ink';
import {useKeys} from '../../hooks/use-keys.js';
import {safeName, sanitizeText} from '../../sanitize.js';
import {usePaint} from '../theme.js';
import {useMaskedInput} from './use-masked-input.js';

/**
 * 'choose': a first start on this device, before the account is made. 'unlock': the account is
 * encrypted. 'change': /passphrase in the chat.
 */
export type PassphraseMode = 'choose' | 'unlock' | 'change';

type Props = {
	mode: PassphraseMode;
	username: string;
	/** Why it is asked again (a wrong passphrase). */
	error?: string;
	/** A word about the connection, shown dim. */
	note?: string;
	/** The passphrase chosen or typed; undefined: none ('choose'), or remove it ('change'). */
	onDone: (passphrase: string | undefined) => void;
	/** Esc: back to the name prompt, or back to the chat with nothing changed. */
	onCancel: () => void;
};

type Step = 'first' | 'again' | 'remove';

const mismatch = 'The two were not the same, so nothing was set: type the passphrase again, twice.';

function titleOf(mode: PassphraseMode, name: string): string {
	if (mode === 'choose') return `im-tui: a passphrase for ${name} on this device`;
	if (mode === 'unlock') return `im-tui: ${name} is encrypted on this device`;
	return `Change the passphrase of ${name} on this device`;
}

function labelOf(mode: PassphraseMode, step: Step, name: string): string {
	if (step === 'again') return 'Again, to confirm:';
	if (mode === 'choose') return 'Passphrase to encrypt your messages and keys on this device (Enter for none):';
	if (mode === 'unlock') return `Passphrase for ${name} on this device:`;
	return 'New passphrase (Enter for none: removes the passphrase):';
}

/** What a passphrase is for, said before one is chosen. */
function About({mode}: {mode: PassphraseMode}) {
	if (mode === 'unlock') return null;
	return (
		<>
			<Text>A passphrase encrypts your messages, contacts and keys in this device's files: they stay</Text>
			<Text>unreadable to whoever copies the disk, a backup or the data directory while im-tui is not running.</Text>
			<Text>Nobody can recover a forgotten one: without it, this account cannot be opened on this device.</Text>
			{mode === 'choose' ? <Text dimColor>/passphrase in the chat sets, changes or removes it later.</Text> : null}
			<Text> </Text>
		</>
	);
}

/** Asks for a passphrase without ever showing it: one • per character typed. */
export function PassphrasePrompt({mode, username, error, note, onDone, onCancel}: Props) {
	const paint = usePaint();
	const name = safeName(username);
	const [step, setStep] = useState<Step>('first');
	const [problem, setProblem] = useState<string | undefined>(undefined);
	// The first answer, until the second is compared with it; never in React state.
	const first = useRef<string | undefined>(undefined);

	const submit = (value: string) => {
		if (step === 'first') {
			if (mode === 'unlock') {
				if (value === '') setProblem('Type the passphrase, or press Esc to go back to the name.');
				else onDone(value);
				return;
			}

			setProblem(undefined);
			if (value === '') {
				if (mode === 'choose') onDone(undefined);
				else setStep('remove');
				return;
			}

			first.current = value;
			setStep('again');
			return;
		}

		const same = value === first.current;
		first.current = undefined;
		if (same) {
			onDone(value);
			return;
		}

		setProblem(mismatch);
		setStep('first');
	};

	const cancel = () => {
		first.current = undefined;
		onCancel();
	};

	const {length} = useMaskedInput({onSubmit: submit, onCancel: cancel, active: step !== 'remove'});
	useKeys(
		key => {
			if (key.type === 'wheel') return;
			if (key.type === 'text' && (key.text === 'y' || key.text === 'Y')) onDone(undefined);
			else cancel();
		},
		{active: step === 'remove'},
	);

	return (
		<Box flexDirection="column" paddingX={1}>
			<Text bold>{titleOf(mode, name)}</Text>
			<Text> </Text>
			<About mode={mode} />
			{error && step === 'first' && problem === undefined ? <Text color={paint('red')}>{`✗ ${sanitizeText(error)}`}</Text> : null}
			{note ? <Text dimColor>{sanitizeText(note)}</Text> : null}
			{step === 'remove' ? (
				<>
					<Text bold>Remove the passphrase?</Text>
					<Text>Your messages, contacts and keys on this device are then stored unencrypted, in files only your user</Text>
					<Text>can read (0600): whoever gets a copy of the disk, a backup or the data directory can read them.</Text>
					<Text> </Text>
					<Text bold>Press y to remove it; any other key keeps it as it is.</Text>
				</>
			) : (
				<>
					<Text>{labelOf(mode, step, name)}</Text>
					<Text>
						{`› ${'•'.repeat(Math.min(length, 64))}${length > 64 ? ` (${length})` : ''}`}
						<Text inverse> </Text>
					</Text>
				</>
			)}
			{problem ? <Text color={paint('red')}>{`✗ ${problem}`}</Text> : null}
			<Text> </Text>
			<Text dimColor>{mode === 'change' ? 'Enter confirms. Esc leaves it unchanged.' : 'Enter confirms. Esc goes back to the name. Ctrl+C quits.'}</Text>
		</Box>
	);
}
