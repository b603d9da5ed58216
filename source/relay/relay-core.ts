import type {DeliveredEnvelope, RelayMessage, UserRecord} from '../net/messages.js';
import type {Logger} from './logger.js';
import type {NewEnvelope, RelayStore, StoredUser} from './relay-store.js';
import {Session, type SessionContext, type SessionSink} from './session.js';

/**
 * The relay's chat rules: the directory of registered users, who is online, routing through the
 * queue, presence and announcements. It knows nothing about sockets or crypto transports; the
 * bridge (connection.ts) opens a Session per connection and gives it a sink.
 */
export type RelayCoreOptions = {
	motd: string | null;
	maxBodyBytes: number;
	maxQueuedPerUser: number;
	maxQueueAgeMs: number;
	relayIdentity: Buffer;
	clock: () => number;
	log: Logger;
};

type Pending = {sender: Session; envelope: NewEnvelope};

export class RelayCore {
	private readonly online = new Map<string, Session>();
	private readonly directory = new Map<string, StoredUser>();
	private queueCounts: Map<string, number>;
	private pending: Pending[] = [];
	private commitScheduled = false;

	constructor(
		readonly options: RelayCoreOptions,
		private readonly store: RelayStore,
	) {
		for (const user of store.users()) this.directory.set(user.username, user);
		this.queueCounts = store.queueCounts();
		this.purgeExpired();
	}

	openSession(sink: SessionSink, context: SessionContext): Session {
		return new Session(this, sink, context);
	}

	onlineUsernames(): string[] {
		return [...this.online.keys()].sort();
	}

	announce(text: string): void {
		const message: RelayMessage = {type: 'announcement', text, time: this.options.clock()};
		for (const session of this.online.values()) session.sink.send(message);
		this.options.log('announcement', {recipients: this.online.size, bytes: Buffer.byteLength(text)});
	}

	registered(username: string): StoredUser | undefined {
		return this.directory.get(username);
	}

	/** Deletes queued envelopes older than maxQueueAgeMs; returns how many. */
	purgeExpired(): number {
		const purged = this.store.purgeOlderThan(this.options.clock() - this.options.maxQueueAgeMs);
		if (purged > 0) {
			this.options.log('queue_expired', {envelopes: purged});
			this.queueCounts = this.store.queueCounts();
		}
		return purged;
	}

	/** @internal Session calls this once a login has been verified. */
	admit(session: Session, username: string, register: StoredUser | undefined): void {
		if (register) {
			this.store.registerUser(register);
			this.directory.set(username, register);
			this.options.log('register', {user: username});
		}
		this.online.get(username)?.replace();
		this.online.set(username, session);
		const users = [...this.directory.values()]
			.filter(user => user.username !== username)
			.map(user => this.record(user));
		session.sink.send({type: 'welcome', username, users, motd: this.options.motd});
		this.broadcast({type: 'user_joined', user: this.record(this.directory.get(username)!)}, session);
		for (const envelope of this.store.queued(username)) session.sink.send({type: 'message', ...envelope});
	}

	/** @internal */
	leave(session: Session, username: string): void {
		if (this.online.get(username) !== session) return;
		this.online.delete(username);
		this.broadcast({type: 'user_left', username}, session);
	}

	/** @internal Checks the limits, then queues the envelope for the next commit. */
	accept(sender: Session, envelope: NewEnvelope): 'ok' | 'unknown_recipient' | 'queue_full' {
		if (!this.directory.has(envelope.to)) return 'unknown_recipient';
		const queued = this.queueCounts.get(envelope.to) ?? 0;
		if (queued >= this.options.maxQueuedPerUser) return 'queue_full';
		this.queueCounts.set(envelope.to, queued + 1);
		this.pending.push({sender, envelope});
		if (!this.commitScheduled) {
			this.commitScheduled = true;
			queueMicrotask(() => this.commit());
		}
		return 'ok';
	}

	/** @internal */
	acknowledge(username: string, deliveries: readonly number[]): void {
		const deleted = this.store.ack(username, deliveries);
		if (deleted > 0) this.queueCounts.set(username, Math.max(0, (this.queueCounts.get(username) ?? 0) - deleted));
	}

	/** Everyone online but `except`. */
	broadcast(message: RelayMessage, except?: Session): void {
		for (const session of this.online.values()) {
			if (session !== except) session.sink.send(message);
		}
	}

	/**
	 * One transaction for everything accepted in this turn of the event loop; only after it commits
	 * do senders hear `accepted` and online recipients get the envelope.
	 */
	private commit(): void {
		this.commitScheduled = false;
		const batch = this.pending;
		this.pending = [];
		const results = this.store.enqueue(batch.map(item => item.envelope));
		for (const [index, {sender, envelope}] of batch.entries()) {
			const {delivery, duplicate} = results[index]!;
			if (duplicate) this.queueCounts.set(envelope.to, Math.max(0, (this.queueCounts.get(envelope.to) ?? 1) - 1));
			sender.sink.send({type: 'accepted', id: envelope.id, time: envelope.time});
			if (duplicate) continue;
			const delivered: DeliveredEnvelope = {delivery, ...envelope};
			this.online.get(envelope.to)?.sink.send({type: 'message', ...delivered});
		}
	}

	private record(user: StoredUser): UserRecord {
		return {
			username: user.username,
			online: this.online.has(user.username),
			identity: user.identity,
			x25519: user.x25519,
			binding: user.binding,
		};
	}
}
