import {maxLookupNames, type ClientMessage} from '../net/messages.js';
import {newMessageId} from './end-to-end.js';

/**
 * Why a lookup was made: the person asked (/msg, the sidebar search), an upgraded client tells the
 * relay the contacts it pinned before (section 4.3), or an envelope came from a sender with no pin.
 */
export type LookupReason = 'user' | 'carry-over' | 'sender';

export type PendingLookup = {id: string; names: string[]; reason: LookupReason};

/** Lookups waiting for their answer (or for a connection) at once; more is refused, not queued. */
export const maxPendingLookups = 64;

/**
 * The lookups a session has asked for and not yet had answered, each one `lookup` message of at
 * most maxLookupNames names under a fresh id. A lookup made while there is no connection waits
 * and goes out at the next one; one in flight when the connection drops goes out again then,
 * except a sender's (its envelopes are dropped unacknowledged, and come again with the lookup).
 */
export class Lookups {
	readonly #pending = new Map<string, PendingLookup & {sent: boolean}>();

	get size(): number {
		return this.#pending.size;
	}

	/** Splits `names` (valid, folded) into lookups of at most maxLookupNames; returns their ids. */
	add(names: readonly string[], reason: LookupReason): string[] {
		const unique = [...new Set(names)];
		const batches = Math.ceil(unique.length / maxLookupNames);
		if (this.#pending.size + batches > maxPendingLookups) {
			throw new Error(`${this.#pending.size} lookups already wait for the relay's answer; try again once they are answered`);
		}
		const ids: string[] = [];
		for (let start = 0; start < unique.length; start += maxLookupNames) {
			const id = newMessageId();
			this.#pending.set(id, {id, names: unique.slice(start, start + maxLookupNames), reason, sent: false});
			ids.push(id);
		}
		return ids;
	}

	/** The lookups not yet sent on this connection, as messages; they count as sent from now on. */
	takeUnsent(): ClientMessage[] {
		const out: ClientMessage[] = [];
		for (const lookup of this.#pending.values()) {
			if (lookup.sent) continue;
			lookup.sent = true;
			out.push({type: 'lookup', id: lookup.id, names: [...lookup.names]});
		}
		return out;
	}

	/** The lookup `id` answered (found, or refused): it no longer waits. Undefined for an id not ours. */
	settle(id: string): PendingLookup | undefined {
		const lookup = this.#pending.get(id);
		if (lookup === undefined || !lookup.sent) return undefined;
		this.#pending.delete(id);
		const {sent: _sent, ...settled} = lookup;
		return settled;
	}

	/** The relay dropped lookup `id` unread (rate_limited): it goes out again with the next takeUnsent(). */
	unsend(id: string): boolean {
		const lookup = this.#pending.get(id);
		if (lookup === undefined || !lookup.sent) return false;
		lookup.sent = false;
		return true;
	}

	/** The connection is gone: what was sent goes again on the next one; a sender's lookups are dropped. */
	detach(): void {
		for (const [id, lookup] of this.#pending) {
			if (lookup.reason === 'sender') this.#pending.delete(id);
			else lookup.sent = false;
		}
	}
}
