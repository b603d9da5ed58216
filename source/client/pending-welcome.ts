import {ProtocolError} from '../net/error-codes.js';
import type {RelayMessage, UserRecord} from '../net/messages.js';

export type Welcome = Extract<RelayMessage, {type: 'welcome'}>;

/** A welcome and the directory records it announced (`more`), gathered until every one has arrived. */
export class PendingWelcome {
	readonly users: UserRecord[];
	private missing: number;

	constructor(readonly welcome: Welcome) {
		this.users = [...welcome.users];
		this.missing = welcome.more ?? 0;
	}

	/** A directory frame: records the welcome announced, or a protocol error. */
	add(users: readonly UserRecord[]): void {
		if (users.length > this.missing) throw new ProtocolError('bad_message', 'directory records nobody announced');
		this.users.push(...users);
		this.missing -= users.length;
	}

	/** A welcome is complete once every directory record it announced has arrived. */
	get complete(): boolean {
		return this.missing <= 0;
	}
}

/** Why a welcome that lists more users than `maxRecords` is not taken; undefined when it fits. */
export function directoryTooLarge(welcome: Welcome, maxRecords: number): string | undefined {
	const listed = welcome.users.length + (welcome.more ?? 0);
	if (listed <= maxRecords) return undefined;
	return `the relay lists ${listed.toLocaleString('en-US')} users, more than the ${maxRecords.toLocaleString('en-US')} this client takes`;
}
