import type {AddressGroups} from './address-groups.js';
import {AddressBuckets} from './address-buckets.js';
import {TokenBucket} from './rate-limiter.js';
import type {RelayLimits} from './relay-options.js';
import type {StoredUser} from './relay-store.js';

/** A send within this long makes an account "recently active": it has priority when the relay is full. */
export const recentActivityMs = 60 * 60 * 1000;

export type AccessLimits = Pick<
	RelayLimits,
	| 'failedLoginBurst'
	| 'failedLoginsPerMinute'
	| 'registrationBurstPerAddress'
	| 'registrationsPerHourPerAddress'
	| 'registrationBurst'
	| 'registrationsPerHour'
	| 'maxRegisteredUsers'
	| 'establishedAfterMs'
>;

export type AccessRefusal = {code: 'login_throttled' | 'registration_closed'; message: string};

/**
 * Who may try to log in and who may register, per address and in all, and which accounts keep
 * their place when the relay is full. A registration is free to make, so being registered earns
 * nothing by itself: priority goes to accounts used again after they were registered and older
 * than establishedAfterMs, and to accounts that sent a message in the last hour.
 */
export class AccessGuard {
	private readonly failedLogins: AddressBuckets;
	private readonly registrationsByAddress: AddressBuckets;
	private readonly registrations: TokenBucket;
	private readonly lastSent = new Map<string, number>();

	constructor(
		private readonly limits: AccessLimits,
		private readonly clock: () => number,
	) {
		this.failedLogins = new AddressBuckets(limits.failedLoginBurst, limits.failedLoginsPerMinute / 60, clock);
		this.registrationsByAddress = new AddressBuckets(limits.registrationBurstPerAddress, limits.registrationsPerHourPerAddress / 3600, clock);
		this.registrations = new TokenBucket(limits.registrationBurst, limits.registrationsPerHour / 3600, clock);
	}

	/** Asked before a login's signatures are checked: an address out of failed logins gets none checked. */
	loginRefusal(address: AddressGroups): AccessRefusal | undefined {
		if (this.failedLogins.allows(address)) return undefined;
		const seconds = Math.ceil(this.failedLogins.waitMs(address) / 1000);
		return {code: 'login_throttled', message: `too many failed logins from your address; try again in ${seconds} s`};
	}

	loginFailed(address: AddressGroups): void {
		this.failedLogins.take(address);
	}

	/** Asked before a new name's signatures are checked. */
	registrationRefusal(address: AddressGroups, registeredCount: number): AccessRefusal | undefined {
		if (registeredCount >= this.limits.maxRegisteredUsers) {
			return {code: 'registration_closed', message: 'this relay takes no new users now: it has all it can hold; existing accounts still work'};
		}
		if (!this.registrationsByAddress.allows(address)) {
			const minutes = Math.ceil(this.registrationsByAddress.waitMs(address) / 60_000);
			return {code: 'registration_closed', message: `too many new names from your address; try again in ${minutes} min`};
		}
		if (this.registrations.available() < 1) {
			const minutes = Math.ceil(this.registrations.waitMs() / 60_000);
			return {code: 'registration_closed', message: `this relay takes no new users for now; try again in ${minutes} min`};
		}
		return undefined;
	}

	registered(address: AddressGroups): void {
		this.registrationsByAddress.take(address);
		this.registrations.take();
	}

	sent(username: string): void {
		this.lastSent.set(username, this.clock());
	}

	hasPriority(user: StoredUser): boolean {
		const now = this.clock();
		if (user.confirmed && user.registeredAt <= now - this.limits.establishedAfterMs) return true;
		return (this.lastSent.get(user.username) ?? Number.NEGATIVE_INFINITY) > now - recentActivityMs;
	}

	/** Forgets what no longer matters: refilled buckets, sends older than an hour. */
	sweep(): void {
		this.failedLogins.sweep();
		this.registrationsByAddress.sweep();
		const before = this.clock() - recentActivityMs;
		for (const [username, time] of this.lastSent) if (time <= before) this.lastSent.delete(username);
	}
}
