import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {checkUsername} from '../net/usernames.js';
import type {AccountState, ClientEvents, LocalLoginCode} from './client-events.js';
import type {History, Retention} from './history.js';
import {recordEvent} from './history-recorder.js';
import {AccountDatabaseError} from './store/account-database.js';
import {AccountStore} from './store/account-store.js';
import {accountDirectory} from './store/account-paths.js';

/**
 * The account a ChatClient logs in as, on this device: its database, open from login() until the
 * client stops, and the history kept in it from the client's own events and sends.
 */
export class ClientAccount {
	#store: AccountStore | undefined;

	constructor(
		private readonly dataDir: string,
		private readonly retention: Retention | undefined,
		/** Tells the client's listeners that keeping the history failed (the client goes on). */
		private readonly failed: (message: string) => void,
	) {}

	/** The open account, if any. */
	get store(): AccountStore | undefined {
		const store = this.#store;
		return store === undefined || store.closed ? undefined : store;
	}

	/**
	 * Opens `username`'s account (importing what a release before 0.3 left), unless it is open
	 * already; another account that was open is closed first. Throws a LoginFailure.
	 */
	open(relayFingerprint: string, username: string, passphrase: string | undefined): AccountStore {
		const open = this.store;
		if (open !== undefined && open.username === username) return open;
		this.close();
		try {
			this.#store = AccountStore.open(this.dataDir, relayFingerprint, username, {
				...(passphrase === undefined ? {} : {passphrase}),
				...(this.retention === undefined ? {} : {retention: this.retention}),
			});
			return this.#store;
		} catch (error) {
			const database = error instanceof AccountDatabaseError && error.code !== 'damaged' && error.code !== 'unsafe_file';
			throw new LoginFailure(database ? (error as AccountDatabaseError & {code: LocalLoginCode}).code : 'local_error', (error as Error).message);
		}
	}

	close(): void {
		this.#store?.close();
		this.#store = undefined;
	}

	/** Whether `name` has an account here for this relay, and whether it is encrypted; undefined for a name that cannot be one. */
	state(relayFingerprint: string, name: string): AccountState | undefined {
		const check = checkUsername(name);
		if (!check.ok) return undefined;
		const state = AccountStore.state(this.dataDir, relayFingerprint, check.username);
		if (state !== 'absent') return state;
		return existsSync(join(accountDirectory(this.dataDir, relayFingerprint, check.username), 'identity.json')) ? 'legacy' : 'absent';
	}

	/** Adds, changes or (undefined) removes the open account's passphrase. */
	setPassphrase(passphrase: string | undefined): void {
		const store = this.store;
		if (store === undefined) throw new Error('log in first: a passphrase belongs to an account');
		store.setPassphrase(passphrase);
	}

	/** Keeps what an event says about a message; a failure to is told, never thrown. */
	record<E extends keyof ClientEvents>(event: E, args: ClientEvents[E]): void {
		const store = this.store;
		if (store === undefined || event === 'local-error') return;
		try {
			recordEvent(store.history, event, args);
		} catch (error) {
			this.failed(`could not keep the history on this device: ${(error as Error).message}`);
		}
	}

	/** Keeps my message `id` to `to` (a username, or everyoneConversation with its `recipients`). */
	sent(message: {id: string; to: string; recipients: string[]; text: string}): void {
		const store = this.store;
		if (store === undefined) return;
		try {
			store.history.sent({...message, author: store.username, time: Date.now()});
		} catch (error) {
			this.failed(`could not keep the history on this device: ${(error as Error).message}`);
		}
	}

	history<T>(read: (history: History) => T, none: T): T {
		const store = this.store;
		return store === undefined ? none : read(store.history);
	}
}

/** Why this device could not open the account at login: told to the UI as a login-error. */
export class LoginFailure extends Error {
	constructor(
		readonly code: LocalLoginCode,
		message: string,
	) {
		super(message);
		this.name = 'LoginFailure';
	}
}
