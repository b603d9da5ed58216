import {describe, expect, it} from 'vitest';
import type {ClientMessage} from '../../source/net/messages.js';
import {FloodGuard} from '../../source/relay/flood-guard.js';

/**
 * Attack: an admin of a room of 1,000 sends topic changes. Each was charged one token like any
 * message, yet the relay sends it to 999 members (and each member's client verifies it and keeps
 * it in its log): a 999-fold fan-out for nothing, 200 at once and 100 a second after. A change's
 * copies are now owed after the fact like a room_send's.
 */
const topicChange = (index: number): ClientMessage => ({
	type: 'room_change',
	room: 'big',
	entry: {room: 'big', index, prev: 'A'.repeat(43), author: 'mallory', time: 0, action: 'topic', topic: 'x'.repeat(256), signature: 'A'.repeat(86)},
});

describe('attack: the fan-out of a room change', () => {
	it('topic changes in a room of 1,000 pay for their copies; in a room of 2 they cost about a token', () => {
		const clock = {now: 0};
		const limits = {rateBurst: 200, ratePerSecond: 100, rateMaxRefused: 1000, bytesPerToken: 4096, acksPerToken: 64};
		const passed = (members: number) => {
			const guard = new FloodGuard(limits, () => clock.now);
			const context = {audience: 0, online: () => false, roomAudience: () => members - 1};
			return Array.from({length: 200}, (_, index) => guard.check(topicChange(index + 1), context)).filter(verdict => verdict === 'ok').length;
		};
		expect(passed(1000)).toBeLessThanOrEqual(3);
		expect(passed(2)).toBeGreaterThanOrEqual(150);
	});
});
