// Part 1 of bench/ratchet.mjs: the crypto alone, from dist/, one message at a time. The static
// scheme of version 2 (sealEnvelope/openEnvelope, the "before") beside the Double Ratchet of
// version 3: within one sending chain, with a DH step for every message, X3DH, and a first message.
import {performance} from 'node:perf_hooks';
import {initRatchetInitiator, initRatchetResponder, parseHeader} from '../dist/crypto/double-ratchet.js';
import {openEnvelope, sealEnvelope} from '../dist/crypto/envelope.js';
import {generateIdentity, publicIdentity} from '../dist/crypto/identity.js';
import {generateOneTimePrekeys, generateSignedPrekey} from '../dist/crypto/prekeys.js';
import {openRatchet, sealRatchet} from '../dist/crypto/ratchet-envelope.js';
import {x3dhInitiate, x3dhRespond} from '../dist/crypto/x3dh.js';
import {percentile, round} from './measure.mjs';

/** A payload as the client seals it: a text of 100 characters. */
const payload = JSON.stringify({v: 1, counter: 41, type: 'text', text: 'x'.repeat(100), sent: Date.now()});
const noSkipped = () => undefined;

function person(name) {
	const keys = generateIdentity();
	const {identity, x25519} = publicIdentity(keys, name);
	return {keys, party: {name, identity, x25519}, secret: {name, identity, x25519, x25519Secret: keys.x25519.privateKey}};
}

/** Microseconds `operation` took. */
function timed(operation) {
	const start = performance.now();
	const result = operation();
	return {us: (performance.now() - start) * 1000, result};
}

/** `step(index)` returns the µs of one sample; `warmup` runs first, unrecorded. Sorted samples. */
function sample(count, warmup, step) {
	const samples = [];
	for (let index = 0; index < warmup + count; index++) {
		const us = step(index);
		if (index >= warmup) samples.push(us);
	}
	return samples.sort((a, b) => a - b);
}

/** A session of alice's with bob, after one message each way: alice's next seal uses a confirmed chain. */
function session(alice, bob) {
	const signed = generateSignedPrekey(bob.keys.identity, bob.party.name, 1);
	const [oneTime] = generateOneTimePrekeys(2, 1);
	const first = firstMessage(alice, bob, signed, oneTime, 'm0');
	const reply = sealRatchet({state: first.bob, sender: bob.party, recipient: alice.party, baseKey: first.baseKey, id: 'm1', kind: 'direct', payload});
	const opened = openRatchet({state: first.alice, sender: bob.party, recipient: alice.party, header: reply.header, id: 'm1', kind: 'direct', body: reply.body, skipped: noSkipped});
	return {alice: opened.state, bob: reply.state, baseKey: first.baseKey};
}

/** X3DH both ways, both ratchets started, the first message sealed and opened: the two states. */
function firstMessage(alice, bob, signed, oneTime, id) {
	const bundle = {signed: {id: signed.id, key: signed.keyPair.publicRaw, signature: signed.signature}, oneTime: {id: oneTime.id, key: oneTime.keyPair.publicRaw}};
	const {sharedSecret, baseKey} = x3dhInitiate({initiator: alice.secret, responder: bob.party, ...bundle});
	const aliceState = initRatchetInitiator({sharedSecret, remote: bundle.signed.key});
	const sealed = sealRatchet({state: aliceState, sender: alice.party, recipient: bob.party, baseKey, prekey: {signedId: signed.id, oneTimeId: oneTime.id}, id, kind: 'direct', payload});
	const header = parseHeader(sealed.header);
	const bobSecret = x3dhRespond({
		responder: bob.secret,
		initiator: alice.party,
		signed: {id: header.prekey.signedId, secret: signed.keyPair.privateKey},
		oneTime: {id: header.prekey.oneTimeId, secret: oneTime.keyPair.privateKey},
		baseKey: header.baseKey,
	});
	const bobState = initRatchetResponder({sharedSecret: bobSecret, signedPrekey: signed.keyPair});
	const opened = openRatchet({state: bobState, sender: alice.party, recipient: bob.party, header: sealed.header, id, kind: 'direct', body: sealed.body, skipped: noSkipped});
	if (opened.payload.toString() !== payload) throw new Error('the first message did not open to what was sealed');
	return {alice: sealed.state, bob: opened.state, baseKey};
}

function staticScheme(alice, bob, {count, warmup}) {
	const seals = [];
	const opens = [];
	const pairs = sample(count, warmup, index => {
		const id = `s${index}`;
		const sealed = timed(() => sealEnvelope({sender: alice.secret, recipient: bob.party, id, kind: 'direct', payload}));
		const opened = timed(() => openEnvelope({recipient: bob.secret, sender: alice.party, id, kind: 'direct', ephemeral: sealed.result.ephemeral, body: sealed.result.body}));
		if (index >= warmup) seals.push(sealed.us), opens.push(opened.us);
		return sealed.us + opened.us;
	});
	return {seals, opens, pairs};
}

/** Alice seals every message, bob opens each as it comes: one sending chain, no DH step. */
function oneChain(alice, bob, {count, warmup}) {
	let {alice: sending, bob: receiving, baseKey} = session(alice, bob);
	const seals = [];
	const opens = [];
	const pairs = sample(count, warmup, index => {
		const id = `c${index}`;
		const sealed = timed(() => sealRatchet({state: sending, sender: alice.party, recipient: bob.party, baseKey, id, kind: 'direct', payload}));
		sending = sealed.result.state;
		const opened = timed(() => openRatchet({state: receiving, sender: alice.party, recipient: bob.party, header: sealed.result.header, id, kind: 'direct', body: sealed.result.body, skipped: noSkipped}));
		receiving = opened.result.state;
		if (index >= warmup) seals.push(sealed.us), opens.push(opened.us);
		return sealed.us + opened.us;
	});
	return {seals, opens, pairs};
}

