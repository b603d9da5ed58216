import {describe, expect, it} from 'vitest';
import {Listeners} from '../../source/relay/who-view.js';

describe('the who-is-online view (who-view.ts)', () => {
	it('keeps an account\'s view for whoRefreshMs, and only the views made within it once swept', () => {
		const clock = {now: 1000};
		const listeners = new Listeners<string>({whoLimit: 2, whoRefreshMs: 100}, () => clock.now);
		for (const name of ['a', 'b', 'c']) listeners.add(name, name);
		expect(listeners.view('a')).toEqual(['c', 'b']);
		listeners.add('d', 'd');
		clock.now += 99;
		expect(listeners.view('a')).toEqual(['c', 'b']);
		for (let index = 0; index < 1000; index++) listeners.view(`poller${index}`);
		expect(listeners.madeViews).toBe(1001);
		clock.now += 1;
		// a's view is due again; the pollers' were made a tick ago and stay
		expect(listeners.view('a')).toEqual(['d', 'c']);
		listeners.sweep();
		expect(listeners.madeViews).toBe(1001);
		clock.now += 100;
		listeners.sweep();
		expect(listeners.madeViews).toBe(0);
	});

	it('whoLimit 0 keeps nothing', () => {
		const listeners = new Listeners<string>({whoLimit: 0, whoRefreshMs: 100}, () => 0);
		listeners.add('a', 'a');
		expect(listeners.view('b')).toEqual([]);
		expect(listeners.madeViews).toBe(0);
	});
});
