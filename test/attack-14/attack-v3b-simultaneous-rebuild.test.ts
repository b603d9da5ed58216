import {describe, expect, it} from 'vitest';
import type {Opened} from '../../source/client/end-to-end.js';
import type {DeliveredEnvelope} from '../../source/net/messages.js';
import {bundle, delivered, ratchetPair, write} from '../helpers/ratchet-pair.js';

// Both sides rebuild at the same moment (each got an envelope it could not read): each reset
// arrives at a side whose own active session is a fresh, unconfirmed one it started, and the
// `reset` payload makes it "they rebuilt" on both sides. Do they converge (no further rebuild, both
// directions readable, every text shown once per id), or loop?
describe('attack v3b: two honest clients rebuilding at the same moment', () => {
	it('converge: both directions read, nothing unreadable, each text shown under its first id', () => {
		const {alice, bob} = ratchetPair();
		bob.e2e.open(write(alice, bob, 'a0', 'a0'));
		alice.e2e.open(write(bob, alice, 'b0', 'b0'));
		alice.e2e.seal('bob', 'direct', 'a1', 'a1');
		bob.e2e.seal('alice', 'direct', 'b1', 'b1');
		expect(alice.e2e.mayReset('bob')).toBe(true);
		expect(bob.e2e.mayReset('alice')).toBe(true);
		const resetA = alice.e2e.resetSession('bob', bundle(bob)).envelope;
		const resetB = bob.e2e.resetSession('alice', bundle(alice)).envelope;
		const sentA = alice.e2e.sealWaiting('bob', 100).map(envelope => delivered('alice', envelope));
		const sentB = bob.e2e.sealWaiting('alice', 100).map(envelope => delivered('bob', envelope));
		const all: Opened[] = [];
		const toBob = (envelopes: DeliveredEnvelope[]) => envelopes.map(envelope => bob.e2e.open(envelope));
		const toAlice = (envelopes: DeliveredEnvelope[]) => envelopes.map(envelope => alice.e2e.open(envelope));
		// the resets cross; then what each sealed in its own new session arrives
		all.push(alice.e2e.open(delivered('bob', resetB)), bob.e2e.open(delivered('alice', resetA)));
		all.push(...toBob(sentA), ...toAlice(sentB));
		// each side now seals again (they rebuilt) in the other's session
		const againA = alice.e2e.sealWaiting('bob', 100).map(envelope => delivered('alice', envelope));
		const againB = bob.e2e.sealWaiting('alice', 100).map(envelope => delivered('bob', envelope));
		all.push(...toBob(againA), ...toAlice(againB));
		// conversation goes on
		const later = [bob.e2e.open(write(alice, bob, 'a2', 'a2')), alice.e2e.open(write(bob, alice, 'b2', 'b2'))];
		all.push(...later);
		expect(all.filter(item => item.type === 'rejected')).toEqual([]);
		expect(later.map(item => item.type)).toEqual(['text', 'text']);
		const shownBy = (from: string) => all.filter(item => item.type === 'text' && item.from === from).map(item => (item as {id: string}).id);
		expect(new Set(shownBy('alice'))).toEqual(new Set(['a0', 'a1', 'a2']));
		expect(new Set(shownBy('bob'))).toEqual(new Set(['b0', 'b1', 'b2']));
		// and nobody is left waiting to rebuild: a third exchange still opens
		expect([bob.e2e.open(write(alice, bob, 'a3', 'a3')).type, alice.e2e.open(write(bob, alice, 'b3', 'b3')).type]).toEqual(['text', 'text']);
	});
});
