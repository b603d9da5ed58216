import {EventEmitter} from 'node:events';
import {everyone} from '../../source/hooks/chat-state/types.js';
import type {ChatConnection, ClientEvents, ClientStatus, Contact, RelayInfo} from '../../source/client/client-events.js';

export const contact = (username: string, fields: Partial<Contact> = {}): Contact => ({username, online: true, verified: false, keyChanged: false, ...fields});

/** A scripted connection: the test emits events and sees what the hook asked for. */
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
	login(username: string): void {
		this.logins.push(username);
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

