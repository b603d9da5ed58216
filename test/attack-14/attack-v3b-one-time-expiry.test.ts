import {describe, expect, it} from 'vitest';
import {OwnPrekeys, oneTimeSecretKeepMs} from '../../source/client/ratchet/own-prekeys.js';
import {ratchetUser} from '../helpers/ratchet-pair.js';

// One-time secrets now expire 37 days after they were made ("a signed prekey's week of use plus the
// relay queue's 30 days"). But a one-time prekey is not handed out within a week: it stays in the
// relay's pool until someone claims it, and the relay hands out the lowest ids first and tops up only
// below 25. A user whom fewer than 76 people start sessions with in 37 days (most users) uploads 100,
// and at the next top-up (pool under 25) the expiry deletes the secrets of the 24 keys the relay still
// holds, which are exactly the ones it hands out next: each of the next 24 contacts who start a
// session gets a first message the owner cannot open, and a forced rebuild (session-reset, texts
// resent), every cycle. The relay's pool is always among the newest oneTimeTarget ids (ids only grow,
// the relay keeps at most 100 and uploads only fill it to 100): those must never expire by age.
describe('attack v3b: one-time secrets expiring while the relay still hands them out', () => {
	it('keeps the secrets of the keys the relay still holds, however old', () => {
		const user = ratchetUser('quiet');
		const prekeys = new OwnPrekeys(user.db, user.keys, 'quiet');
		const start = Date.now();
		const first = prekeys.addOneTime(100, start);
		// 76 contacts started sessions over 60 days: the relay handed out the 76 lowest ids; their first messages opened
		const claimed = [...first].sort((a, b) => a.id - b.id).slice(0, 76);
		for (const {id} of claimed) prekeys.deleteOneTime(id);
		const onRelay = [...first].sort((a, b) => a.id - b.id).slice(76);
		// the pool fell under 25: top-up, 60 days after the first upload
		prekeys.addOneTime(76, start + oneTimeSecretKeepMs + 23 * 24 * 3_600_000);
		const missing = onRelay.filter(({id}) => prekeys.oneTimePair(id) === undefined).length;
		expect(missing).toBe(0);
	});
});
