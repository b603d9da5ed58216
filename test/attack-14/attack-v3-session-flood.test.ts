import {describe, expect, it} from 'vitest';
import {fromBase64Url} from '../../source/crypto/base64url.js';
import {parseHeader} from '../../source/crypto/double-ratchet.js';
import {maxSessionsPerContact} from '../../source/client/ratchet/session-store.js';
import {bundle, ratchetPair} from '../helpers/ratchet-pair.js';
import {craft, partyOf, sessionsOf} from './craft.js';

const baseKeyOf = (envelope: {ratchet?: string}) => parseHeader(fromBase64Url(envelope.ratchet!)).baseKey;

// The victim (bob) wrote first to mallory (alice), who never answers in that session: bob's active
// session is "started by us, unconfirmed". Every X3DH first message mallory sends whose base key is
// bytewise larger (she grinds EK until it is) is settled as a SIMULTANEOUS START that loses: the
// session is saved, never activated, and activate() is the only place the per-contact cap of 5
// evicts. Each such session also brings up to 1,000 skipped keys (its first header's n).
describe('attack v3: sessions a contact can make the victim store', () => {
	it('stays within maxSessionsPerContact, skipped keys of evicted sessions going with them', () => {
		const {alice: mallory, bob: victim} = ratchetPair();
		// bob writes first; his session waits for a reply that never comes
		expect(victim.e2e.seal('alice', 'direct', 'b1', 'hello?')).toBeUndefined();
		let bobsBase: Buffer | undefined;
		for (let tries = 0; tries < 50; tries++) {
			victim.e2e.startSession('alice', bundle(mallory, false));
			const [envelope] = victim.e2e.sealWaiting('alice', 1);
			bobsBase = baseKeyOf(envelope!);
			if (bobsBase[0]! < 0x40) break;
			victim.db.prepare('DELETE FROM sessions').run();
			victim.db.prepare("UPDATE sent_texts SET session = NULL").run();
		}
		expect(bobsBase![0]).toBeLessThan(0x40);
		const attacker = sessionsOf(mallory);
		const peer = partyOf(mallory, 'bob');
		let stored = 0;
		while (stored < 30) {
			attacker.start(peer, bundle(victim, false));
			// burn 100 message keys so the one delivered makes bob store 100 skipped keys
			for (let burn = 0; burn < 100; burn++) attacker.seal(peer, 'direct', 'burn', () => Buffer.from('x'));
			const envelope = craft(mallory, victim, () => Buffer.from('not json: spends nothing, shows nothing'));
			if (Buffer.compare(baseKeyOf(envelope), bobsBase!) <= 0) continue;
			expect(victim.e2e.open(envelope)).toMatchObject({type: 'rejected', code: 'malformed'});
			stored++;
		}
		const sessions = victim.db.prepare("SELECT count(*) FROM sessions WHERE name = 'alice'").pluck().get() as number;
		const skipped = victim.db.prepare("SELECT count(*) FROM skipped_keys WHERE name = 'alice'").pluck().get() as number;
		expect(sessions).toBeLessThanOrEqual(maxSessionsPerContact);
		expect(skipped).toBeLessThanOrEqual(maxSessionsPerContact * 100);
		// bob's own session is still the active one: the flood did not take it over
		expect(victim.e2e.hasSession('alice')).toBe(true);
	});
});
