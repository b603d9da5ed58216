// What the store benchmark (bench/store.mjs) fills accounts with: realistic message texts, pinned
// contacts with valid bindings, sealed-looking envelopes, and history in large transactions.
import {randomBytes} from 'node:crypto';
import {statSync} from 'node:fs';
import {toBase64Url} from '../dist/crypto/base64url.js';
import {generateIdentity, publicIdentity} from '../dist/crypto/identity.js';

/** Any relay fingerprint will do: the account's directory is named after it. */
export const relayFingerprint = 'ab'.repeat(32);

/** The word every search's "rare word" query looks for: planted in `rareEvery`-th messages only. */
export const rareWord = 'zebrafish';
const rareEvery = 5000;

// Common English words first (drawn most often), then made-up words (drawn rarely): a vocabulary
// with a long tail, as chat text has. Drawn with a Zipf-like weight 1 / (rank + 2).
const common = `the I you to a and it is that of in for on me we my be have this with just so not
	no but was are at ok do what if can all get will yes like know think about one up out there
	time good now see how your they when then too it's going go would could back need want got
	tomorrow today meeting call later sure thanks great right look work make let from here maybe
	still really well did thing day night week home new people lunch problem code test build
	release server client message project idea plan check fine sorry yeah morning evening`.split(/\s+/u);
const syllables = 'ka lo mi ne ru sa ti vo pe da ge hu ri zo ba ce fi jo ku la me no pi qu se ta vi wo ye'.split(' ');

/** A small seeded generator (mulberry32): the same texts in every run. */
export function seeded(seed) {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function vocabulary(random) {
	const made = new Set();
	while (made.size < 20_000) {
		const count = 2 + Math.floor(random() * 3);
		let word = '';
		for (let index = 0; index < count; index++) word += syllables[Math.floor(random() * syllables.length)];
		if (word !== rareWord) made.add(word);
	}
	const words = [...common, ...made];
	// Cumulative weights for a Zipf-like draw.
	const cumulative = [];
	let total = 0;
	for (let rank = 0; rank < words.length; rank++) {
		total += 1 / (rank + 2);
		cumulative.push(total);
	}
	return {words, cumulative, total};
}

/** Returns `next(index)`: the text of message `index`, 40 to 200 characters of mixed words. */
export function textMaker(seed = 1) {
	const random = seeded(seed);
	const {words, cumulative, total} = vocabulary(random);
	const draw = () => {
		const target = random() * total;
		let low = 0;
		let high = cumulative.length - 1;
		while (low < high) {
			const middle = (low + high) >> 1;
			if (cumulative[middle] < target) low = middle + 1;
			else high = middle;
		}
		return words[low];
	};
	return index => {
		const length = 40 + Math.floor(random() * 161);
		const parts = index % rareEvery === rareEvery - 1 ? [rareWord] : [];
		let size = parts.join(' ').length;
		while (size < length) {
			const word = draw();
			parts.push(word);
			size += word.length + 1;
		}
		let text = parts.join(' ').slice(0, 200);
		if (random() < 0.3) text = text[0].toUpperCase() + text.slice(1) + (random() < 0.5 ? '.' : '?');
		return text;
	};
}

/** `count` users named `user0`… with their own keys and valid bindings, as a relay would list them. */
export function makeRecords(count, prefix = 'user') {
	return Array.from({length: count}, (_, index) => recordFor(`${prefix}${index}`));
}

/** `name` with keys of its own and a valid binding. */
export function recordFor(name) {
	return {name, record: publicIdentity(generateIdentity(), name)};
}

/**
 * An envelope as the outbox keeps one: the relay's `send` without its type. The body has the size
 * of the Fernet token that would carry `text` (its payload's JSON, version, time, IV and HMAC,
 * base64url); its bytes are random, as a ciphertext's are.
 */
export function envelopeFor(id, to, text) {
	const payloadBytes = Buffer.byteLength(text) + 90;
	const tokenBytes = 1 + 8 + 16 + Math.ceil((payloadBytes + 1) / 16) * 16 + 32;
	return {id, to, kind: 'direct', ephemeral: toBase64Url(randomBytes(32)), body: toBase64Url(randomBytes(tokenBytes))};
}

let idCounter = 0;
/** A message id as the client makes them (base64url, 16 bytes). */
export function messageId() {
	idCounter += 1;
	return toBase64Url(randomBytes(12)) + idCounter.toString(36).padStart(6, '0');
}

/**
 * The account store's database handle, for its transactions. AccountStore keeps it in a field
 * that TypeScript calls private, but which is a plain property at run time.
 */
export function databaseOf(store) {
	const db = store.db;
	if (db === undefined || typeof db.transaction !== 'function') throw new Error('AccountStore has no `db` property any more: update bench/store-fill.mjs');
	return db;
}

/**
 * Adds `count` messages to `conversation` through History.sent and History.received (alternately,
 * one in two mine), `batch` per transaction. Returns the time it took in ms and the texts' bytes.
 */
export function fillHistory(store, conversation, count, {me = 'me', batch = 10_000, seed = 1, start = Date.now() - count * 60_000} = {}) {
	const db = databaseOf(store);
	const next = textMaker(seed);
	const began = performance.now();
	let textBytes = 0;
	for (let done = 0; done < count; done += batch) {
		db.transaction(() => {
			for (let index = done; index < Math.min(count, done + batch); index++) {
				const text = next(index);
				textBytes += Buffer.byteLength(text);
				const time = start + index * 60_000;
				if (index % 2 === 0) store.history.sent({id: messageId(), author: me, to: conversation, recipients: [conversation], text, time});
				else store.history.received({id: messageId(), from: conversation, to: me, kind: 'direct', text, time, sent: time - 150});
			}
		})();
	}
	return {ms: performance.now() - began, textBytes};
}

/** Bytes of the database file and its WAL (absent: 0). */
export function databaseBytes(path) {
	const size = file => {
		try {
			return statSync(file).size;
		} catch (error) {
			if (error.code === 'ENOENT') return 0;
			throw error;
		}
	};
	return {db: size(path), wal: size(`${path}-wal`)};
}
