import {Buffer} from 'node:buffer';
import {describe, expect, it} from 'vitest';
import {fromBase64UrlPadded, toBase64UrlPadded} from '../../source/crypto/base64url.js';
import {encodeHeader, kdfChain, parseHeader, parseRatchet, serialiseRatchet, type RatchetState} from '../../source/crypto/double-ratchet.js';
import {openRatchet, sealRatchet, type OpenRatchetOptions} from '../../source/crypto/ratchet-envelope.js';
import {failure, Peer, session, started, user, type Sealed} from './ratchet-kit.js';
import {shuffled} from '../helpers/shuffled.js';


function snapshot(state: RatchetState): string {
	return JSON.stringify(serialiseRatchet(state));
}

/** Opens without touching the peer: for messages that must fail. */
function tryOpen(peer: Peer, message: Sealed, changes: Partial<OpenRatchetOptions> = {}) {
	return openRatchet({state: peer.state, sender: peer.other.party, recipient: peer.me.party, ...message, skipped: peer.lookup, ...changes});
}

/** The failure leaves the peer's state and its stored keys as they were. */
function refused(peer: Peer, message: Sealed, changes: Partial<OpenRatchetOptions> = {}): string {
	const before = snapshot(peer.state);
	const stored = peer.skipped.size;
	const error = failure(() => tryOpen(peer, message, changes));
	expect(snapshot(peer.state)).toBe(before);
	expect(peer.skipped.size).toBe(stored);
	return error.code;
}

describe('ratchet envelopes: round trips', () => {
	it('start with X3DH with or without a one-time prekey', () => {
		for (const withOneTime of [true, false]) {
			const {alice, bobReceives} = session(withOneTime);
			const first = alice.send('hello bob');
			expect(first.header).toHaveLength(withOneTime ? 82 : 78);
			const {bob, payload} = bobReceives(first);
			expect(payload).toBe('hello bob');
			expect(alice.receive(bob.send('hello alice'))).toBe('hello alice');
		}
	});

	it('carry the prekey part until the initiator has received, never from the responder', () => {
		const {alice, bobReceives} = session();
		const first = alice.send('1');
		const second = alice.send('2');
		expect(parseHeader(second.header).prekey).toEqual({signedId: 7, oneTimeId: 41});
		const {bob} = bobReceives(first);
		expect(bob.receive(second)).toBe('2');
		const reply = bob.send('3');
		expect(reply.header).toHaveLength(74);
		expect(parseHeader(reply.header).baseKey.equals(alice.baseKey)).toBe(true);
		alice.receive(reply);
		expect(alice.send('4').header).toHaveLength(74);
	});

	it('go both ways over many turns, in bursts of different lengths', () => {
		const {alice, bob} = started();
		for (let turn = 0; turn < 60; turn++) {
			const [from, to] = turn % 2 === 0 ? [bob, alice] : [alice, bob];
			for (let index = 0; index <= turn % 4; index++) {
				const text = `turn ${turn} message ${index} ${'x'.repeat(turn)}`;
				expect(to.receive(from.send(text, index % 2 === 0 ? 'direct' : 'everyone'))).toBe(text);
			}
		}
		expect(alice.skipped.size + bob.skipped.size).toBe(0);
		expect(alice.state.previousRemotes).toHaveLength(16);
	});

	it('carry bytes, nothing and large payloads', () => {
		const {alice, bob} = started();
		const bytes = Buffer.from(Array.from({length: 256}, (_, index) => index));
		const sealed = sealRatchet({state: alice.state, sender: alice.me.party, recipient: bob.me.party, baseKey: alice.baseKey, id: 'b', kind: 'direct', payload: bytes});
		const opened = openRatchet({state: bob.state, sender: alice.me.party, recipient: bob.me.party, header: sealed.header, id: 'b', kind: 'direct', body: sealed.body, skipped: bob.lookup});
		expect(opened.payload.equals(bytes)).toBe(true);
		alice.state = sealed.state;
		bob.state = opened.state;
		expect(bob.receive(alice.send(''))).toBe('');
		expect(bob.receive(alice.send('y'.repeat(100_000)))).toBe('y'.repeat(100_000));
	});
});

