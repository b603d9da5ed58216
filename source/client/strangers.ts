import type {DeliveredEnvelope} from '../net/messages.js';

/** Envelopes from senders with no pin kept in memory, all senders together; the relay keeps the rest. */
export const maxHeldFromStrangers = 1000;

/**
 * Envelopes from senders this client has no pin for (PROTOCOL.md section 4.3: it looks them up),
 * per sender, in order, until the lookup answers. Nothing here is acknowledged: an envelope dropped
 * past the cap, or held when the connection drops, comes again from the relay at the next login.
 * A name the relay said it does not know is remembered for the connection: its envelopes are
 * rejected at once instead of looked up again. A lookup the relay refused (throttled) loses
 * nothing: the sender's envelopes stay held and it is asked again later.
 */
export class Strangers {
	readonly #held = new Map<string, DeliveredEnvelope[]>();
	#count = 0;
	/** Names to look up at the next flush. */
	#toLookUp = new Set<string>();
	readonly #unknown = new Set<string>();
	/** Senders whose lookup the relay refused (throttled): their envelopes stay held, to ask again later. */
	#deferred = new Set<string>();
	/** Some envelope was dropped past the cap: the relay must deliver again (a new login) to bring it. */
	#overflowed = false;

	/** Whether the lookups said `name` cannot be found. */
	isUnknown(name: string): boolean {
		return this.#unknown.has(name);
	}

	/** Keeps `envelope` until its sender is looked up; a sender seen for the first time is to be looked up. */
	hold(envelope: DeliveredEnvelope): void {
		const {from} = envelope;
		const held = this.#held.get(from);
		if (held?.some(item => item.delivery === envelope.delivery)) return;
		if (this.#count >= maxHeldFromStrangers) {
			this.#overflowed = true;
			return;
		}
		if (held === undefined) {
			this.#held.set(from, [envelope]);
			this.#toLookUp.add(from);
		} else {
			held.push(envelope);
		}
		this.#count++;
	}

	/** The names to look up now; each is asked once. */
	takeLookups(): string[] {
		const names = [...this.#toLookUp];
		this.#toLookUp = new Set();
		return names;
	}

	/**
	 * The lookup of `name` is over: its envelopes, in order, to process again. `found` false
	 * remembers it as unknown, so they are rejected.
	 */
	release(name: string, found: boolean): DeliveredEnvelope[] {
		if (!found && this.#unknown.size < maxHeldFromStrangers) this.#unknown.add(name);
		const held = this.#held.get(name) ?? [];
		this.#held.delete(name);
		this.#count -= held.length;
		return held;
	}

	/**
	 * The lookup of `name` was refused, not answered (lookup_throttled): nothing is known of the
	 * sender, so its envelopes stay held, unacknowledged, and it is asked again at retry().
	 */
	defer(name: string): void {
		if (this.#held.has(name)) this.#deferred.add(name);
	}

	/** The deferred senders are to be looked up again; says whether there were any. */
	retry(): boolean {
		for (const name of this.#deferred) this.#toLookUp.add(name);
		const any = this.#deferred.size > 0;
		this.#deferred = new Set();
		return any;
	}

	/** True once, when everything held was released after some were dropped past the cap. */
	takeOverflow(): boolean {
		if (!this.#overflowed || this.#count > 0) return false;
		this.#overflowed = false;
		return true;
	}

	/** The connection is gone: nothing held was acknowledged, so the relay delivers it again. */
	clear(): void {
		this.#held.clear();
		this.#count = 0;
		this.#toLookUp.clear();
		this.#unknown.clear();
		this.#deferred.clear();
		this.#overflowed = false;
	}
}