/** Strict alternation: each message answers the last, so its seal starts a new sending chain and its open makes a DH step. */
function alternating(alice, bob, {count, warmup}) {
	const states = session(alice, bob);
	const seals = [];
	const opens = [];
	const pairs = sample(count, warmup, index => {
		const [from, to, fromKey, toKey] = index % 2 === 0 ? [alice, bob, 'alice', 'bob'] : [bob, alice, 'bob', 'alice'];
		const id = `a${index}`;
		const sealed = timed(() => sealRatchet({state: states[fromKey], sender: from.party, recipient: to.party, baseKey: states.baseKey, id, kind: 'direct', payload}));
		states[fromKey] = sealed.result.state;
		const opened = timed(() => openRatchet({state: states[toKey], sender: from.party, recipient: to.party, header: sealed.result.header, id, kind: 'direct', body: sealed.result.body, skipped: noSkipped}));
		states[toKey] = opened.result.state;
		if (index >= warmup) seals.push(sealed.us), opens.push(opened.us);
		return sealed.us + opened.us;
	});
	return {seals, opens, pairs};
}

function x3dh(alice, bob, {count, warmup}) {
	const signed = generateSignedPrekey(bob.keys.identity, bob.party.name, 1);
	const oneTime = generateOneTimePrekeys(2, count + warmup);
	const initiates = [];
	const responds = [];
	sample(count, warmup, index => {
		const prekey = oneTime[index];
		const initiated = timed(() =>
			x3dhInitiate({initiator: alice.secret, responder: bob.party, signed: {id: signed.id, key: signed.keyPair.publicRaw, signature: signed.signature}, oneTime: {id: prekey.id, key: prekey.keyPair.publicRaw}}),
		);
		const responded = timed(() =>
			x3dhRespond({responder: bob.secret, initiator: alice.party, signed: {id: signed.id, secret: signed.keyPair.privateKey}, oneTime: {id: prekey.id, secret: prekey.keyPair.privateKey}, baseKey: initiated.result.baseKey}),
		);
		if (!responded.result.equals(initiated.result.sharedSecret)) throw new Error('X3DH: the two sides disagree');
		if (index >= warmup) initiates.push(initiated.us), responds.push(responded.us);
		return 0;
	});
	const firsts = sample(count, warmup, index => timed(() => firstMessage(alice, bob, signed, oneTime[index], `f${index}`)).us);
	return {initiates: initiates.sort((a, b) => a - b), responds: responds.sort((a, b) => a - b), firsts};
}

function row(benchmark, metric, samples, note, extra = {}) {
	const sorted = [...samples].sort((a, b) => a - b);
	return {benchmark, metric, p50: round(percentile(sorted, 50), 1), p99: round(percentile(sorted, 99), 1), unit: 'µs', ...extra, note};
}

/** Rows of part 1; `count` samples of each after `warmup`. */
export function cryptoRows({count = 5000, warmup = 500} = {}) {
	const alice = person('alice');
	const bob = person('bob');
	const options = {count, warmup};
	const old = staticScheme(alice, bob, options);
	const chain = oneChain(alice, bob, options);
	const steps = alternating(alice, bob, options);
	const handshake = x3dh(alice, bob, {count: Math.ceil(count / 5), warmup: Math.ceil(warmup / 5)});
	const label = 'crypto only';
	const per = `${count} messages of a 100-character text after ${warmup}`;
	const ratio = (samples, base) => `p50 ${round(percentile(samples, 50) / percentile(base, 50), 2)}× the static scheme's`;
	return [
		row(label, 'static seal (v2, before)', old.seals, `${per}: sealEnvelope, an ephemeral X25519 pair, 2 DH, HKDF, Fernet`),
		row(label, 'static open (v2, before)', old.opens, 'openEnvelope: 2 DH, HKDF, Fernet'),
		row(label, 'static seal+open', old.pairs, 'the two above, per message'),
		row(label, 'ratchet seal, one chain', chain.seals, `sealRatchet, a confirmed session, alice sends every message: KDF_CK, HKDF, Fernet; ${ratio(chain.seals, old.seals)}`),
		row(label, 'ratchet open, one chain', chain.opens, `openRatchet of each in order: no DH step; ${ratio(chain.opens, old.opens)}`),
		row(label, 'ratchet seal+open, one chain', chain.pairs, ratio(chain.pairs, old.pairs)),
		row(label, 'ratchet seal, DH step each', steps.seals, 'strict alternation between alice and bob: every seal starts a new sending chain'),
		row(label, 'ratchet open, DH step each', steps.opens, 'every open makes a DH ratchet step: a fresh X25519 pair, 2 DH, 2 KDF_RK'),
		row(label, 'ratchet seal+open, DH step each', steps.pairs, ratio(steps.pairs, old.pairs)),
		row(label, 'X3DH initiate', handshake.initiates, `${handshake.initiates.length} handshakes: the signed prekey verified (Ed25519), a base key, 4 DH (one-time prekey used), HKDF`),
		row(label, 'X3DH respond', handshake.responds, '4 DH, HKDF'),
		row(label, 'first message end to end', handshake.firsts, 'x3dhInitiate + initRatchetInitiator + sealRatchet (prekey part) + parseHeader + x3dhRespond + initRatchetResponder + openRatchet'),
	];
}
