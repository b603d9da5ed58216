import type {RelayMessage, UserRecord} from '../net/messages.js';
import {presenceChanges, type PresenceChange, type PresenceEvent} from './presence-changes.js';

/** Runs `callback` once after `delayMs`; returns a function that cancels it. */
export type Timer = (callback: () => void, delayMs: number) => () => void;

export const realTimer: Timer = (callback, delayMs) => {
	const timeout = setTimeout(callback, delayMs);
	timeout.unref();
	return () => clearTimeout(timeout);
};

export type PresenceOptions<Observer> = {
	/** When false, nobody hears of joins and leaves after their welcome (for benchmarks). */
	enabled: boolean;
	flushMs: number;
	timer: Timer;
	clock: () => number;
	/** Who is online now, by name: the audience of a flush. */
	observers: () => Iterable<[string, Observer]>;
	send: (observer: Observer, message: RelayMessage) => void;
	/**
	 * Who hears about whom, asked once per flush with the names that changed (and, for catchUp,
	 * the one observer caught up): undefined lets everyone hear of everyone. A promise (the store
	 * is read) never rejects.
	 */
	audience?: (about: ReadonlySet<string>, observer?: string) => Audience | undefined | Promise<Audience | undefined>;
};

/** Whether `observer` hears of changes to `about`. */
export type Audience = (observer: string, about: string) => boolean;

/**
 * Joins and leaves, coalesced: collected for `flushMs`, then every online client gets the net
 * changes about those it has as contacts (`audience`, decided at the flush) as user_joined / user_left messages, queued in one turn so they share one frame. A
 * change after a quiet spell goes out on the next turn; later ones wait for the window to close,
 * so a client gets at most one presence flush per `flushMs`, and the work per login is one entry
 * in a list, not one frame to everyone.
 *
 * An observer that logged in during the window already saw, in its welcome, every event before
 * its own login, so it is told only what happened after. catchUp() flushes one observer early:
 * the core calls it before an envelope reaches it, so nobody gets a message from a sender it has
 * not heard of yet.
 *
 * An audience read from the store comes later than the events it decides: deliveries then go out
 * one batch after another in the order decided (a flush, a catch-up), never one overtaking an
 * earlier one, and catchUp() answers a promise that settles once the observer has had all of it.
 */
export class PresenceBatcher<Observer extends object> {
	private events: PresenceEvent[] = [];
	/** Observers already told about events[0 .. n): those that logged in or caught up in this window. */
	private seen = new Map<Observer, number>();
	private cancel: (() => void) | undefined;
	private lastFlush = Number.NEGATIVE_INFINITY;
	private stopped = false;
	/** Deliveries waiting for their audience, in order; undefined while none are. */
	private delivering: Promise<void> | undefined;

	constructor(private readonly options: PresenceOptions<Observer>) {}

	joined(user: UserRecord, registered: boolean): void {
		this.add({username: user.username, joined: true, user, registered});
	}

	left(username: string): void {
		this.add({username, joined: false});
	}

	/** `observer` just got its welcome, which covers everything that has happened so far. */
	welcomed(observer: Observer): void {
		if (this.events.length > 0) this.seen.set(observer, this.events.length);
	}

	/**
	 * Sends `observer` what it has not heard yet. Undefined once it is sent; a promise (never
	 * rejected) when the audience is read first, or earlier deliveries are still waiting for theirs.
	 */
	catchUp(username: string, observer: Observer): Promise<void> | undefined {
		const from = this.seen.get(observer) ?? 0;
		if (from >= this.events.length) return this.delivering;
		this.seen.set(observer, this.events.length);
		const changes = presenceChanges(this.events, from);
		const audience = this.options.audience?.(new Set(changes.map(change => change.username)), username);
		return this.inOrder(audience, decided => this.deliver(username, observer, changes, decided));
	}

	flush(): void {
		this.cancel?.();
		this.cancel = undefined;
		this.lastFlush = this.options.clock();
		const {events, seen} = this;
		this.events = [];
		this.seen = new Map();
		const shared = presenceChanges(events);
		// Every observer hears of at most these names: later observers' changes are a part of them.
		const audience = this.options.audience?.(new Set(events.map(event => event.username)));
		// Those online now: one who logs in while the audience is read has this in its welcome.
		const observers = [...this.options.observers()];
		void this.inOrder(audience, decided => {
			for (const [username, observer] of observers) {
				const from = seen.get(observer) ?? 0;
				if (from < events.length) this.deliver(username, observer, from === 0 ? shared : presenceChanges(events, from), decided);
			}
		});
	}

	/** Runs `send` with the audience once it is known and every earlier delivery is out. */
	private inOrder(audience: Audience | undefined | Promise<Audience | undefined>, send: (audience: Audience | undefined) => void): Promise<void> | undefined {
		if (this.delivering === undefined && !(audience instanceof Promise)) {
			send(audience);
			return undefined;
		}
		const delivered = (this.delivering ?? Promise.resolve())
			.then(async () => {
				const decided = await audience;
				if (!this.stopped) send(decided);
			})
			// Sending is writing to connections, which never throws; should it, the next batch still goes.
			.catch(() => {});
		this.delivering = delivered;
		void delivered.finally(() => {
			if (this.delivering === delivered) this.delivering = undefined;
		});
		return delivered;
	}

	/** For good: the relay is going down, and the leaves that follow need not be told. */
	stop(): void {
		this.stopped = true;
		this.cancel?.();
		this.cancel = undefined;
		this.events = [];
		this.seen.clear();
	}

	private add(event: PresenceEvent): void {
		if (!this.options.enabled || this.stopped) return;
		this.events.push(event);
		if (this.cancel) return;
		const {flushMs, clock} = this.options;
		const wait = Math.min(flushMs, Math.max(0, this.lastFlush + flushMs - clock()));
		this.cancel = this.options.timer(() => this.flush(), wait);
	}

	/** Never tells users about themselves. */
	private deliver(username: string, observer: Observer, changes: PresenceChange[], audience: Audience | undefined): void {
		for (const change of changes) {
			if (change.username === username || (audience !== undefined && !audience(username, change.username))) continue;
			for (const message of change.messages) this.options.send(observer, message);
		}
	}
}