describe('ratchet envelopes: order and replays', () => {
	it('open 100 shuffled messages over several chains, each exactly once', () => {
		const {alice, bob} = started();
		const messages: Array<[Sealed, string]> = [];
		for (let chain = 0; chain < 4; chain++) {
			for (let index = 0; index < 25; index++) {
				const text = `chain ${chain} message ${index}`;
				messages.push([alice.send(text), text]);
			}
			// Bob answers on what he has and Alice reads it, so her next messages start a new chain.
			alice.receive(bob.send(`answer ${chain}`));
		}
		const order = shuffled(messages);
		for (const [message, text] of order) expect(bob.receive(message)).toBe(text);
		expect(bob.skipped.size).toBe(0);
		for (const [message] of order.slice(0, 10)) expect(refused(bob, message)).toBe('replay');
		expect(bob.receive(alice.send('after'))).toBe('after');
	});

	it('refuses the same message twice', () => {
		const {alice, bob} = started();
		const message = alice.send('once');
		expect(bob.receive(message)).toBe('once');
		expect(refused(bob, message)).toBe('replay');
	});

	it('refuses a message opened with a stored skipped key a second time', () => {
		const {alice, bob} = started();
		const late = alice.send('late');
		bob.receive(alice.send('early'));
		expect(bob.skipped.size).toBe(1);
		expect(bob.receive(late)).toBe('late');
		expect(bob.skipped.size).toBe(0);
		expect(refused(bob, late)).toBe('replay');
	});

	it('refuses a message of an old chain after a DH step', () => {
		const {alice, bob} = started();
		const old = alice.send('old chain');
		expect(bob.receive(old)).toBe('old chain');
		alice.receive(bob.send('reply'));
		expect(bob.receive(alice.send('new chain'))).toBe('new chain');
		expect(refused(bob, old)).toBe('replay');
		// The session's very first message too, whose chain Bob never had before it.
		const {alice: alice2, bobReceives} = session();
		const first = alice2.send('first');
		const {bob: bob2} = bobReceives(first);
		alice2.receive(bob2.send('reply'));
		bob2.receive(alice2.send('next'));
		expect(refused(bob2, first)).toBe('replay');
	});

	it('hands back the keys it skipped and the one it used', () => {
		const {alice, bob} = started();
		const skippedOver = [alice.send('a'), alice.send('b')];
		const third = alice.send('c');
		const opened = tryOpen(bob, third);
		expect(opened.newSkipped.map(entry => entry.n)).toEqual([1, 2]);
		expect(opened.newSkipped.every(entry => entry.dh.equals(parseHeader(third.header).dh) && entry.key.length === 32)).toBe(true);
		expect(opened.usedSkipped).toBeUndefined();
		bob.receive(third);
		const late = tryOpen(bob, skippedOver[0]!);
		expect(late.usedSkipped!.n).toBe(1);
		expect(late.newSkipped).toEqual([]);
		expect(late.payload.toString()).toBe('a');
	});
});

describe('ratchet envelopes: the skip bound', () => {
	it('skips up to 1,000 keys in a chain for one message, and no more', () => {
		const {alice, bob} = started();
		// Bob has read message 0: sent[k] is message k + 1, so sent[1000] skips 1,000 keys, tooFar 1,001.
		const sent = Array.from({length: 1001}, (_, index) => alice.send(`m${index}`));
		const tooFar = alice.send('too far');
		expect(parseHeader(tooFar.header).n).toBe(1002);
		expect(refused(bob, tooFar)).toBe('too_many_skipped');
		expect(bob.receive(sent[1000]!)).toBe('m1000');
		expect(bob.skipped.size).toBe(1000);
		expect(bob.receive(tooFar)).toBe('too far');
		expect(bob.receive(sent[500]!)).toBe('m500');
	});

	it('refuses a header n far ahead and a previous chain length far ahead', () => {
		const {alice, bob} = started();
		const forged = alice.send('x');
		const header = parseHeader(forged.header);
		for (const changes of [{n: 1002}, {n: 0xff_ff_ff_ff}]) {
			expect(refused(bob, {...forged, header: encodeHeader({...header, ...changes})})).toBe('too_many_skipped');
		}
		bob.receive(forged);
		for (let index = 0; index < 1002; index++) alice.send('never delivered');
		alice.receive(bob.send('reply'));
		const next = alice.send('next chain');
		expect(parseHeader(next.header).previousN).toBe(1004);
		expect(refused(bob, next)).toBe('too_many_skipped');
	});
});

