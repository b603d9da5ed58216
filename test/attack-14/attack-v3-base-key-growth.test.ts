import {describe, expect, it} from 'vitest';
import {maxBaseKeysPerContact} from '../../source/client/ratchet/session-store.js';
import {ratchetPair} from '../helpers/ratchet-pair.js';
import {craft} from './craft.js';

// Any user the victim pins (anyone on a public relay: a stranger's envelope waits for its lookup,
// then is opened) can send X3DH first messages at the relay's send rate (100 a second). Each one
// the victim accepts adds a base_keys row kept 40 days, with no bound per contact: about a
// hundred bytes each, some 800 MB a day of the victim's disk from one account. Sessions are capped
// at 5 per contact; the memory of their base keys was not.
describe('attack v3: accepted base keys a contact can make the victim remember', () => {
	it('are bounded per contact', () => {
		const {alice: mallory, bob: victim} = ratchetPair();
		const total = maxBaseKeysPerContact + 50;
		for (let index = 0; index < total; index++) {
			const envelope = craft(mallory, victim, () => Buffer.from('x'), {fresh: true});
			expect(victim.e2e.open(envelope)).toMatchObject({type: 'rejected', code: 'malformed'});
		}
		const remembered = victim.db.prepare("SELECT count(*) FROM base_keys WHERE name = 'alice'").pluck().get() as number;
		expect(remembered).toBeLessThanOrEqual(maxBaseKeysPerContact);
		expect(victim.db.prepare("SELECT count(*) FROM sessions WHERE name = 'alice'").pluck().get()).toBeLessThanOrEqual(5);
	});
});
