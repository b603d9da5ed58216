import {describe, expect, it} from 'vitest';
import {addressGroups, type AddressGroups} from '../../source/relay/address-groups.js';
import {Admission, type AdmissionLimits} from '../../source/relay/admission.js';

describe('addressGroups', () => {
	it.each([
		['127.0.0.1', {host: '127.0.0.1', subnet24: '127.0.0.0/24'}],
		['::ffff:127.0.0.1', {host: '127.0.0.1', subnet24: '127.0.0.0/24'}],
		['::FFFF:10.1.2.3', {host: '10.1.2.3', subnet24: '10.1.2.0/24'}],
		['2001:db8:1:2:3:4:5:6', {host: '2001:db8:1:2::/64', prefix56: '2001:db8:1:0::/56', prefix48: '2001:db8:1::/48'}],
		['2001:0db8:0001:02ff:ffff:ffff:ffff:ffff', {host: '2001:db8:1:2ff::/64', prefix56: '2001:db8:1:200::/56', prefix48: '2001:db8:1::/48'}],
		['2001:db8::1', {host: '2001:db8:0:0::/64', prefix56: '2001:db8:0:0::/56', prefix48: '2001:db8:0::/48'}],
		['2001:db8:1:2::', {host: '2001:db8:1:2::/64', prefix56: '2001:db8:1:0::/56', prefix48: '2001:db8:1::/48'}],
		['::1', {host: '0:0:0:0::/64', prefix56: '0:0:0:0::/56', prefix48: '0:0:0::/48'}],
		['fe80::1%eth0', {host: 'fe80:0:0:0::/64', prefix56: 'fe80:0:0:0::/56', prefix48: 'fe80:0:0::/48'}],
		['64:ff9b::192.0.2.1', {host: '64:ff9b:0:0::/64', prefix56: '64:ff9b:0:0::/56', prefix48: '64:ff9b:0::/48'}],
		['not an address', {host: 'not an address'}],
	])('%s counts in %o', (address, groups) => {
		expect(addressGroups(address)).toEqual(groups);
	});

	it('the 256 /64s of one /56 share its /56 and /48; the next /56 is another home of the same site', () => {
		const homes = Array.from({length: 256}, (_, index) => addressGroups(`2001:db8:1:${(0x4500 + index).toString(16)}::1`));
		expect(new Set(homes.map(groups => groups.host)).size).toBe(256);
		expect(new Set(homes.map(groups => groups.prefix56))).toEqual(new Set(['2001:db8:1:4500::/56']));
		expect(addressGroups('2001:db8:1:4600::1')).toMatchObject({prefix56: '2001:db8:1:4600::/56', prefix48: '2001:db8:1::/48'});
	});
});

const limits: AdmissionLimits = {
	maxConnectionsPerAddress: 2,
	maxConnectionsPer56: 3,
	maxConnectionsPer48: 5,
	handshakeBurst: 1000,
	handshakesPerMinute: 60,
};
const v4 = (address: string): AddressGroups => addressGroups(address);

describe('Admission', () => {
	it('refuses past maxConnectionsPerAddress with too_many_connections, other addresses still welcome', () => {
		const admission = new Admission(limits);
		expect(['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2'].map(address => admission.admit(v4(address)))).toEqual([
			'ok',
			'ok',
			'too_many_connections',
			'ok',
		]);
		admission.release(v4('10.0.0.1'));
		expect(admission.admit(v4('10.0.0.1'))).toBe('ok');
		expect(admission.size).toBe(3);
	});

	it('counts an IPv6 host in its /64, /56 and /48: one home of 256 /64s holds 3 connections, one site 5 (issue 11, finding 7)', () => {
		const admission = new Admission(limits);
		const home = Array.from({length: 256}, (_, index) => addressGroups(`2001:db8:1:${(0x4500 + index).toString(16)}::1`));
		const verdicts = home.map(groups => admission.admit(groups));
		expect(verdicts.filter(verdict => verdict === 'ok')).toHaveLength(3);
		// another home of the same site: two more, then the /48 is full
		const neighbours = Array.from({length: 10}, (_, index) => addressGroups(`2001:db8:1:${(0x4600 + index * 256).toString(16)}::1`));
		expect(neighbours.map(groups => admission.admit(groups)).filter(verdict => verdict === 'ok')).toHaveLength(2);
		// another site is untouched
		expect(admission.admit(addressGroups('2001:db8:2::1'))).toBe('ok');
		admission.release(home[0]!);
		expect(admission.admit(home[100]!)).toBe('ok');
	});

	it('limits new connections per address over time: a burst, then handshakesPerMinute (issue 11, finding 6)', () => {
		const clock = {now: 0};
		const admission = new Admission({...limits, maxConnectionsPerAddress: 1000, handshakeBurst: 20, handshakesPerMinute: 60}, () => clock.now);
		const opened = (count: number) => {
			let ok = 0;
			for (let index = 0; index < count; index++) {
				const verdict = admission.admit(v4('10.0.0.1'));
				if (verdict === 'ok') {
					ok += 1;
					admission.release(v4('10.0.0.1'));
				} else expect(verdict).toBe('connecting_too_fast');
			}
			return ok;
		};
		expect(opened(2000)).toBe(20);
		clock.now += 10_000;
		expect(opened(2000)).toBe(10);
		expect(admission.admit(v4('10.0.0.2'))).toBe('ok');
	});

	it('forgets an address once its last connection closes, and ignores a release it never admitted', () => {
		const admission = new Admission({...limits, maxConnectionsPerAddress: 10});
		admission.admit(v4('10.0.0.1'));
		admission.admit(v4('10.0.0.1'));
		admission.release(v4('10.0.0.1'));
		admission.release(v4('10.0.0.1'));
		admission.release(v4('10.0.0.1'));
		admission.release(v4('10.9.9.9'));
		expect(admission.size).toBe(0);
	});

	it('off (Infinity) admits without limit', () => {
		const admission = new Admission({
			maxConnectionsPerAddress: Infinity,
			maxConnectionsPer56: Infinity,
			maxConnectionsPer48: Infinity,
			handshakeBurst: Infinity,
			handshakesPerMinute: Infinity,
		});
		for (let index = 0; index < 10_000; index++) expect(admission.admit(v4('127.0.0.1'))).toBe('ok');
	});
});
