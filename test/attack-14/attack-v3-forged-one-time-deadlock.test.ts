import {afterEach, describe, expect, it, vi} from 'vitest';
import type {Opened} from '../../source/client/end-to-end.js';
import {resetIntervalMs} from '../../source/client/ratchet/ratchet-envelopes.js';
import type {Bundle} from '../../source/client/ratchet/ratchet-sessions.js';
import {generateRawKeyPair} from '../../source/crypto/raw-keys.js';
import {bundle, delivered, ratchetPair, type RatchetUser} from '../helpers/ratchet-pair.js';

// One-time prekeys are unsigned: a hostile relay can serve the real signed prekey with a one-time
// key of its own (or one whose secret the owner no longer holds). The first message sealed with it
// is unreadable to its recipient. Section 14.5 then has the recipient rebuild, unless its active
// session is one it started and still waits on. If the relay does the same to the rebuild's
// bundle, both sides end up with an unconfirmed session of their own that the other cannot read:
// neither may ever rebuild again (awaitingReply never ends), receipts and texts go into sessions
// the other side cannot open, and the pair stays broken after the relay turns honest again.
// (Also without a hostile relay, when a first message names a one-time prekey its recipient no
// longer holds while the recipient's own first message is unanswered.)
// Fixed (PROTOCOL.md section 14.5): waiting on a session it started stops a rebuild only for
// resetIntervalMs after the session was made, and the side that replaces a session it started and
// never heard back in seals again the texts it sealed in it (they were never read).
function forgedOneTime(user: RatchetUser): Bundle {
	return {signed: bundle(user, false).signed, oneTime: {id: 4_000_000_000, key: generateRawKeyPair('x25519').publicRaw}};
}

function sealed(user: RatchetUser, to: string, id: string, text: string) {
	const envelope = user.e2e.seal(to, 'direct', id, text);
	if (envelope !== undefined) return delivered(user.name, envelope);
	return undefined;
}

const rejected = (opened: Opened) => opened.type === 'rejected' && opened.reset === true;

afterEach(() => {
	vi.useRealTimers();
});

describe('attack v3: a relay serving forged one-time prekeys to both sides', () => {
	it('leaves a way back once the relay is honest again: the pair does not stay unreadable for good', () => {
		vi.useFakeTimers({toFake: ['Date']});
		vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
		const {alice, bob} = ratchetPair();
		// alice writes first; the relay forges the one-time key of bob's bundle
		expect(alice.e2e.seal('bob', 'direct', 'a1', 'first')).toBeUndefined();
		alice.e2e.startSession('bob', forgedOneTime(bob));
		const [a1] = alice.e2e.sealWaiting('bob', 10);
		expect(rejected(bob.e2e.open(delivered('alice', a1!)))).toBe(true);
		expect(bob.e2e.mayReset('alice')).toBe(true);
		// bob rebuilds; the relay forges alice's one-time key this time
		const b1 = delivered('bob', bob.e2e.resetSession('alice', forgedOneTime(alice)).envelope);
		expect(rejected(alice.e2e.open(b1))).toBe(true);
		// from here on the relay is honest, and time passes
		vi.setSystemTime(Date.now() + 6 * resetIntervalMs);
		const a2 = sealed(alice, 'bob', 'a2', 'are you there?')!;
		expect(rejected(bob.e2e.open(a2))).toBe(true);
		const b2 = sealed(bob, 'alice', 'b2', 'hello?')!;
		expect(rejected(alice.e2e.open(b2))).toBe(true);
		// both may rebuild now (an hour with nothing read in their own sessions); alice does, the relay honest
		expect(alice.e2e.mayReset('bob') && bob.e2e.mayReset('alice')).toBe(true);
		const rebuilt = alice.e2e.resetSession('bob', bundle(bob)).envelope;
		const opened = bob.e2e.open(delivered('alice', rebuilt));
		expect(opened).toMatchObject({type: 'reset', change: {activated: true, resetByThem: true, resent: 1}});
		// alice's texts from her unread session go again, and bob's go again to her
		const fromAlice = alice.e2e.sealWaiting('bob', 10).map(envelope => bob.e2e.open(delivered('alice', envelope)));
		expect(fromAlice.map(item => item.type === 'text' && item.text)).toEqual(['first', 'are you there?']);
		const fromBob = bob.e2e.sealWaiting('alice', 10).map(envelope => alice.e2e.open(delivered('bob', envelope)));
		expect(fromBob.map(item => item.type === 'text' && item.text)).toEqual(['hello?']);
	});
});
