import {describe, expect, it} from 'vitest';
import {parseCountLimit, parseHandshakeLimit, parseRateLimit, parseRegistrationLimit, parseSwitch} from '../../source/relay/limit-flags.js';

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
});
