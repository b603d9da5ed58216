import type {Dispatch} from 'react';
import type {ChatAction, ChatState, SystemTone} from './chat-state/types.js';
import type {Command} from '../components/commands.js';
import type {ChatConnection, Contact} from '../client/client-events.js';
import {errorText} from './error-text.js';

export type ContactCommand = Extract<Command, {name: 'trust' | 'verify' | 'unverify'}>;

export type ContactActions = {
	/** Runs /trust, /verify or /unverify (/help and /quit belong to the screen). */
	command(command: ContactCommand): void;
	/** "y" in the /verify view: marks the contact verified (accepting a changed key first). */
	confirmVerification(): void;
	/** Any other key in the /verify view. */
	closeVerification(): void;
};

type Context = {
	connection: ChatConnection;
	state: () => ChatState;
	dispatch: Dispatch<ChatAction>;
	now: () => number;
};

/** /trust, /verify and /unverify over the connection; every refusal comes back as a system line. */
export function contactActions({connection, state, dispatch, now}: Context): ContactActions {
	const note = (text: string, tone: SystemTone = 'info') => {
		dispatch({type: 'local', tone, text, time: now()});
	};

	/** The contact a command names (or the selected one), or undefined after saying why not. */
	const resolve = (command: ContactCommand): Contact | undefined => {
		const {me, selected, contacts} = state();
		const name = command.target ?? (selected !== undefined && contacts.has(selected) ? selected : undefined);
		if (name === undefined) {
			note(`Usage: /${command.name} NAME (or select the person first).`, 'error');
			return undefined;
		}

		if (name === me) {
			note(`/${command.name} is about someone else: ${name} is you.`, 'error');
			return undefined;
		}

		const contact = contacts.get(name);
		if (contact === undefined) note(`Nobody named ${name} is registered on this relay.`, 'error');
		return contact;
	};

	const attempt = (what: string, run: () => void) => {
		try {
			run();
		} catch (error) {
			note(`${what}: ${errorText(error)}`, 'error');
		}
	};

	const run: Record<ContactCommand['name'], (contact: Contact) => void> = {
		trust({username, keyChanged}) {
			if (!keyChanged) {
				note(`${username}'s identity key has not changed: there is nothing to trust. (/verify ${username} compares safety numbers.)`);
				return;
			}

			attempt(`Could not trust ${username}`, () => {
				connection.trust(username);
			});
		},
		verify({username}) {
			attempt(`Could not show the safety number with ${username}`, () => {
				dispatch({type: 'verify-open', username, safetyNumber: connection.safetyNumber(username)});
			});
		},
		unverify({username, verified}) {
			if (!verified) {
				note(`${username} is not marked verified.`);
				return;
			}

			attempt(`Could not clear ${username}'s verified mark`, () => {
				connection.setVerified(username, false);
			});
		},
	};

	return {
		command(command) {
			const contact = resolve(command);
			if (contact !== undefined) run[command.name](contact);
		},
		confirmVerification() {
			const verification = state().verification;
			dispatch({type: 'verify-close'});
			if (verification === undefined) return;
			const {username, safetyNumber} = verification;
			attempt(`Could not mark ${username} verified`, () => {
				// Trust exactly the key whose number was on screen: the relay may have served another since.
				if (state().contacts.get(username)?.keyChanged) connection.trust(username, safetyNumber);
				else if (connection.safetyNumber(username) !== safetyNumber) throw new Error(`${username}'s key changed while you compared; run /verify ${username} again`);
				connection.setVerified(username, true);
			});
		},
		closeVerification() {
			dispatch({type: 'verify-close'});
		},
	};
}
