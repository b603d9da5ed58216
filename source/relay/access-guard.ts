import type {AddressGroups} from './address-groups.js';
import {AddressBuckets, wideSite} from './address-buckets.js';
import {TokenBucket} from './rate-limiter.js';
import type {RelayLimits} from './relay-options.js';
import type {StoredUser} from './relay-store.js';

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
	| 'directoryPagesBurst'
	| 'directoryPagesPerMinute'
>;

export type AccessRefusal = {code: 'login_throttled' | 'registration_closed'; message: string};

/**
 * Who may try to log in and who may register, per address and in all, and which accounts keep
 * their place when the relay is full. A registration is free to make, so being registered earns
 * nothing by itself, and neither does activity a new account can make at will: priority goes to
 * accounts used again after they were registered and older than establishedAfterMs; among those
 * without it, the one idle longest gives way first.
 */
export class AccessGuard {
	private readonly failedLogins: AddressBuckets;
	private readonly registrationsByAddress: AddressBuckets;
	private readonly registrations: TokenBucket;
	private readonly directoryPages: AddressBuckets;

	constructor(
		private readonly limits: AccessLimits,
		private readonly clock: () => number,
	) {
		this.failedLogins = new AddressBuckets(limits.failedLoginBurst, limits.failedLoginsPerMinute / 60, clock);
		// Registrations alone are counted per IPv4 /24 too: they are what a party with many
		// neighbouring addresses would spend them on, and refusing one locks nobody out.
		this.registrationsByAddress = new AddressBuckets(
			limits.registrationBurstPerAddress,
			limits.registrationsPerHourPerAddress / 3600,
			clock,
			wideSite,
		);
		this.registrations = new TokenBucket(limits.registrationBurst, limits.registrationsPerHour / 3600, clock);
		this.directoryPages = new AddressBuckets(limits.directoryPagesBurst, limits.directoryPagesPerMinute / 60, clock);
	}

	/**
	 * Asked before a login's signatures are checked: each login with the directory costs the relay
	 * a page of records per 200 users, so an address that asked for many lately waits.
	 */
	directoryRefusal(address: AddressGroups, pages: number): AccessRefusal | undefined {
		const cost = Math.min(pages, this.limits.directoryPagesBurst);
		if (this.directoryPages.allows(address, cost)) return undefined;
		const seconds = Math.ceil(this.directoryPages.waitMs(address, cost) / 1000);
		return {code: 'login_throttled', message: `too many logins from your address lately; try again in ${seconds} s`};
	}

	directorySent(address: AddressGroups, pages: number): void {
		this.directoryPages.take(address, Math.min(pages, this.limits.directoryPagesBurst));
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

	/** Who gives way to a login with priority when the relay is full: the online account without it idle longest. */
	giving<Online extends {user?: StoredUser; lastActive: number}>(online: Iterable<Online>): Online | undefined {
		let victim: Online | undefined;
		for (const session of online) {
			if (session.user === undefined || this.hasPriority(session.user)) continue;
			if (victim === undefined || session.lastActive < victim.lastActive) victim = session;
		}
		return victim;
	}

	hasPriority(user: StoredUser): boolean {
		return user.confirmed && user.registeredAt <= this.clock() - this.limits.establishedAfterMs;
	}

	/** Addresses and /48s with a bucket: what a flood of new addresses costs until the next sweep. */
	get trackedAddresses(): number {
		return this.failedLogins.size + this.registrationsByAddress.size;
	}

	/** Forgets buckets that have refilled. */
	sweep(): void {
		this.failedLogins.sweep();
		this.registrationsByAddress.sweep();
		this.directoryPages.sweep();
	}
}
