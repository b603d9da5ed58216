import {describe, expect, it} from 'vitest';
import {parseCountLimit, parseRateLimit, parseSwitch} from '../../source/relay/limit-flags.js';

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
});
