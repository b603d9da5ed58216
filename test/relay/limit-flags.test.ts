import {describe, expect, it} from 'vitest';
import {
	parseCommunity,
	parseCountLimit,
	parseHandshakeLimit,
	parseLookupLimit,
	parseNonNegative,
	parseRateLimit,
	parseRegistrationLimit,
	parseSwitch,
} from '../../source/relay/limit-flags.js';

describe('the relay limit flags', () => {
	it('--rate-limit: off, or messages a second and a burst', () => {
		expect(parseRateLimit('off')).toEqual({ratePerSecond: Infinity, rateBurst: Infinity});
		expect(parseRateLimit('OFF')).toEqual({ratePerSecond: Infinity, rateBurst: Infinity});
		expect(parseRateLimit('100,200')).toEqual({ratePerSecond: 100, rateBurst: 200});
		expect(parseRateLimit(' 5 , 10 ')).toEqual({ratePerSecond: 5, rateBurst: 10});
		for (const bad of ['', '100', '0,10', '10,0', '-1,5', '1.5,2', '10,20,30', 'fast']) {
			expect(() => parseRateLimit(bad), bad).toThrow(/--rate-limit must be/);
		}
	});

	it('connection caps: a positive whole number or off', () => {
		expect(parseCountLimit('max-connections', '20000')).toBe(20_000);
		expect(parseCountLimit('max-connections', 'off')).toBe(Infinity);
		for (const bad of ['0', '-3', '2.5', 'lots', '']) {
			expect(() => parseCountLimit('max-connections-per-address', bad), bad).toThrow(/--max-connections-per-address must be/);
		}
	});

	it('--presence: on or off', () => {
		expect(parseSwitch('presence', 'on')).toBe(true);
		expect(parseSwitch('presence', 'Off')).toBe(false);
		expect(() => parseSwitch('presence', 'yes')).toThrow(/--presence must be on or off/);
	});

	it('--registration-limit and --handshake-limit: off, or a rate and a burst per address', () => {
		expect(parseRegistrationLimit('20,10')).toEqual({registrationsPerHourPerAddress: 20, registrationBurstPerAddress: 10});
		expect(parseRegistrationLimit('off')).toEqual({
			registrationsPerHourPerAddress: Infinity,
			registrationBurstPerAddress: Infinity,
			registrationsPerHour: Infinity,
			registrationBurst: Infinity,
		});
		expect(parseHandshakeLimit('60,20')).toEqual({handshakesPerMinute: 60, handshakeBurst: 20});
		expect(parseHandshakeLimit('Off')).toEqual({handshakesPerMinute: Infinity, handshakeBurst: Infinity});
		for (const bad of ['', '5', '0,1', 'many']) {
			expect(() => parseRegistrationLimit(bad), bad).toThrow(/--registration-limit must be/);
			expect(() => parseHandshakeLimit(bad), bad).toThrow(/--handshake-limit must be/);
		}
	});

	it('--lookup-limit: off, or names an hour and a burst per account; an address twice that', () => {
		expect(parseLookupLimit('600,5000')).toEqual({lookupsPerHour: 600, lookupBurst: 5000, lookupsPerHourPerAddress: 1200, lookupBurstPerAddress: 10_000});
		expect(parseLookupLimit('off')).toEqual({lookupsPerHour: Infinity, lookupBurst: Infinity, lookupsPerHourPerAddress: Infinity, lookupBurstPerAddress: Infinity});
		for (const bad of ['', '600', '0,5', 'lots']) expect(() => parseLookupLimit(bad), bad).toThrow(/--lookup-limit must be/);
	});

	it('--community: off (0) or a number of users up to 1,000; --who: 0 or more', () => {
		expect(parseCommunity('off')).toBe(0);
		expect(parseCommunity('0')).toBe(0);
		expect(parseCommunity('1000')).toBe(1000);
		for (const bad of ['1001', '-1', 'all', '', '2.5']) expect(() => parseCommunity(bad), bad).toThrow(/--community must be/);
		expect(parseNonNegative('who', '0')).toBe(0);
		expect(parseNonNegative('who', '50')).toBe(50);
		for (const bad of ['-1', 'off', '', '1.5']) expect(() => parseNonNegative('who', bad), bad).toThrow(/--who must be/);
	});
});