describe('ratchet envelopes: authentication', () => {
	it('refuses an altered header, body, id, kind or names, and the state stays usable', () => {
		const {alice, bob} = started();
		bob.receive(alice.send('warm up'));
		alice.receive(bob.send('a reply'));
		const message = alice.send('the message', 'direct');
		const carol = user('carol');
		const alter = (bytes: Buffer, index: number): Buffer => {
			const copy = Buffer.from(bytes);
			copy[index]! ^= 0x01;
			return copy;
		};
		const body = fromBase64UrlPadded(message.body);
		const variants: Array<Partial<OpenRatchetOptions>> = [
			...[2, 33, 34, 65, 69, 73].map(index => ({header: alter(message.header, index)})),
			...[0, 9, 30, body.length - 1].map(index => ({body: toBase64UrlPadded(alter(body, index))})),
			{id: `${message.id}x`},
			{kind: 'everyone'},
			{sender: {...alice.me.party, name: 'carol'}},
			{recipient: {...bob.me.party, name: 'carol'}},
			{sender: carol.party},
			{recipient: {...bob.me.party, identity: carol.party.identity}},
		];
		for (const changes of variants) expect(refused(bob, message, changes), JSON.stringify(Object.keys(changes))).toBe('authentication');
		expect(refused(bob, message, {header: Buffer.concat([message.header, Buffer.alloc(4)])})).toBe('malformed');
		expect(refused(bob, message, {id: 'not an id'})).toBe('malformed');
		expect(refused(bob, message, {header: encodeHeader({...parseHeader(message.header), dh: Buffer.alloc(32)})})).toBe('key_exchange');
		expect(bob.receive(message)).toBe('the message');
	});

	it('refuses an altered prekey part of the first message, and Bob can still open the real one', () => {
		const {alice, bobReceives} = session();
		const first = alice.send('first');
		const header = parseHeader(first.header);
		const forged = {...first, header: encodeHeader({...header, prekey: {signedId: 7, oneTimeId: 42}})};
		expect(() => bobReceives(forged)).toThrow();
		expect(bobReceives(first).payload).toBe('first');
	});

	it('refuses a message claiming the signed prekey as the sender key', () => {
		const {alice, bob} = started();
		const message = alice.send('x');
		// Alice has received nothing, so her remote key is still Bob's signed prekey.
		const forged = bob.send('y');
		const header = {...parseHeader(forged.header), dh: alice.state.dhRemote!};
		expect(refused(alice, {...forged, header: encodeHeader(header)})).toBe('authentication');
		expect(bob.receive(message)).toBe('x');
	});
});

describe('ratchet envelopes: forward secrecy and post-compromise security', () => {
	it('after a message is read, the new state cannot read it again, nor derive its key', () => {
		const {alice, bob} = started();
		const message = alice.send('secret');
		const before = bob.state;
		const messageKey = kdfChain(before.recvChain!).messageKey;
		expect(bob.receive(message)).toBe('secret');
		const after = parseRatchet(JSON.parse(JSON.stringify(serialiseRatchet(bob.state))));
		expect(failure(() => openRatchet({state: after, sender: alice.me.party, recipient: bob.me.party, ...message, skipped: () => undefined})).code).toBe('replay');
		for (const key of [after.rootKey, after.sendChain, after.recvChain, after.dhSecret]) {
			let chain = key!;
			for (let step = 0; step < 8; step++) {
				const next = kdfChain(chain);
				expect(next.messageKey.equals(messageKey)).toBe(false);
				chain = next.chainKey;
			}
		}
	});

	it("a copy of Alice's state cannot read Bob's messages after two round trips", () => {
		const {alice, bob} = started();
		alice.receive(bob.send('before'));
		const stolen = parseRatchet(serialiseRatchet(alice.state));
		const eve = new Peer(alice.me, bob.me, stolen, alice.baseKey);
		const copy = new Peer(alice.me, bob.me, stolen, alice.baseKey);
		// Right after the theft the copy reads Bob's current chain...
		const exposed = bob.send('exposed');
		expect(copy.receive(exposed)).toBe('exposed');
		expect(alice.receive(exposed)).toBe('exposed');
		for (let trip = 0; trip < 2; trip++) {
			bob.receive(alice.send(`trip ${trip}`));
			alice.receive(bob.send(`back ${trip}`));
		}
		// ...but not once both sides have stepped their DH ratchets with fresh keys.
		const healed = bob.send('healed');
		expect(alice.receive(healed)).toBe('healed');
		expect(refused(eve, healed)).toBe('authentication');
	});
});
