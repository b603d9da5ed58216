import type {ClientEvents, Contact} from './client-events.js';
import type {ClientMessage, DeliveredEnvelope, RelayMessage, UserRecord} from '../net/messages.js';
import {maxLookupNames} from '../net/messages.js';
import {Lookups, type LookupReason} from './lookups.js';
import {Strangers} from './strangers.js';
import {WhoOnline, type WhoView} from './who-online.js';

type Emit = <E extends keyof ClientEvents>(event: E, ...args: ClientEvents[E]) => void;

type Found = Extract<RelayMessage, {type: 'found'}>;

/**
 * Pinned names an upgraded client looks up after its first welcome, at most: the relay's
 * maxContacts and lookupBurst (PROTOCOL.md section 4.3), those it talks with first. One lookup
 * at a time, so the rest of the session's messages are not held behind them.
 */
export const maxCarryOverNames = 5000;

/** How long a sender whose lookup the relay refused (throttled) waits before it is asked again. */
export const defaultStrangerRetryMs = 30_000;

/** `who` messages asked and not yet answered, at most; the periodic one is skipped past it. */
const maxUnansweredWho = 4;

/** What the finder needs from the session it serves (ChatSession). */
export type FinderHost = {
	readonly username: string;
	/** Checks and pins records as any from the relay; for each, whether it is listed (valid, not us). */
	observe(users: readonly UserRecord[]): boolean[];
	contact(name: string): Contact;
	/** Processes an envelope again, in order behind what waits (see ChatSession.deliver). */
	deliver(envelope: DeliveredEnvelope): void;
	/** Ends the connection so that the relay sends again what was not acknowledged. */
	redeliver(): void;
	/** The carry-over is over; `complete`: every name was asked (none refused). */
	carriedOver(complete: boolean): void;
	emit: Emit;
};

/**
 * Finding people by name (PROTOCOL.md section 4.3) for one session: lookups and their answers,
 * the names pinned before version 2 that the first welcome did not list, envelopes from senders
 * with no pin (held until looked up), and the who-is-online view asked again every minute. A
 * record found is pinned exactly as a welcome's (host.observe). Only names asked are taken from
 * an answer: a relay cannot have us pin what nobody looked up.
 */
export class ContactFinder {
	readonly #lookups = new Lookups();
	readonly #strangers = new Strangers();
	readonly #who: WhoOnline;
	/** Pinned names still to carry over, one lookup at a time; undefined until the first welcome. */
	#carryOver: string[] | undefined;
	/** How the carry-over went so far, told once it is over ('carried-over'). */
	#carried = {names: 0, found: 0, failed: false, told: false};
	/** Who asked each unanswered `who`, oldest first: the person (true) or the timer. */
	#whoAsked: boolean[] = [];
	#out: ((message: ClientMessage) => void) | undefined;
	#resendTimer: NodeJS.Timeout | undefined;
	#strangerTimer: NodeJS.Timeout | undefined;

	constructor(
		private readonly host: FinderHost,
		whoIntervalMs: number,
		/** How long a lookup the relay rate-limited waits before it goes out again. */
		private readonly resendPauseMs = 1000,
		private readonly strangerRetryMs = defaultStrangerRetryMs,
	) {
		this.#who = new WhoOnline(host.username, whoIntervalMs);
	}

	get whoView(): WhoView {
		return this.#who.view;
	}

	attach(out: (message: ClientMessage) => void): void {
		this.#out = out;
		this.#who.start(() => this.askWho(false));
		this.transmit();
	}

