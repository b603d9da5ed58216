import {describe, expect, it} from 'vitest';
import {ratchetPair, write} from '../helpers/ratchet-pair.js';
import {craft} from './craft.js';

// A hostile contact sends one authenticated text whose payload counter is Number.MAX_SAFE_INTEGER.
// receive-counter.ts then stores next = 2^53 (documented as reachable), but session-store.ts's
// readRow() demands Number.isSafeInteger(receive.next): the session row reads as "damaged" and
// every later use of it throws. EnvelopeReader.receive() returns false on a throw, which blocks
// the inbound queue: no envelope from anyone is shown any more, across restarts. Worse, an envelope
// naming an unknown session makes EnvelopeReader call starter.unreadable() -> mayReset() ->
// store.active(), outside its try: the throw reaches the socket's data handler and ends the process.
describe('attack v3: a payload counter of 2^53 - 1 in a ratchet session', () => {
	it('does not make the session unreadable (the victim still opens, seals and replies)', () => {
		const {alice: mallory, bob: victim} = ratchetPair();
		const first = write(mallory, victim, 'hi');
		expect(victim.e2e.open(first)).toMatchObject({type: 'text', text: 'hi'});
		const huge = craft(mallory, victim, () => ({v: 1, counter: Number.MAX_SAFE_INTEGER, type: 'text', text: 'boom', sent: Date.now()}));
		expect(victim.e2e.open(huge)).toMatchObject({type: 'text', text: 'boom'});
		// the receipt owed to mallory, and any reply
		expect(() => victim.e2e.receipt('alice', [huge.id])).not.toThrow();
		expect(() => victim.e2e.seal('alice', 'direct', 'r1', 'reply')).not.toThrow();
		// a later envelope in the same session is judged, not thrown on (a throw wedges the inbound queue)
		const after = craft(mallory, victim, () => ({v: 1, counter: 5, type: 'text', text: 'late', sent: Date.now()}));
		expect(() => victim.e2e.open(after)).not.toThrow();
		// EnvelopeReader calls this outside its try after an unreadable envelope (a header naming an
		// unknown session): a throw here went up through the socket's data handler and ended the process
		expect(() => victim.e2e.mayReset('alice')).not.toThrow();
	});
});
