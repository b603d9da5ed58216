import type {UserRecord} from '../net/messages.js';
import type {Contact, Emit} from './client-events.js';
import type {EndToEnd} from './end-to-end.js';

/** What the roster needs from its session. */
export type RosterHost = {
	emit: Emit;
	/** The contact store failed (said once, until it works again). */
	localError(what: string, error: unknown): void;
	/** Records the contact store could not take: checked again before any envelope. */
	holdRecords(users: readonly UserRecord[], online: boolean): void;
};

/** The people a session knows of, online or not: from the welcome, lookups and presence, checked against the pins. */
export class Roster {
	private readonly online = new Map<string, boolean>();

	constructor(
		private readonly e2e: EndToEnd,
		private readonly host: RosterHost,
	) {}

	/**
	 * Pins or checks the records; for each, true when the user is listed (its record is valid).
	 * If the contact store fails, they are listed for now and checked again before any envelope.
	 */
	observe(users: readonly UserRecord[], online: boolean): boolean[] {
		const me = this.e2e.username;
		const others = users.filter(user => user.username !== me);
		const listed = users.map(user => user.username !== me);
		let wasChanged: boolean[];
		let verdicts: ReturnType<EndToEnd['observeAll']>;
		try {
			const {keyChanged} = this.e2e.marks();
			wasChanged = others.map(user => keyChanged.has(user.username));
			verdicts = this.e2e.observeAll(others);
		} catch (error) {
			this.host.localError('could not save the keys the relay serves', error);
			for (const user of others) this.online.set(user.username, online || user.online);
			this.host.holdRecords(others, online);
			return listed;
		}
		for (const [index, user] of others.entries()) {
			const name = user.username;
			const verdict = verdicts[index];
			if (verdict === 'invalid') {
				listed[users.indexOf(user)] = false;
				this.host.emit('rejected', {from: name, code: 'invalid_identity', reason: 'the relay served an identity whose signature does not verify'});
				continue;
			}
			this.online.set(name, online || user.online);
			if (verdict === 'changed' && !wasChanged[index]) this.host.emit('contact-updated', this.contact(name));
		}
		return listed;
	}

	/** `username` left: 'user-left' is emitted if the roster knows of them. */
	left(username: string): void {
		if (!this.online.has(username)) return;
		this.online.set(username, false);
		this.host.emit('user-left', username);
	}

	/** The connection is gone: who is online is unknown until the next welcome. */
	allOffline(): void {
		for (const name of this.online.keys()) this.online.set(name, false);
	}

	/** Who is online now, but for those whose key changed. */
	onlineExcept(keyChanged: ReadonlySet<string>): string[] {
		return [...this.online].filter(([name, online]) => online && !keyChanged.has(name)).map(([name]) => name);
	}

	/** Contacts from the welcome, lookups and presence, and the pinned ones this account talks with. */
	contacts(): Contact[] {
		const marks = this.e2e.marks();
		const names = new Set(this.online.keys());
		for (const name of this.e2e.talkedWith()) if (name !== this.e2e.username) names.add(name);
		return [...names].sort().map(name => this.contact(name, marks));
	}

	contact(username: string, marks = this.e2e.marks()): Contact {
		return {
			username,
			online: this.online.get(username) ?? false,
			verified: marks.verified.has(username),
			keyChanged: marks.keyChanged.has(username),
		};
	}
}
