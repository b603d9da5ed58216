import type {Dispatch, MutableRefObject} from 'react';
import type {ChatAction, SystemTone} from './chat-state/types.js';
import {localLoginCodes, type ChatConnection} from '../client/client-events.js';
import {errorText} from './error-text.js';

export type LoginActions = {
	/** Logs in, unless this device must ask for the account's passphrase first (state.login.passphrase). */
	login(username: string): void;
	/** Logs in with the passphrase just typed (undefined: none, on a first start); it is not kept. */
	loginWithPassphrase(username: string, passphrase: string | undefined): void;
	/** Esc at the passphrase prompt: back to the name prompt. */
	cancelPassphrase(): void;
	/** /passphrase: sets, changes or (undefined) removes it; says how it went in a system line. */
	setPassphrase(passphrase: string | undefined): void;
	/** A login error: the name is not sent again by itself; after a local one, the passphrase is asked again. */
	refused(code: string): void;
};

type Context = {
	connection: ChatConnection;
	dispatch: Dispatch<ChatAction>;
	note: (text: string, tone?: SystemTone) => void;
	/** The name sent again, by itself, whenever the relay asks for one before a welcome. */
	autoLogin: MutableRefObject<string | undefined>;
	/** A passphrase was given (--passphrase-file, IM_TUI_PASSPHRASE): nothing is asked unless it is wrong. */
	passphraseGiven: () => boolean;
};

/** Login errors of this device, not of the relay: the account's files could not be opened. */

/** Logging in, with the questions this device asks first, and /passphrase. */
export function loginActions({connection, dispatch, note, autoLogin, passphraseGiven}: Context): LoginActions {
	// The name a passphrase was typed for: the client keeps that account open, so logging in again
	// after a drop asks nothing (were it not open, the client would say so, and it is asked again).
	let unlocked: string | undefined;

	const send = (username: string, passphrase?: string) => {
		try {
			// Between connections, the client keeps the name for the next one.
			if (passphrase === undefined) connection.login(username);
			else connection.login(username, passphrase);
			autoLogin.current = username;
			dispatch({type: 'login-sent', username});
			return true;
		} catch (error) {
			note(`Could not log in: ${errorText(error)}`, 'error');
			return false;
		}
	};

	return {
		login(username) {
			if (passphraseGiven() || unlocked === username) {
				send(username);
				return;
			}

			if (connection.relay === undefined) {
				// The relay was never reached, so whether this is a first start here is not known: the
				// name goes out (after any question) on the login-request that comes once it is.
				autoLogin.current = username;
				dispatch({type: 'login-sent', username});
				return;
			}

			const state = connection.accountState(username);
			if (state === 'absent' || state === 'encrypted') {
				autoLogin.current = username;
				dispatch({type: 'passphrase-needed', ask: {username, mode: state === 'absent' ? 'choose' : 'unlock', error: undefined}});
			} else send(username);
		},
		loginWithPassphrase(username, passphrase) {
			if (send(username, passphrase)) unlocked = username;
		},
		cancelPassphrase() {
			autoLogin.current = undefined;
			dispatch({type: 'passphrase-cancel'});
		},
		setPassphrase(passphrase) {
			try {
				connection.setPassphrase(passphrase);
				note(
					passphrase === undefined
						? 'Passphrase removed: your messages and keys on this device are stored unencrypted, in files only your user can read.'
						: 'Passphrase set: your messages and keys on this device are encrypted with it; im-tui asks for it when it starts.',
				);
			} catch (error) {
				note(`The passphrase was not changed: ${errorText(error)}`, 'error');
			}
		},
		refused(code) {
			autoLogin.current = undefined;
			if (localLoginCodes.has(code)) unlocked = undefined;
		},
	};
}
