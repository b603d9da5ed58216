import {describe, expect, it} from 'vitest';
import {rateLimitedLogger} from '../../source/relay/log-limiter.js';
import type {Timer} from '../../source/relay/presence-batcher.js';

describe('rateLimitedLogger (issue 11, finding 6)', () => {
	it('writes a burst of each event, then a few a second, and one summary line for what it held back', () => {
		const lines: Array<[string, unknown]> = [];
		const clock = {now: 0};
		const due: Array<() => void> = [];
		const timer: Timer = callback => {
			due.push(callback);
			return () => {};
		};
		const log = rateLimitedLogger((event, fields) => lines.push([event, fields]), () => clock.now, {burst: 100, perSecond: 10, summaryMs: 10_000}, timer);
		for (let index = 0; index < 10_000; index++) {
			log('connect', {remote: `10.0.0.${index % 250}:1`});
			log('disconnect', {remote: `10.0.0.${index % 250}:1`});
		}
		log('listening', {port: 1});
		expect(lines).toHaveLength(201);
		clock.now += 1000;
		log('connect', {remote: 'later'});
		expect(lines).toHaveLength(202);
		expect(due).toHaveLength(1);
		due[0]!();
		expect(lines.at(-1)).toEqual(['log_suppressed', {connect: 9900, disconnect: 9900}]);
	});
});
