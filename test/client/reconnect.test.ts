import {describe, expect, it} from 'vitest';
import {defaultReconnect, reconnectCodes, reconnectDelay} from '../../source/client/reconnect.js';

describe('reconnectDelay', () => {
	const at = (random: number) => ({...defaultReconnect, random: () => random});

	it('starts at 0.5 s and doubles up to 30 s; the jitter takes half to all of each step', () => {
		const steps = [1, 2, 3, 4, 5, 6, 7, 8, 50].map(attempt => reconnectDelay(attempt, at(0.999_999)));
		expect(steps).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
		expect([1, 4, 9].map(attempt => reconnectDelay(attempt, at(0)))).toEqual([250, 2000, 15_000]);
		expect(reconnectDelay(3, at(0.5))).toBe(1500);
	});

	it('never goes past maxDelayMs, however many attempts', () => {
		expect(reconnectDelay(10_000, {initialDelayMs: 20, maxDelayMs: 250, random: () => 0.999_999})).toBe(250);
	});
});

describe('reconnectCodes', () => {
	it('retries drops and restarts, never a refused relay, a refused login, a replaced session or a broken protocol', () => {
		const forNow = ['unverified_refusal', 'directory_too_large', 'registration_closed', 'login_throttled', 'login_timeout'];
		for (const code of ['closed', 'connection_lost', 'connect_failed', 'shutdown', 'idle_timeout', 'server_full', ...forNow]) {
			expect(reconnectCodes.has(code), code).toBe(true);
		}

		for (const code of ['refused_relay', 'username_taken', 'bad_login', 'session_replaced', 'bad_token', 'bad_message', 'local_error']) {
			expect(reconnectCodes.has(code), code).toBe(false);
		}
	});
});
