import {describe, expect, it} from 'vitest';
import {AccessGuard} from '../../source/relay/access-guard.js';
import {addressGroups} from '../../source/relay/address-groups.js';
import {defaultRelayLimits} from '../../source/relay/relay-options.js';
import type {StoredUser} from '../../source/relay/relay-store.js';

const day = 24 * 60 * 60 * 1000;
const user = (registeredAt: number, confirmed: boolean): StoredUser => ({username: 'u', identity: '', x25519: '', binding: '', registeredAt, confirmed});

describe('AccessGuard', () => {
	it('priority: used again after registering and registered at least establishedAfterMs ago; nothing else', () => {
		const clock = {now: 10 * day};
		const guard = new AccessGuard(defaultRelayLimits, () => clock.now);
		expect(guard.hasPriority(user(clock.now, true))).toBe(false);
		expect(guard.hasPriority(user(clock.now - day + 1, true))).toBe(false);
		expect(guard.hasPriority(user(clock.now - day, true))).toBe(true);
		expect(guard.hasPriority(user(0, false))).toBe(false);
	});

	it('an IPv6 host cannot escape its registrations by moving across the /64s of its /48', () => {
		const guard = new AccessGuard({...defaultRelayLimits, registrationBurstPerAddress: 2, registrationsPerHourPerAddress: 1}, () => 0);
		let registered = 0;
		for (let index = 0; index < 100; index++) {
			const address = addressGroups(`2001:db8:7:${index.toString(16)}::1`);
			if (guard.registrationRefusal(address, 0) !== undefined) continue;
			guard.registered(address);
			registered += 1;
		}
		// two per /64, eight per /48
		expect(registered).toBe(8);
		expect(guard.registrationRefusal(addressGroups('2001:db8:8::1'), 0)).toBeUndefined();
	});

	it('forgets the buckets of addresses that have refilled', () => {
		const clock = {now: 0};
		const guard = new AccessGuard(defaultRelayLimits, () => clock.now);
		for (let index = 0; index < 1000; index++) guard.loginFailed(addressGroups(`10.0.${index >> 8}.${index & 255}`));
		clock.now += 60 * 60 * 1000;
		guard.sweep();
		expect(guard.loginRefusal(addressGroups('10.0.0.1'))).toBeUndefined();
		expect(guard.trackedAddresses).toBe(0);
	});
});
