import type {AddressGroups} from './address-groups.js';
import {AddressBuckets, wideSite} from './address-buckets.js';
import {KeyedBuckets} from './rate-limiter.js';
import type {RelayLimits} from './relay-options.js';

export type LookupLimits = Pick<RelayLimits, 'lookupBurst' | 'lookupsPerHour' | 'lookupBurstPerAddress' | 'lookupsPerHourPerAddress'>;

/**
 * Lookup tokens (PROTOCOL.md section 4.3): one per name asked, found or not, from the account's
 * bucket and from its address's (a site four times that). Whether a name exists costs what a
 * lookup costs, so walking the names of a relay takes as long as its buckets say. The account's
 * bucket is kept across its connections until it has refilled (sweep).
 */
export class LookupGuard {
	private readonly accounts: KeyedBuckets;
	private readonly addresses: AddressBuckets;

	constructor(limits: LookupLimits, clock: () => number) {
		this.accounts = new KeyedBuckets(limits.lookupBurst, limits.lookupsPerHour / 3600, clock);
		this.addresses = new AddressBuckets(
			limits.lookupBurstPerAddress,
			limits.lookupsPerHourPerAddress / 3600,
			clock,
			wideSite,
		);
	}

	/** Spends `names` tokens from both buckets, or none: then says how many milliseconds to wait. */
	charge(account: string, address: AddressGroups, names: number): {ok: true} | {ok: false; waitMs: number} {
		if (this.accounts.available(account) >= names && this.addresses.allows(address, names)) {
			this.accounts.take(account, names);
			this.addresses.take(address, names);
			return {ok: true};
		}
		return {ok: false, waitMs: Math.max(this.accounts.waitMs(account, names), this.addresses.waitMs(address, names))};
	}

	/** Forgets buckets that have refilled. */
	sweep(): void {
		this.accounts.sweep();
		this.addresses.sweep();
	}
}
