import {errorMessage, type RelayMessage, type UserRecord} from '../net/messages.js';
import type {FloodLimits} from './flood-guard.js';
import type {Logger} from './logger.js';
import {PresenceBatcher, realTimer, type Timer} from './presence-batcher.js';
import {defaultRelayLimits} from './relay-options.js';
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
	/** Per-connection rate limits; the defaults of relay-options.ts when absent. */
	rate?: FloodLimits;
	/** Batched presence; on, every presenceFlushMs, with real timers when absent. */
	presence?: {enabled: boolean; flushMs: number; timer: Timer};
	clock: () => number;
	log: Logger;
};

type Pending = {sender: Session; envelope: NewEnvelope};

/** User records per welcome or directory message: keeps each well inside one frame. */
const directoryChunk = 200;
/** Queued envelopes read and sent per step while a user catches up. */
const backlogPage = 64;

export class RelayCore {
	private readonly online = new Map<string, Session>();
	private readonly directory = new Map<string, StoredUser>();
	private queueCounts: Map<string, number>;
	private pending: Pending[] = [];
	private commitScheduled = false;
	private readonly presence: PresenceBatcher<Session>;
	readonly rate: FloodLimits;

	constructor(
		readonly options: RelayCoreOptions,
		private readonly store: RelayStore,
	) {
		for (const user of store.users()) this.directory.set(user.username, user);
		this.queueCounts = store.queueCounts();
		this.purgeExpired();
		this.rate = options.rate ?? defaultRelayLimits;
		this.presence = new PresenceBatcher<Session>({
			...(options.presence ?? {enabled: true, flushMs: defaultRelayLimits.presenceFlushMs, timer: realTimer}),
			clock: options.clock,
			observers: () => this.online.entries(),
			send: (session, message) => session.sink.send(message),
		});
	}

	/** Drops presence changes not yet sent; the relay is going down. */
	stop(): void {
		this.presence.stop();
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

	registeredCount(): number {
		return this.directory.size;
	}

	/** Deletes queued envelopes older than maxQueueAgeMs; returns how many. */
	purgeExpired(): number {
		const purged = this.guarded('purge', () => this.store.purgeOlderThan(this.options.clock() - this.options.maxQueueAgeMs)) ?? 0;
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
			.sort((a, b) => (a.username < b.username ? -1 : 1))
			.map(user => this.record(user));
		const first = users.slice(0, directoryChunk);
		const more = users.length - first.length;
		session.sink.send({type: 'welcome', username, users: first, motd: this.options.motd, ...(more > 0 ? {more} : {})});
		for (let start = directoryChunk; start < users.length; start += directoryChunk) {
			session.sink.send({type: 'directory', users: users.slice(start, start + directoryChunk)});
		}
		this.presence.joined(this.record(this.directory.get(username)!), register !== undefined);
		this.presence.welcomed(session);
		session.catchingUp = true;
		this.deliverBacklog(session, username, 0);
	}

	/**
	 * Sends what waits for `username` a page at a time, each page once the connection has room,
	 * so a long queue never overruns maxBufferedBytes. Envelopes accepted meanwhile join the queue
	 * and go out in order with it; once it is empty, new ones are forwarded as they come.
	 */
	private deliverBacklog(session: Session, username: string, after: number): void {
		if (!session.open || this.online.get(username) !== session) return;
		const page = this.guarded('backlog', () => this.store.queued(username, after, backlogPage));
		if (page === undefined) {
			// Nothing lost: the queue stays as it is and goes out at the next login.
			session.sink.close();
			return;
		}
		if (page.length > 0) this.presence.catchUp(username, session);
		for (const envelope of page) session.sink.send({type: 'message', ...envelope});
		if (page.length < backlogPage) {
			session.catchingUp = false;
			return;
		}
		session.sink.whenWritable(() => this.deliverBacklog(session, username, page.at(-1)!.delivery));
	}

	/** @internal */
	leave(session: Session, username: string): void {
		if (this.online.get(username) !== session) return;
		this.online.delete(username);
		this.presence.left(username);
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
		// An ack that fails leaves the envelopes queued: they come again and the client drops the replays.
		const deleted = this.guarded('ack', () => this.store.ack(username, deliveries)) ?? 0;
		if (deleted > 0) this.queueCounts.set(username, Math.max(0, (this.queueCounts.get(username) ?? 0) - deleted));
	}

	/**
	 * One transaction for everything accepted in this turn of the event loop; only after it commits
	 * do senders hear `accepted` and online recipients get the envelope.
	 */
	private commit(): void {
		this.commitScheduled = false;
		const batch = this.pending;
		this.pending = [];
		let results;
		try {
			results = this.store.enqueue(batch.map(item => item.envelope));
		} catch (error) {
			// A full disk or a locked database must cost these messages a retry, never the relay.
			this.options.log('storage_error', {error: (error as {code?: string}).code ?? (error as Error).name, envelopes: batch.length});
			for (const {sender, envelope} of batch) {
				this.queueCounts.set(envelope.to, Math.max(0, (this.queueCounts.get(envelope.to) ?? 1) - 1));
				sender.sink.send(errorMessage('storage_failed', 'the relay could not store the message; send it again later', envelope.id));
			}
			return;
		}
		for (const [index, {sender, envelope}] of batch.entries()) {
			const {delivery, duplicate} = results[index]!;
			if (duplicate) this.queueCounts.set(envelope.to, Math.max(0, (this.queueCounts.get(envelope.to) ?? 1) - 1));
			sender.sink.send({type: 'accepted', id: envelope.id, time: envelope.time});
			if (duplicate) continue;
			const recipient = this.online.get(envelope.to);
			if (recipient && !recipient.catchingUp) {
				// a sender who registered moments ago must be known before its first message arrives
				this.presence.catchUp(envelope.to, recipient);
				recipient.sink.send({type: 'message', delivery, ...envelope});
			}
		}
	}

	/** Runs a store operation; a storage failure is logged and answered by the caller, never thrown. */
	private guarded<T>(operation: string, action: () => T): T | undefined {
		try {
			return action();
		} catch (error) {
			this.options.log('storage_error', {operation, error: (error as {code?: string}).code ?? (error as Error).name});
			return undefined;
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
