// Part 2 of bench/ratchet.mjs: the client's whole end-to-end layer (EndToEnd over sessions, prekeys
// and sent texts in a real account database, as test/helpers/ratchet-pair.ts builds it), no relay:
// what one text costs from alice's seal to bob's settled inbox, every SQLite commit included.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {ContactStore} from '../dist/client/contact-store.js';
import {endToEndFor} from '../dist/client/ratchet/account-ratchet.js';
import {openAccountDatabase} from '../dist/client/store/account-database.js';
import {fromBase64Url} from '../dist/crypto/base64url.js';
import {generateIdentity, publicIdentity} from '../dist/crypto/identity.js';
import {percentile, round} from './measure.mjs';

const text = 'x'.repeat(100);
let delivery = 0;

/** One user's EndToEnd over its own account database in `place`, its prekeys published (as the relay would hold them). */
function user(name, place) {
	const keys = generateIdentity();
	const db = openAccountDatabase(join(place, name, 'account.db'));
	const {e2e, publisher} = endToEndFor({database: db, username: name, keys, contacts: new ContactStore(db)});
	const upload = publisher.update({oneTime: 0, signed: null});
	const signed = {id: upload.signed.id, key: fromBase64Url(upload.signed.key, 32), signature: fromBase64Url(upload.signed.signature, 64)};
	const oneTime = upload.oneTime.map(({id, key}) => ({id, key: fromBase64Url(key, 32)}));
	return {name, keys, db, e2e, bundle: () => ({signed, oneTime: oneTime.shift()})};
}

function pin(user, other) {
	const {identity, x25519, binding} = publicIdentity(other.keys, other.name);
	const [verdict] = user.e2e.observeAll([{username: other.name, online: true, identity: identity.toString('base64url'), x25519: x25519.toString('base64url'), binding: binding.toString('base64url')}]);
	if (verdict !== 'pinned') throw new Error(`pinning ${other.name} failed: ${verdict}`);
}

const delivered = (from, envelope) => ({...envelope, delivery: ++delivery, from, time: Date.now()});

/** `to` opens `envelope` from `from`, shows it and settles its receipt, as the client's turn does; throws unless it is a text. */
function receive(to, from, envelope) {
	const opened = to.e2e.open(delivered(from.name, envelope));
	if (opened.type !== 'text') throw new Error(`${to.name} got ${opened.type}: ${opened.reason ?? ''}`);
	to.e2e.shown(from.name, {type: 'text', id: envelope.id});
	to.e2e.settle([{name: from.name, shown: [], owe: [], paid: [envelope.id]}]);
}

/** `receipts`: bob answers every text with a receipt (untimed), so each text makes a DH step and alice's sent texts are confirmed. */
function measure({count, warmup, receipts}) {
	const place = mkdtempSync(join(tmpdir(), 'im-tui-bench-ratchet-'));
	const alice = user('alice', place);
	const bob = user('bob', place);
	try {
		pin(alice, bob);
		pin(bob, alice);
		// The session: alice's first text from bob's bundle, bob's answer, so it is confirmed.
		alice.e2e.seal('bob', 'direct', 'first', text);
		alice.e2e.startSession('bob', bob.bundle());
		receive(bob, alice, alice.e2e.sealWaiting('bob', 1)[0]);
		receive(alice, bob, bob.e2e.seal('alice', 'direct', 'answer', text));
		const samples = [];
		for (let index = 0; index < warmup + count; index++) {
			const id = `t${index}`;
			const start = performance.now();
			const envelope = alice.e2e.seal('bob', 'direct', id, text);
			receive(bob, alice, envelope);
			const us = (performance.now() - start) * 1000;
			if (index >= warmup) samples.push(us);
			if (receipts) {
				const receipt = bob.e2e.receipt('alice', [id]);
				const opened = alice.e2e.open(delivered('bob', receipt));
				if (opened.type !== 'receipt') throw new Error(`alice got ${opened.type} for a receipt`);
				// shown and settled, as the client's turn does, so the inbox does not fill
				alice.e2e.shown('bob', {type: 'receipt', id: receipt.id, ids: [id], time: 0, gap: 0});
				alice.e2e.settle([]);
			}
		}
		return samples.sort((a, b) => a - b);
	} finally {
		alice.db.close();
		bob.db.close();
		rmSync(place, {recursive: true, force: true});
	}
}

/** Rows of part 2; `count` texts each way of measuring after `warmup`. */
export function layerRows({count = 5000, warmup = 500} = {}) {
	const label = 'end-to-end layer + SQLite';
	const what = "alice's EndToEnd.seal (ratchet step, payload counter, sent text, one commit) + bob's open (ratchet state, counter, inbox entry: one commit) + shown + settle (the receipt paid: one commit)";
	const row = (metric, samples, note) => ({benchmark: label, metric, p50: round(percentile(samples, 50), 1), p99: round(percentile(samples, 99), 1), unit: 'µs', note});
	return [
		row('text seal+open, one chain', measure({count, warmup, receipts: false}), `${count} texts after ${warmup}, no passphrase: ${what}; no receipts come back, so alice keeps the last 1,000 sent texts`),
		row('text seal+open, DH step each', measure({count, warmup, receipts: true}), 'the same, but bob answers each text with a receipt (not timed): every text starts a new chain and its open makes a DH step, as in a conversation'),
	];
}
