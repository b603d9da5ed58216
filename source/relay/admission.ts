import type {AddressGroups} from './address-groups.js';
import {AddressBuckets} from './address-buckets.js';
import type {RelayLimits} from './relay-options.js';

export type AdmissionVerdict = 'ok' | 'too_many_connections' | 'connecting_too_fast';

export type AdmissionLimits = Pick<
	RelayLimits,
	'maxConnectionsPerAddress' | 'maxConnectionsPer56' | 'maxConnectionsPer48' | 'handshakeBurst' | 'handshakesPerMinute'
>;

/**
 * Counts open connections per address group (addressGroups: an IPv4 address or IPv6 /64, and for
 * IPv6 its /56 and /48) and new connections per address over time, and decides whether one more
 * may open. Every admit() that says ok needs one release().
 */
export class Admission {
	private total = 0;
	private readonly open = new Map<string, number>();
	private readonly handshakes: AddressBuckets;

	constructor(
		private readonly limits: AdmissionLimits,
		clock: () => number = Date.now,
	) {
		this.handshakes = new AddressBuckets(limits.handshakeBurst, limits.handshakesPerMinute / 60, clock);
	}

	admit(address: AddressGroups): AdmissionVerdict {
		const {maxConnectionsPerAddress, maxConnectionsPer56, maxConnectionsPer48} = this.limits;
		if (
			this.count(address.host) >= maxConnectionsPerAddress ||
			(address.prefix56 !== undefined && this.count(address.prefix56) >= maxConnectionsPer56) ||
			(address.prefix48 !== undefined && this.count(address.prefix48) >= maxConnectionsPer48)
		) {
			return 'too_many_connections';
		}
		if (!this.handshakes.take(address)) return 'connecting_too_fast';
		this.total += 1;
		for (const key of keys(address)) this.open.set(key, this.count(key) + 1);
		return 'ok';
	}

	release(address: AddressGroups): void {
		if (this.open.get(address.host) === undefined) return;
		this.total -= 1;
		for (const key of keys(address)) {
			const count = this.count(key);
			if (count <= 1) this.open.delete(key);
			else this.open.set(key, count - 1);
		}
	}

	/** Forgets handshake buckets that have refilled. */
	sweep(): void {
		this.handshakes.sweep();
	}

	/** Open connections in all. */
	get size(): number {
		return this.total;
	}

	private count(key: string): number {
		return this.open.get(key) ?? 0;
	}
}

function keys(address: AddressGroups): string[] {
	return [address.host, ...(address.prefix56 === undefined ? [] : [address.prefix56]), ...(address.prefix48 === undefined ? [] : [address.prefix48])];
}
