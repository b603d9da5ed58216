import type {AddressGroups} from './address-groups.js';
import {KeyedBuckets} from './rate-limiter.js';

/** A site (an IPv4 /24, an IPv6 /48) may spend this many times what one address may. */
const siteFactor = 4;

/**
 * A rate per address: a token bucket for each IPv4 address or IPv6 /64, and one more, `siteFactor`
 * times larger, for its site (addressGroups), so a party that moves across the addresses of its
 * site gains little.
 */
export class AddressBuckets {
	private readonly hosts: KeyedBuckets;
	private readonly sites: KeyedBuckets;

	constructor(burst: number, perSecond: number, clock: () => number) {
		this.hosts = new KeyedBuckets(burst, perSecond, clock);
		this.sites = new KeyedBuckets(burst * siteFactor, perSecond * siteFactor, clock);
	}

	/** Whether `cost` tokens are there, spending nothing. */
	allows(address: AddressGroups, cost = 1): boolean {
		return this.hosts.available(address.host) >= cost && (address.site === undefined || this.sites.available(address.site) >= cost);
	}

	/** Spends `cost` tokens if both buckets have them; says whether it did. */
	take(address: AddressGroups, cost = 1): boolean {
		if (!this.allows(address, cost)) return false;
		this.hosts.take(address.host, cost);
		if (address.site !== undefined) this.sites.take(address.site, cost);
		return true;
	}

	/** Milliseconds until `cost` tokens are there. */
	waitMs(address: AddressGroups, cost = 1): number {
		return Math.max(this.hosts.waitMs(address.host, cost), address.site === undefined ? 0 : this.sites.waitMs(address.site, cost));
	}

	sweep(): void {
		this.hosts.sweep();
		this.sites.sweep();
	}

	/** Buckets held: what a flood of new addresses costs in memory until the next sweep. */
	get size(): number {
		return this.hosts.size + this.sites.size;
	}
}
