import {EventEmitter} from 'node:events';
import {everyone} from '../../source/hooks/chat-state/types.js';
import {join} from 'node:path';
import type {AccountState, ChatConnection, ClientEvents, ClientStatus, Contact, HistoryEntry, RelayInfo} from '../../source/client/client-events.js';
import {History} from '../../source/client/history.js';
import {openAccountDatabase} from '../../source/client/store/account-database.js';
import {tempDir} from '../helpers/temp-dir.js';
import {FakeRooms} from './fake-rooms.js';

export const contact = (username: string, fields: Partial<Contact> = {}): Contact => ({username, online: true, verified: false, keyChanged: false, ...fields});

/**
 * A scripted connection: the test emits events and sees what the hook asked for. Its history is a
 * real History on a database of its own (`kept`), which a test fills to stand for earlier runs.
 */
export class FakeConnection extends EventEmitter<ClientEvents> implements ChatConnection {
	status: ClientStatus = 'login';
	relay: RelayInfo | undefined = {host: 'h', port: 1, fingerprint: 'ab'.repeat(32)};
	username: string | undefined;
	contacts: Contact[] = [];
	logins: string[] = [];
	sends: Array<[string, string]> = [];
	calls: string[] = [];
	everyoneRecipients = ['amy', 'bob'];
	connect(): void {}
	passphrases: Array<string | undefined> = [];
	accountStates = new Map<string, AccountState>();
	readonly kept = new History(openAccountDatabase(join(tempDir(), 'account.db')));
	readonly rooms = new FakeRooms();
	login(username: string, passphrase?: string): void {
		this.logins.push(username);
		this.passphrases.push(passphrase);
	}

	history(conversation: string, options: {before?: number; limit: number}): HistoryEntry[] {
		return this.kept.page(conversation, options);
	}

	historyConversations(): Array<{conversation: string; newest: number}> {
		return this.kept.newest().map(({conversation, seq}) => ({conversation, newest: seq}));
	}

	historyFrom(conversation: string, seq: number, limit: number): HistoryEntry[] {
		return this.kept.from(conversation, seq, limit);
	}

	search(words: string, limit?: number): HistoryEntry[] {
		return this.kept.search(words, limit);
	}

	forget(conversation: string): number {
		this.calls.push(`forget ${conversation}`);
		return this.kept.forget(conversation);
	}

	setPassphrase(passphrase: string | undefined): void {
		this.calls.push(passphrase === undefined ? 'setPassphrase none' : 'setPassphrase');
	}

	accountState(username: string): AccountState | undefined {
		return this.accountStates.get(username) ?? 'plain';
	}

	send(to: string, text: string): string {
		this.sends.push([to, text]);
		return `id${this.sends.length}`;
	}

	sendToEveryone(text: string): {id: string; recipients: string[]} {
		this.sends.push([everyone, text]);
		return {id: `id${this.sends.length}`, recipients: this.everyoneRecipients};
	}

	lookups: string[][] = [];
	whos = 0;
	lookup(names: readonly string[]): string[] {
		this.lookups.push([...names]);
		return [`lookup${this.lookups.length}`];
	}

	who(): void {
		this.whos++;
	}

	trust(username: string): void {
		this.calls.push(`trust ${username}`);
	}

	setVerified(username: string, verified: boolean): void {
		this.calls.push(`setVerified ${username} ${verified}`);
	}

	safetyNumber(username: string): string {
		this.calls.push(`safetyNumber ${username}`);
		return '0123456789abcdef0123456789abcdef01234567';
	}

	async close(): Promise<void> {}
}

