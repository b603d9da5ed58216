import {EventEmitter} from 'node:events';
import type {AccountState, ChatConnection, ClientEvents, ClientStatus, Contact, HistoryEntry, RelayInfo} from '../../source/client/client-events.js';

export const contact = (username: string): Contact => ({username, online: true, verified: false, keyChanged: false});

export const entry = (seq: number, fields: Partial<HistoryEntry> = {}): HistoryEntry => ({
	seq,
	conversation: 'bob',
	direction: 'in',
	id: `m${seq}`,
	author: 'bob',
	text: `text ${seq}`,
	sent: 1000 + seq,
	time: 2000 + seq,
	...fields,
});

/** A scripted ChatConnection for the --json session: the test emits events and reads the calls. */
export class FakeChat extends EventEmitter<ClientEvents> implements ChatConnection {
	status: ClientStatus = 'idle';
	relay: RelayInfo | undefined = {host: '127.0.0.1', port: 5000, fingerprint: 'ab'.repeat(32)};
	username: string | undefined;
	contacts: Contact[] = [contact('bob')];
	calls: unknown[][] = [];
	kept: HistoryEntry[] = [entry(1), entry(2, {direction: 'out', author: 'alice', delivery: {state: 'delivered'}})];
	#sent = 0;

	connect(): void {
		this.calls.push(['connect']);
		this.status = 'login';
		queueMicrotask(() => this.emit('login-request'));
	}

	login(username: string): void {
		this.calls.push(['login', username]);
	}

	/** What a ChatClient does on a welcome. */
	welcome(): void {
		this.status = 'online';
		this.username = 'alice';
		this.emit('welcome', {username: 'alice', users: this.contacts, motd: null, online: ['bob'], onlineCount: 2, waiting: 0});
	}

	send(to: string, text: string): string {
		this.calls.push(['send', to, text]);
		return `id${++this.#sent}`;
	}

	sendToEveryone(text: string): {id: string; recipients: string[]} {
		this.calls.push(['sendToEveryone', text]);
		return {id: `id${++this.#sent}`, recipients: ['bob']};
	}

	lookup(names: readonly string[]): string[] {
		this.calls.push(['lookup', ...names]);
		return ['lookup1'];
	}

	who(): void {
		this.calls.push(['who']);
	}

	trust(username: string): void {
		this.calls.push(['trust', username]);
		if (username !== 'bob') throw new Error(`${username} is not a contact`);
	}

	setVerified(): void {}

	safetyNumber(): string {
		return '0'.repeat(40);
	}

	history(conversation: string, options: {before?: number; limit: number}): HistoryEntry[] {
		this.calls.push(['history', conversation, options]);
		return this.kept.filter(kept => kept.conversation === conversation && kept.seq < (options.before ?? Infinity)).slice(-options.limit);
	}

	historyConversations(): Array<{conversation: string; newest: number}> {
		const newest = new Map<string, number>();
		for (const kept of this.kept) newest.set(kept.conversation, Math.max(kept.seq, newest.get(kept.conversation) ?? 0));
		return [...newest].map(([conversation, seq]) => ({conversation, newest: seq}));
	}

	historyFrom(): HistoryEntry[] {
		return [];
	}

	search(words: string, limit?: number): HistoryEntry[] {
		this.calls.push(['search', words, limit]);
		return this.kept.filter(kept => kept.text.includes(words)).reverse();
	}

	forget(conversation: string): number {
		this.calls.push(['forget', conversation]);
		const before = this.kept.length;
		this.kept = this.kept.filter(kept => kept.conversation !== conversation);
		return before - this.kept.length;
	}

	setPassphrase(): void {}

	accountState(): AccountState | undefined {
		return 'plain';
	}

	async close(): Promise<void> {
		this.calls.push(['close']);
		if (this.status === 'closed') return;
		this.status = 'closed';
		this.emit('closed', {code: 'closed', message: 'you left'});
	}

	/** The client ends by itself (the relay refused it, say). */
	end(code: string, message: string): void {
		this.status = 'closed';
		this.emit('closed', {code, message});
	}
}
