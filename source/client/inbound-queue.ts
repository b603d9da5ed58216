import type {DeliveredEnvelope, UserRecord} from '../net/messages.js';

/** Envelopes kept in memory while this device cannot save what they change; the relay keeps the rest. */
const maxWaiting = 1000;
/** As many as a directory may announce (chat-client.ts maxDirectoryRecords). */
const maxHeldRecords = 200_000;
/** After the contact store failed, the client tries again after this pause, doubling up to the max. */
export const storeRetryMs = 1000;
export const maxStoreRetryMs = 30_000;

/**
 * What came from the relay while the contact store failed (a full disk):
 * envelopes, in order, and directory records, kept until the store works again, and the timer
 * that tries them again after a pause that doubles while it keeps failing.
 */
export class InboundQueue {
	/** Envelopes waiting for the contact store, in order; undefined while it works. */
	#envelopes: DeliveredEnvelope[] | undefined;
	/** Some arrived past maxWaiting: nothing more is taken until the next connection. */
	#overflowed = false;
	/** Directory records the contact store could not take yet. */
	#records = new Map<string, {user: UserRecord; online: boolean}>();
	#timer: NodeJS.Timeout | undefined;
	#strikes = 0;

	/** `retry` is called when the pause is over: it tries again what waits (see drain()). */
	constructor(private readonly retry: () => void) {}

	/** Whether a new envelope must wait behind earlier ones instead of being opened now. */
	get blocked(): boolean {
		return this.#envelopes !== undefined;
	}

	get hasRecords(): boolean {
		return this.#records.size > 0;
	}

	get empty(): boolean {
		return this.#envelopes === undefined && this.#records.size === 0;
	}

	/** Keeps directory records the store refused; envelopes wait behind them, as they may be from these users. */
	holdRecords(users: readonly UserRecord[], online: boolean): void {
		for (const user of users) {
			// One per name, the latest, and a bound on what a relay can make us hold: a record
			// dropped here comes again with the directory at the next login.
			const earlier = this.#records.get(user.username);
			if (earlier === undefined && this.#records.size >= maxHeldRecords) continue;
			this.#records.set(user.username, {user, online: online || (earlier?.online ?? false)});
		}
		this.#envelopes ??= [];
		this.retryLater();
	}

	/** The records held, each online if it was when it came; they are no longer held. */
	takeRecords(): UserRecord[] {
		const users = [...this.#records.values()].map(({user, online}) => ({...user, online: online || user.online}));
		this.#records.clear();
		return users;
	}

	hold(envelope: DeliveredEnvelope): void {
		const envelopes = (this.#envelopes ??= []);
		// Past the cap, nothing more is taken (a later one would show the ones dropped as a gap); all stay on the relay.
		if (envelopes.length >= maxWaiting) this.#overflowed = true;
		if (!this.#overflowed) envelopes.push(envelope);
		this.retryLater();
	}

	/**
	 * Hands the waiting envelopes to `receive`, in order, until it fails ('stuck': the rest wait and
	 * a retry is set). 'overflowed' when all went through but some were dropped past the cap:
	 * those are still on the relay, which sends them again only at a login.
	 */
	drain(receive: (envelope: DeliveredEnvelope) => boolean): 'done' | 'stuck' | 'overflowed' {
		const envelopes = this.#envelopes;
		if (envelopes === undefined) return 'done';
		while (envelopes.length > 0) {
			if (!receive(envelopes[0]!)) {
				this.retryLater();
				return 'stuck';
			}
			envelopes.shift();
		}
		this.#envelopes = undefined;
		if (!this.#overflowed) return 'done';
		this.#overflowed = false;
		return 'overflowed';
	}

	retryLater(): void {
		if (this.#timer !== undefined) return;
		const delay = Math.min(maxStoreRetryMs, storeRetryMs * 2 ** Math.min(this.#strikes, 16));
		this.#strikes++;
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			this.retry();
		}, delay);
		this.#timer.unref();
	}

	/** The store worked: the next failure waits the shortest pause again. */
	worked(): void {
		this.#strikes = 0;
	}

	/** The connection is gone: nothing was acknowledged, so the relay delivers it all again at the next login. */
	clear(): void {
		this.#envelopes = undefined;
		this.#overflowed = false;
		this.#records.clear();
		clearTimeout(this.#timer);
		this.#timer = undefined;
	}
}