	detach(): void {
		this.#out = undefined;
		clearTimeout(this.#resendTimer);
		this.#resendTimer = undefined;
		clearTimeout(this.#strangerTimer);
		this.#strangerTimer = undefined;
		this.#who.stop();
		this.#whoAsked = [];
		this.#lookups.detach();
		this.#strangers.clear();
	}

	/** Looks `names` up (valid, folded usernames); returns the ids the answers will carry. */
	lookup(names: readonly string[], reason: LookupReason = 'user'): string[] {
		const ids = this.#lookups.add(names, reason);
		this.transmit();
		return ids;
	}

	/** The welcome's who-is-online view. */
	welcomed(online: readonly string[], total: number): WhoView {
		return this.#who.update(online, total);
	}

	/** Once per run: looks up the pinned names the first welcome did not list, a batch at a time. */
	carryOver(names: readonly string[]): void {
		if (this.#carryOver !== undefined) return;
		this.#carryOver = names.slice(0, maxCarryOverNames);
		this.#carried.names = this.#carryOver.length;
		this.nextCarryOver();
	}

	askWho(asked: boolean): void {
		const out = this.#out;
		if (out === undefined || this.#whoAsked.length >= maxUnansweredWho) return;
		this.#whoAsked.push(asked);
		out({type: 'who'});
	}

	online(names: readonly string[], total: number): void {
		const asked = this.#whoAsked.shift() ?? false;
		this.host.emit('online', {...this.#who.update(names, total), asked});
	}

	found({id, users, missing}: Found): void {
		const lookup = this.#lookups.settle(id);
		if (lookup === undefined) return;
		const asked = new Set(lookup.names);
		const seen = new Set<string>();
		const records = users.filter(user => asked.has(user.username) && !seen.has(user.username) && seen.add(user.username));
		const listed = this.host.observe(records);
		const found = records.filter((_, index) => listed[index]).map(user => user.username);
		const names = new Set(found);
		const absent = [...new Set(missing)].filter(name => asked.has(name) && !names.has(name));
		this.host.emit('found', {id, reason: lookup.reason, users: found.map(name => this.host.contact(name)), missing: absent});
		if (lookup.reason === 'carry-over') this.#carried.found += found.length;
		this.settled(lookup.names, names, lookup.reason);
	}

	/** A refusal whose ref may be a lookup's id: true when it was one (and is dealt with). */
	refused(ref: string, code: string, message: string): boolean {
		if (code === 'rate_limited' && this.#lookups.unsend(ref)) {
			// Dropped unread, not refused: it goes out again after a pause.
			this.resendLater();
			return true;
		}
		const lookup = this.#lookups.settle(ref);
		if (lookup === undefined) return false;
		const {names, reason} = lookup;
		this.host.emit('lookup-failed', {id: ref, names: [...names], reason, code, message});
		// The rest of the carry-over would be refused the same way: it is over for this run.
		if (reason === 'carry-over') {
			this.#carryOver = [];
			this.#carried.failed = true;
		}
		this.settled(names, new Set(), reason, true);
		return true;
	}

	/**
	 * The relay dropped a message with no id (rate_limited, ref null): maybe a who, so the who view
	 * no longer tells whose ask an answer is.
	 */
	droppedWithoutRef(): void {
		this.#whoAsked = [];
	}

	/** Whether `name` was looked up on this connection and not found: its envelopes are rejected. */
	isUnknown(name: string): boolean {
		return this.#strangers.isUnknown(name);
	}

	/** An envelope from a sender with no pin: held, and the sender looked up at the next flush. */
	holdFromStranger(envelope: DeliveredEnvelope): void {
		this.#strangers.hold(envelope);
	}

	/** Sends the lookups of the senders held since the last flush, many names per lookup. */
	flush(): void {
		if (this.#out === undefined) return;
		const names = this.#strangers.takeLookups();
		if (names.length === 0) return;
		try {
			this.lookup(names, 'sender');
		} catch {
			// Too many lookups wait: these senders are asked again later, their envelopes kept.
			this.settled(names, new Set(), 'sender', true);
		}
	}

	private retryStrangersLater(): void {
		if (this.#strangerTimer !== undefined) return;
		this.#strangerTimer = setTimeout(() => {
			this.#strangerTimer = undefined;
			if (this.#strangers.retry()) this.flush();
		}, this.strangerRetryMs);
		this.#strangerTimer.unref();
	}

	private resendLater(): void {
		if (this.#resendTimer !== undefined) return;
		this.#resendTimer = setTimeout(() => {
			this.#resendTimer = undefined;
			this.transmit();
		}, this.resendPauseMs);
		this.#resendTimer.unref();
	}

	transmit(): void {
		const out = this.#out;
		if (out === undefined) return;
		for (const message of this.#lookups.takeUnsent()) out(message);
	}

	/**
	 * The envelopes held from `names` go on: opened if found, rejected if the relay said nobody has
	 * the name. A lookup the relay `refused` says nothing of them: they stay held for a later try.
	 */
	private settled(names: readonly string[], found: ReadonlySet<string>, reason: LookupReason, refused = false): void {
		if (refused) {
			for (const name of names) this.#strangers.defer(name);
			this.retryStrangersLater();
		} else {
			for (const name of names) for (const envelope of this.#strangers.release(name, found.has(name))) this.host.deliver(envelope);
		}
		if (this.#strangers.takeOverflow()) this.host.redeliver();
		if (reason === 'carry-over') this.nextCarryOver();
	}

	private nextCarryOver(): void {
		const names = this.#carryOver;
		if (names === undefined) return;
		if (names.length === 0) {
			this.carriedOver();
			return;
		}
		try {
			this.lookup(names.slice(0, maxLookupNames), 'carry-over');
			names.splice(0, maxLookupNames);
		} catch {
			// Too many lookups wait: what is left of the carry-over is not looked up in this run.
			this.#carried.failed = true;
			names.length = 0;
			this.carriedOver();
		}
	}

	/** Tells, once, that the carry-over is over (also when there was nothing to look up). */
	private carriedOver(): void {
		const carried = this.#carried;
		if (carried.told) return;
		carried.told = true;
		// After the welcome event, when there was nothing to look up.
		const {names, found, failed} = carried;
		this.host.carriedOver(!failed);
		queueMicrotask(() => this.host.emit('carried-over', {names, found, complete: !failed}));
	}
}
