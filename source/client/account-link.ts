import {ClientAccount} from './client-account.js';
import type {AccountState, ClientEvents} from './client-events.js';
import type {HistoryEntry} from './history.js';
import {RelayLink} from './relay-link.js';

/**
 * A RelayLink with the account it logs in as (client-account.ts): its database is open from login
 * until the client stops, what the client emits is kept in its history, and the history, search,
 * forgetting and the passphrase are read and changed here, connected or not.
 */
export abstract class AccountLink extends RelayLink {
	protected readonly account = new ClientAccount(this.options.dataDir, this.options.retention, message => this.emit('local-error', {message}));

	override emit<E extends keyof ClientEvents>(event: E, ...args: ClientEvents[E]): boolean {
		this.account.record(event, args);
		return (super.emit as (event: E, ...rest: ClientEvents[E]) => boolean)(event, ...args);
	}

	history(conversation: string, options: {before?: number; limit: number}): HistoryEntry[] {
		return this.account.history(history => history.page(conversation, options), []);
	}

	historyConversations(): Array<{conversation: string; newest: number}> {
		return this.account.history(history => history.newest().map(({conversation, seq}) => ({conversation, newest: seq})), []);
	}

	historyFrom(conversation: string, seq: number, limit: number): HistoryEntry[] {
		return this.account.history(history => history.from(conversation, seq, limit), []);
	}

	search(words: string, limit?: number): HistoryEntry[] {
		return this.account.history(history => history.search(words, limit), []);
	}

	forget(conversation: string): number {
		return this.account.history(history => history.forget(conversation), 0);
	}

	setPassphrase(passphrase: string | undefined): void {
		this.account.setPassphrase(passphrase);
	}

	accountState(username: string): AccountState | undefined {
		const fingerprint = this.relay?.fingerprint;
		return fingerprint === undefined ? undefined : this.account.state(fingerprint, username);
	}

	protected override stopped(): void {
		this.account.close();
	}
}
