import {describe, expect, it} from 'vitest';
import {OutboxStore} from '../../source/client/outbox-store.js';
import {bundle, delivered, pin, ratchetPair, ratchetUser, write} from '../helpers/ratchet-pair.js';

// Sealed envelopes are written to the outbox table inside the sealing transaction (RatchetEnvelopes
// #seal). When the other side rebuilt, RatchetEnvelopes.open unseals every unconfirmed text in the
// transaction of the envelope that said so ("a process killed now would see the redelivery as a
// replay, and never resend"), but the outbox rows sealed in the session the other side lost were
// deleted only later, by SessionStarter.changed() -> Outbox.removeTo -> a microtask flush. A process
// killed in between (or whose flush fails and then exits) restarts with BOTH: the texts waiting to be
// sealed again, and the old envelopes, which go out, are rejected `unreadable` by the rebuilt side
// (whose own session is new) and make it schedule yet another rebuild. The committed state must be
// consistent on its own: the old rows leave in the same transaction.
describe('attack v3b: outbox rows sealed in a session the other side lost', () => {
	it('leave the outbox table in the transaction that unseals their texts', () => {
		const {alice, bob} = ratchetPair();
		bob.e2e.open(write(alice, bob, 'hello'));
		alice.e2e.open(write(bob, alice, 'hi'));
		// alice writes while bob is away: sealed in the session, kept in the outbox table
		alice.e2e.seal('bob', 'direct', 'queued1', 'queued 1');
		alice.e2e.seal('bob', 'direct', 'queued2', 'queued 2');
		const rows = () => new OutboxStore(alice.db).load().filter(envelope => envelope.to === 'bob' && envelope.ratchet !== undefined).map(envelope => envelope.id);
		expect(rows()).toEqual(expect.arrayContaining(['queued1', 'queued2']));
		// bob lost his database and rebuilds
		const fresh = ratchetUser('bob', bob.keys);
		pin(fresh, alice);
		const reset = fresh.e2e.resetSession('alice', bundle(alice)).envelope;
		const opened = alice.e2e.open(delivered('bob', reset));
		expect(opened).toMatchObject({type: 'reset', change: {resetByThem: true, resent: expect.any(Number)}});
		// the process dies here: what a restart loads from the table
		expect(rows()).toEqual([]);
		// and the texts are sealed again, once each
		const again = alice.e2e.sealWaiting('bob', 100);
		expect(again.length).toBeGreaterThanOrEqual(2);
		expect(rows().sort()).toEqual(again.map(envelope => envelope.id).sort());
	});

	it('a resend refused as too soon keeps them: they are the only copies', () => {
		const {alice, bob} = ratchetPair();
		bob.e2e.open(write(alice, bob, 'hello'));
		const first = ratchetUser('bob', bob.keys);
		pin(first, alice);
		alice.e2e.open(delivered('bob', first.e2e.resetSession('alice', bundle(alice)).envelope));
		alice.e2e.sealWaiting('bob', 100);
		alice.e2e.seal('bob', 'direct', 'kept', 'kept');
		const second = ratchetUser('bob', bob.keys);
		pin(second, alice);
		const opened = alice.e2e.open(delivered('bob', second.e2e.resetSession('alice', bundle(alice)).envelope));
		expect(opened).toMatchObject({type: 'reset', change: {resetByThem: true}});
		expect(opened.type === 'reset' && opened.change.resent).toBeUndefined();
		expect(new OutboxStore(alice.db).load().map(envelope => envelope.id)).toContain('kept');
	});
});
