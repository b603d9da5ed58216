import {describe, expect, it} from 'vitest';
import type {Opened} from '../../source/client/end-to-end.js';
import {fromBase64Url, toBase64Url} from '../../source/crypto/base64url.js';
import {parseHeader} from '../../source/crypto/double-ratchet.js';
import {sealEnvelope} from '../../source/crypto/envelope.js';
import {X3dhError} from '../../source/crypto/x3dh.js';
import {bundle, copyOf, delivered, pin, ratchetPair, ratchetUser, write, type RatchetUser} from '../helpers/ratchet-pair.js';
import {shuffled} from '../helpers/shuffled.js';

const texts = (opened: Opened[]) => opened.filter(item => item.type === 'text').map(item => (item as {text: string}).text);
const headerOf = (envelope: {ratchet?: string}) => parseHeader(fromBase64Url(envelope.ratchet!));


describe('ratchet sessions between two clients (PROTOCOL.md section 14)', () => {
	it('starts with X3DH, sends the prekey part until the first reply, and reuses the session', () => {
		const {alice, bob} = ratchetPair();
		const first = write(alice, bob, 'hello');
		expect(first.ephemeral).toBeUndefined();
		expect(headerOf(first).prekey).toMatchObject({signedId: expect.any(Number), oneTimeId: expect.any(Number)});
		expect(bob.e2e.open(first)).toMatchObject({type: 'text', text: 'hello', change: {activated: true, resetByThem: false}});
		const second = write(alice, bob, 'again');
		expect(headerOf(second).prekey).toBeDefined();
		expect(headerOf(second).baseKey).toEqual(headerOf(first).baseKey);
		const reply = write(bob, alice, 'hi');
		expect(headerOf(reply).prekey).toBeUndefined();
		expect(alice.e2e.open(reply)).toMatchObject({type: 'text', text: 'hi'});
		const third = write(alice, bob, 'third');
		expect(headerOf(third).prekey).toBeUndefined();
		expect(texts([bob.e2e.open(second), bob.e2e.open(third)])).toEqual(['again', 'third']);
	});

	it('opens 100 messages delivered in random order, some lost and some replayed, each once', () => {
		const {alice, bob} = ratchetPair();
		const sent = Array.from({length: 100}, (_, index) => write(alice, bob, `text ${index}`));
		// a reply midway makes both sides take DH steps, so later messages are in new chains
		expect(bob.e2e.open(sent[0]!)).toMatchObject({type: 'text'});
		const lost = new Set([5, 17, 33, 34, 35, 60, 99]);
		const replayed = [3, 17 + 1, 50, 51, 98];
		const order = shuffled([...sent.slice(1).filter((_, index) => !lost.has(index + 1)), ...replayed.map(index => sent[index]!)], 7);
		const outcomes = order.map(envelope => bob.e2e.open(envelope));
		const shown = texts(outcomes).sort();
		const expected = sent.map((_, index) => `text ${index}`).filter((_, index) => index !== 0 && !lost.has(index)).sort();
		expect(shown).toEqual(expected);
		expect(outcomes.filter(outcome => outcome.type === 'rejected').map(outcome => (outcome as {code: string}).code)).toEqual(replayed.map(() => 'replay'));
		// the lost ones show as missing counters of the session, once
		const gaps = outcomes.reduce((total, outcome) => total + ('gap' in outcome && typeof outcome.gap === 'number' ? outcome.gap : 0), 0);
		expect(gaps).toBeGreaterThanOrEqual(1);
		// a late envelope for a lost counter still opens (its skipped key is kept)
		expect(bob.e2e.open(sent[60]!)).toMatchObject({type: 'text', text: 'text 60'});
		expect(bob.e2e.open(sent[60]!)).toMatchObject({type: 'rejected', code: 'replay'});
	});

	it('works with the one-time pool drained: the signed prekey alone', () => {
		const {alice, bob} = ratchetPair();
		bob.published.oneTime = [];
		const first = write(alice, bob, 'no one-time key');
		expect(headerOf(first).prekey?.oneTimeId).toBeUndefined();
		expect(bob.e2e.open(first)).toMatchObject({type: 'text', text: 'no one-time key'});
		// the same first message again opens nothing new: the base key was accepted once
		expect(bob.e2e.open({...first, delivery: first.delivery + 1000})).toMatchObject({type: 'rejected', code: 'replay'});
	});

	it('refuses a prekey the relay substituted: the identity signature fails, nothing is sealed', () => {
		const {alice, bob} = ratchetPair();
		const substituted = bundle(bob);
		substituted.signed = {...substituted.signed, key: ratchetUser('mallory').published.signed!.key};
		expect(alice.e2e.seal('bob', 'direct', 'm1', 'secret')).toBeUndefined();
		expect(() => alice.e2e.startSession('bob', substituted)).toThrow(X3dhError);
		expect(alice.e2e.hasSession('bob')).toBe(false);
		expect(alice.e2e.sealWaiting('bob', 10)).toEqual([]);
	});

	it('a one-time prekey the relay hands out twice: the second first message cannot be read, and the rebuild brings it', () => {
		const {alice, bob} = ratchetPair();
		const carol = ratchetUser('carol');
		pin(carol, bob);
		pin(bob, carol);
		const served = bundle(bob);
		alice.e2e.seal('bob', 'direct', 'a1', 'from alice');
		alice.e2e.startSession('bob', served);
		const [fromAlice] = alice.e2e.sealWaiting('bob', 1);
		carol.e2e.seal('bob', 'direct', 'c1', 'from carol');
		carol.e2e.startSession('bob', served);
		const [fromCarol] = carol.e2e.sealWaiting('bob', 1);
		expect(bob.e2e.open(delivered('carol', fromCarol!))).toMatchObject({type: 'text', text: 'from carol'});
		// the one-time secret went with carol's session: alice's first message opens nothing
		expect(bob.e2e.open(delivered('alice', fromAlice!))).toMatchObject({type: 'rejected', code: 'unreadable', reset: true});
		const reset = bob.e2e.resetSession('alice', bundle(alice)).envelope;
		expect(alice.e2e.open(delivered('bob', reset))).toMatchObject({type: 'reset', change: {resetByThem: true, resent: 1}});
		const [again] = alice.e2e.sealWaiting('bob', 10);
		expect(bob.e2e.open(delivered('alice', again!))).toMatchObject({type: 'text', id: 'a1', text: 'from alice'});
	});

	it('a one-time prekey the relay substituted (they are not signed): the receiver rebuilds, and the text arrives', () => {
		const {alice, bob} = ratchetPair();
		const served = bundle(bob);
		served.oneTime = {id: served.oneTime!.id, key: ratchetUser('mallory').published.oneTime[0]!.key};
		alice.e2e.seal('bob', 'direct', 'a1', 'through a hostile relay');
		alice.e2e.startSession('bob', served);
		const [first] = alice.e2e.sealWaiting('bob', 1);
		expect(bob.e2e.open(delivered('alice', first!))).toMatchObject({type: 'rejected', code: 'unreadable', reset: true});
		const reset = bob.e2e.resetSession('alice', bundle(alice)).envelope;
		expect(alice.e2e.open(delivered('bob', reset))).toMatchObject({type: 'reset', change: {activated: true, resetByThem: true, resent: 1}});
		const [again] = alice.e2e.sealWaiting('bob', 10);
		expect(bob.e2e.open(delivered('alice', again!))).toMatchObject({type: 'text', id: 'a1', text: 'through a hostile relay'});
	});

	it('settles simultaneous first messages on one session, and both first messages open', () => {
		const {alice, bob} = ratchetPair();
		const fromAlice = write(alice, bob, 'alice first');
		const fromBob = write(bob, alice, 'bob first');
		expect(texts([bob.e2e.open(fromAlice), alice.e2e.open(fromBob)])).toEqual(['alice first', 'bob first']);
		const nextFromAlice = write(alice, bob, 'alice second');
		const nextFromBob = write(bob, alice, 'bob second');
		expect(headerOf(nextFromAlice).baseKey).toEqual(headerOf(nextFromBob).baseKey);
		const winner = Buffer.compare(headerOf(fromAlice).baseKey, headerOf(fromBob).baseKey) < 0 ? headerOf(fromAlice) : headerOf(fromBob);
		expect(headerOf(nextFromAlice).baseKey).toEqual(winner.baseKey);
		expect(texts([bob.e2e.open(nextFromAlice), alice.e2e.open(nextFromBob)])).toEqual(['alice second', 'bob second']);
	});

	it('forward secrecy: the whole database, taken after the messages were read, opens none of them but the skipped one', () => {
		const {alice, bob} = ratchetPair();
		const recorded = Array.from({length: 12}, (_, index) => write(alice, bob, `secret ${index}`));
		const withheld = recorded[4]!;
		for (const envelope of recorded) if (envelope !== withheld) expect(bob.e2e.open(envelope).type).toBe('text');
		alice.e2e.open(write(bob, alice, 'reply'));
		recorded.push(write(alice, bob, 'after the reply'));
		expect(bob.e2e.open(recorded.at(-1)!).type).toBe('text');
		const stolen = copyOf(bob);
		const opened = recorded.map(envelope => stolen.e2e.open({...envelope, delivery: envelope.delivery + 10_000}));
		// by design the key of the one never delivered is kept, so that it still opens when it comes
		expect(texts(opened)).toEqual(['secret 4']);
	});

	it('post-compromise security: an old copy of the state opens nothing sent after a few messages each way', () => {
		const {alice, bob} = ratchetPair();
		bob.e2e.open(write(alice, bob, 'before'));
		alice.e2e.open(write(bob, alice, 'before too'));
		const stolen = copyOf(alice);
		for (let turn = 0; turn < 2; turn++) {
			bob.e2e.open(write(alice, bob, `alice ${turn}`));
			alice.e2e.open(write(bob, alice, `bob ${turn}`));
		}
		const later = [write(bob, alice, 'after 1'), write(bob, alice, 'after 2')];
		expect(later.map(envelope => stolen.e2e.open(envelope).type)).not.toContain('text');
		expect(texts(later.map(envelope => alice.e2e.open(envelope)))).toEqual(['after 1', 'after 2']);
	});

	it('a side that lost its session rebuilds it; the other seals again what was not confirmed, under the first ids', () => {
		const {alice, bob} = ratchetPair();
		bob.e2e.open(write(alice, bob, 'read before the loss'));
		alice.e2e.open(write(bob, alice, 'receipted'));
		const lostAfter = [write(alice, bob, 'unread 1', 'u1'), write(alice, bob, 'unread 2', 'u2')];
		// bob's device loses its database: same identity, nothing else
		const fresh = ratchetUser('bob', bob.keys);
		pin(fresh, alice);
		const refused = fresh.e2e.open(lostAfter[0]!);
		expect(refused).toMatchObject({type: 'rejected', code: 'unreadable', reset: true});
		expect(fresh.e2e.mayReset('alice')).toBe(true);
		const reset = fresh.e2e.resetSession('alice', bundle(alice)).envelope;
		expect(fresh.e2e.mayReset('alice')).toBe(false);
		const opened = alice.e2e.open(delivered('bob', reset));
		// "read before the loss" was never receipted either: all three go again
		expect(opened).toMatchObject({type: 'reset', change: {activated: true, resetByThem: true, resent: 3}});
		const again = alice.e2e.sealWaiting('bob', 10);
		expect(again.map(envelope => envelope.id)).not.toContain('u1');
		const shown = again.map(envelope => fresh.e2e.open(delivered('alice', envelope)));
		expect(shown.map(item => item.type === 'text' && [item.id, item.text])).toEqual([
			[expect.any(String), 'read before the loss'],
			['u1', 'unread 1'],
			['u2', 'unread 2'],
		]);
		// and the session goes on both ways
		expect(texts([alice.e2e.open(write(fresh, alice, 'back'))])).toEqual(['back']);
	});

	it('a peer that rebuilds again and again gets what it did not confirm once per 10 minutes, and at most 5 sessions are kept', () => {
		const {alice, bob} = ratchetPair();
		bob.e2e.open(write(alice, bob, 'hello'));
		for (let index = 0; index < 3; index++) alice.e2e.seal('bob', 'direct', `t${index}`, `unconfirmed ${index}`);
		const rebuilds = Array.from({length: 7}, () => {
			const fresh = ratchetUser('bob', bob.keys);
			pin(fresh, alice);
			const opened = alice.e2e.open(delivered('bob', fresh.e2e.resetSession('alice', bundle(alice)).envelope));
			return {opened, resent: opened.type === 'reset' ? opened.change.resent : 'not a reset'};
		});
		expect(rebuilds.every(({opened}) => opened.type === 'reset' && opened.change.resetByThem)).toBe(true);
		// 'hello' and the three: sealed again once; the later rebuilds within 10 minutes cost nothing
		expect(rebuilds.map(({resent}) => resent)).toEqual([4, undefined, undefined, undefined, undefined, undefined, undefined]);
		const sessions = alice.db.prepare("SELECT count(*) FROM sessions WHERE name = 'bob'").pluck().get();
		expect(sessions).toBe(5);
	});

	it('refuses version 2 envelopes past the switch point, and takes late ones below it', () => {
		const {alice, bob} = ratchetPair();
		const staticFromAlice = (counter: number): ReturnType<typeof delivered> => {
			const id = `s${counter}`;
			const {ephemeral, body} = sealEnvelope({
				sender: {name: 'alice', identity: alice.keys.identity.publicRaw, x25519: alice.keys.x25519.publicRaw, x25519Secret: alice.keys.x25519.privateKey},
				recipient: {name: 'bob', identity: bob.keys.identity.publicRaw, x25519: bob.keys.x25519.publicRaw},
				id,
				kind: 'direct',
				payload: JSON.stringify({v: 1, counter, type: 'text', text: `static ${counter}`, sent: 0}),
			});
			return delivered('alice', {id, to: 'bob', kind: 'direct', ephemeral: toBase64Url(ephemeral), body});
		};
		expect(texts([bob.e2e.open(staticFromAlice(0)), bob.e2e.open(staticFromAlice(2))])).toEqual(['static 0', 'static 2']);
		expect(bob.e2e.open(write(alice, bob, 'ratchet'))).toMatchObject({type: 'text'});
		expect(bob.e2e.open(staticFromAlice(1))).toMatchObject({type: 'text', text: 'static 1'});
		expect(bob.e2e.open(staticFromAlice(3))).toMatchObject({type: 'rejected', code: 'old_scheme'});
	});
});

export type {RatchetUser};
