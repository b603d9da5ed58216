import type {AddressGroups} from './address-groups.js';
import {KeyedBuckets} from './rate-limiter.js';

/** A site may spend this many times what one address may. */
const siteFactor = 4;

/** By default an address's site is its IPv6 /48 (an IPv4 address has none). */
const prefix48 = (address: AddressGroups) => address.prefix48;

/**
 * A site that IPv4 has too, its /24: for what a party with many neighbouring addresses would spend
 * (registrations, lookups), where refusing one locks nobody out.
 */
export const wideSite = (address: AddressGroups) => address.prefix48 ?? address.subnet24;

/**
 * A rate per address: a token bucket for each IPv4 address or IPv6 /64, and one more, `siteFactor`
 * times larger, for its site (`siteOf`), so a party that moves across the addresses of its site
 * gains little.
 */
export class AddressBuckets {
	private readonly hosts: KeyedBuckets;
	private readonly sites: KeyedBuckets;

	constructor(
		burst: number,
		perSecond: number,
		clock: () => number,
		private readonly siteOf: (address: AddressGroups) => string | undefined = prefix48,
	) {
		this.hosts = new KeyedBuckets(burst, perSecond, clock);
		this.sites = new KeyedBuckets(burst * siteFactor, perSecond * siteFactor, clock);
	}

	/** Whether `cost` tokens are there, spending nothing. */
	allows(address: AddressGroups, cost = 1): boolean {
		const site = this.siteOf(address);
		return this.hosts.available(address.host) >= cost && (site === undefined || this.sites.available(site) >= cost);
	}

	/** Spends `cost` tokens if both buckets have them; says whether it did. */
	take(address: AddressGroups, cost = 1): boolean {
		if (!this.allows(address, cost)) return false;
		this.hosts.take(address.host, cost);
		const site = this.siteOf(address);
		if (site !== undefined) this.sites.take(site, cost);
		return true;
	}

	/** Milliseconds until `cost` tokens are there. */
	waitMs(address: AddressGroups, cost = 1): number {
		const site = this.siteOf(address);
		return Math.max(this.hosts.waitMs(address.host, cost), site === undefined ? 0 : this.sites.waitMs(site, cost));
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
