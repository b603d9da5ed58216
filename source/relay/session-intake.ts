import {ProtocolError, type FatalErrorCode} from '../net/error-codes.js';
import {errorMessage, type ClientMessage} from '../net/messages.js';
import {FloodGuard, type FloodContext} from './flood-guard.js';
import type {RelayCore} from './relay-core.js';
import type {Maybe} from './maybe.js';
import {SessionQueue} from './session-queue.js';
import type {SessionContext, SessionSink} from './session-sink.js';

/** Work that waits its turn among the messages. */
type Task = () => Maybe<void>;

/** The session an intake feeds. */
export type IntakeSession = {
	readonly sink: SessionSink;
	readonly open: boolean;
	readonly name: string | undefined;
	/** Handles a message in its turn: at once, or a promise that settles when it is done. */
	dispatch(message: ClientMessage): Promise<void> | void;
};

/**
 * How one connection's messages reach its session (PROTOCOL.md section 6): each is charged to the
 * rate as it arrives, synchronously, so a flood is cut before anything of it waits; then handled
 * in the order it came, each finished (every store call of it) before the next starts
 * (session-queue.ts, which also bounds how many wait). Answers keep that order: a refusal waits
 * behind what came before it.
 *
 * While a login is handled, the messages that come meanwhile are charged in their turn instead,
 * to the account's rate once it has logged in (a reconnect does not refill it); after one is,
 * every later one is too, so they are charged in the order they came.
 */
export class SessionIntake {
	/** This connection's rate until it logs in; then its account's, which a reconnect does not refill. */
	flood: FloodGuard;
	/** Messages, handled in order; a task now and then (a refusal answered in its turn, a message charged in its turn). */
	private readonly queue: SessionQueue<ClientMessage | Task>;
	private readonly floodContext: FloodContext;
	/** Set while a login is handled: messages that come meanwhile are charged in their turn. */
	private loggingIn = false;
	/** Messages waiting to be charged in their turn. */
	private deferred = 0;
	/** Flooding: nothing more is taken from this connection, which ends once what came before is answered. */
	private cut = false;
	/** Set from the first refusal until a message passes again: one log line per spell, not per message. */
	private throttled = false;

	constructor(
		private readonly session: IntakeSession,
		private readonly core: RelayCore,
		private readonly context: SessionContext,
	) {
		this.flood = new FloodGuard(core.limits, core.options.clock);
		this.floodContext = {
			get audience() {
				return core.onlineCount();
			},
			online: to => core.isOnline(to),
			// The members a room in memory has now; more are owed in the message's turn if it has more then (session.ts).
			roomAudience: room => (session.name === undefined ? 0 : (core.rooms.audience(room) ?? 0)),
		};
		this.queue = new SessionQueue<ClientMessage | Task>(item => (typeof item === 'function' ? item() : this.handle(item)), {
			failed: error => this.failed(error),
			drained: () => session.sink.drained?.(),
		});
	}

	/** Settles once every message taken is handled; undefined if none waits. */
	idle(): Promise<void> | undefined {
		return this.queue.idle();
	}

	/** Whether the connection should stop reading: as many messages wait as may. */
	get full(): boolean {
		return this.queue.full;
	}

	take(message: ClientMessage): void {
		if (!this.session.open || this.cut) return;
		if (this.loggingIn || this.deferred > 0) {
			this.deferred += 1;
			this.enqueue(() => {
				this.deferred -= 1;
				if (!this.session.open || this.cut || !this.withinRate(message, false)) return;
				return this.handle(message);
			});
			return;
		}
		if (!this.withinRate(message, true)) return;
		this.enqueue(message);
	}

	private handle(message: ClientMessage): Maybe<void> {
		if (message.type !== 'login') return this.session.dispatch(message);
		this.loggingIn = true;
		const done = (): void => {
			this.loggingIn = false;
		};
		try {
			const pending = this.session.dispatch(message);
			if (pending !== undefined) return pending.finally(done);
			done();
		} catch (error) {
			done();
			throw error;
		}
	}

	private enqueue(item: ClientMessage | Task): void {
		this.queue.push(item);
		const {stats} = this.core;
		if (this.queue.length > stats.maxWaitingMessages) stats.maxWaitingMessages = this.queue.length;
	}

	/** Every message after the handshake counts, logins included (each costs two signature checks). A refusal is answered in its turn (`inOrder`) or at once. */
	private withinRate(message: ClientMessage, inOrder: boolean): boolean {
		const verdict = this.flood.check(message, this.floodContext);
		if (verdict === 'ok') {
			this.throttled = false;
			return true;
		}
		const {sink} = this.session;
		if (verdict === 'flooding') {
			// Cut now: nothing after it is taken. What came before it is answered first, as it would have been.
			this.cut = true;
			const flooding = (): void => sink.fail('flooding', 'too many messages refused; the relay is closing this connection');
			if (inOrder) this.enqueue(flooding);
			else flooding();
			return false;
		}
		const {rateBurst, ratePerSecond} = this.core.limits;
		const ref = message.type === 'send' || message.type === 'lookup' || message.type === 'get_bundle' || message.type === 'room_send' ? message.id : 'room' in message ? message.room : null;
		const refusal = errorMessage('rate_limited', `slow down: at most ${rateBurst} messages at once, then ${ratePerSecond} a second`, ref);
		if (inOrder) this.enqueue(() => sink.send(refusal));
		else sink.send(refusal);
		if (!this.throttled) this.core.options.log('refused', {code: 'rate_limited', user: this.session.name ?? null, remote: this.context.remote});
		this.throttled = true;
		return false;
	}

	/**
	 * A room message's copies, one to each other member, are owed after the fact (flood-guard.ts):
	 * the rate check owed them to the members the room had in memory when it came; if it has more
	 * as the message's turn comes (adds before it were handled meanwhile), or once it is handled (it
	 * was not in memory), the rest are owed then, so the charge is what it would be had nothing
	 * waited. Says whether the room's members were known (otherwise ask again once it is handled).
	 */
	oweRoomCopies(message: ClientMessage): boolean {
		if (message.type !== 'room_send' && message.type !== 'room_change') return true;
		const audience = this.core.rooms.audience(message.room);
		const owed = this.flood.owedCopies(message);
		if (audience !== undefined && audience > owed) this.flood.oweCopies(message, audience - owed);
		return audience !== undefined;
	}

	/** Another limiter refused a request (prekeys, bundles, lookups): it counts toward `flooding`. Says whether the connection ends for it. */
	refusedElsewhere(): boolean {
		if (this.flood.refusedElsewhere() !== 'flooding') return false;
		this.session.sink.fail('flooding', 'too many messages refused; the relay is closing this connection');
		return true;
	}

	/** A handler failed in a way no part of it answered (a bug, or a storage failure at login): this connection pays, never the relay. */
	private failed(error: unknown): void {
		const {sink} = this.session;
		if (error instanceof ProtocolError) {
			sink.fail(error.code as FatalErrorCode, error.message);
			return;
		}
		this.core.options.log('internal_error', {remote: this.context.remote, error: (error as Error | undefined)?.name ?? 'error'});
		sink.fail('bad_message', 'the relay could not process that frame');
	}
}
