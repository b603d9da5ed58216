import {afterEach, describe, expect, it, vi} from 'vitest';
import {BundleRequests} from '../../source/client/ratchet/bundle-requests.js';
import type {ClientMessage} from '../../source/net/messages.js';

// The victim wants mallory's bundle (it owes her a receipt for a version 2 text, or wrote to her).
// Mallory never publishes prekeys: the relay answers no_prekeys, and the victim asks again "as
// soon as that user comes online" (user_joined). Mallory reconnects every 300 ms (just past the
// relay's 250 ms presence batching): each user_joined makes the victim send a get_bundle, which
// costs the victim a token of its own bundle bucket (burst 30, 30 a minute) before the relay even
// looks. Within seconds the victim's bucket is empty and its bundle requests for everyone else are
// refused bundle_throttled: it cannot start or rebuild a session with anyone while mallory cycles.
afterEach(() => {
	vi.useRealTimers();
});

describe('attack v3: a contact without prekeys who keeps rejoining', () => {
	it('does not make the victim ask for its bundle at every join', () => {
		vi.useFakeTimers();
		const sent: ClientMessage[] = [];
		const requests = new BundleRequests({received: () => {}, unknown: () => {}, held: () => false});
		requests.attach(message => sent.push(message));
		requests.want('mallory', 'first');
		// 60 seconds of mallory rejoining every 300 ms, the relay answering no_prekeys each time
		for (let step = 0; step < 200; step++) {
			const last = sent.at(-1);
			if (last?.type === 'get_bundle') requests.refused(last.id, 'no_prekeys', 'mallory has published no prekeys yet');
			vi.advanceTimersByTime(300);
			requests.joined('mallory');
		}
		const asked = sent.filter(message => message.type === 'get_bundle').length;
		// the first ask, the first join's at once (a person logging in is not kept waiting), then at
		// most one per bundleRetryMs (30 s) however often mallory rejoins
		expect(asked).toBeLessThanOrEqual(4);
		requests.stop();
	});
});
