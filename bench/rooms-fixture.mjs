// Rooms of a given size for bench/rooms.mjs, built cheaply: people with real keys, the room's log
// signed with the crypto alone (no relay, no clients), then what each part needs of it: a client's
// RoomKeeper over a real account database that joins at the end (history, its own add), or a relay
// database filled with the room, its members registered.
import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import {ContactStore} from '../dist/client/contact-store.js';
import {endToEndFor} from '../dist/client/ratchet/account-ratchet.js';
import {RoomKeeper} from '../dist/client/rooms/room-keeper.js';
import {openAccountDatabase} from '../dist/client/store/account-database.js';
import {toBase64Url} from '../dist/crypto/base64url.js';
import {publicIdentity} from '../dist/crypto/identity.js';
import {keyPairFromPrivate} from '../dist/crypto/raw-keys.js';
import {roomEntryToJson} from '../dist/crypto/room-entry-codec.js';
import {applyChange, roomConfirm, signAccept, signChange} from '../dist/crypto/room-log.js';
import {asciiJson} from '../dist/relay/room-json.js';
import {openSqliteStore} from '../dist/relay/sqlite-store.js';

export const room = 'bench';
const time = 1_767_225_600_000;

/** A user with real keys; `seeds` (B64U) rebuild them in another process (personFromSeeds). */
export function person(name, seeds = {identity: randomBytes(32).toString('base64url'), x25519: randomBytes(32).toString('base64url')}) {
	const keys = {identity: keyPairFromPrivate('ed25519', Buffer.from(seeds.identity, 'base64url')), x25519: keyPairFromPrivate('x25519', Buffer.from(seeds.x25519, 'base64url'))};
	return {name, seeds, keys, record: {username: name, ...publicIdentity(keys, name)}};
}

/** What a child process needs to log `someone` in. */
export function portable(someone) {
	return {name: someone.name, seeds: someone.seeds};
}

/** A room's log as its admins sign it, each entry applied (checked) as it is made. */
export class RoomLog {
	entries = [];
	state;

	get epoch() {
		return toBase64Url(this.state.head);
	}

	create(owner) {
		return this.#push(owner, {action: 'create', topic: 'benchmarks', record: owner.record, confirm: roomConfirm(randomBytes(32), room, 0)});
	}

	add(admin, member) {
		const nonce = randomBytes(16);
		const accept = signAccept({room, member: member.name, nonce}, member.keys.identity.privateKey);
		return this.#push(admin, {action: 'add', record: member.record, nonce, accept});
	}

	admin(author, member) {
		return this.#push(author, {action: 'admin', member});
	}

	remove(author, member) {
		return this.#push(author, {action: 'remove', member, confirm: roomConfirm(randomBytes(32), room, this.state.index + 1)});
	}

	#push(author, fields) {
		const index = this.state === undefined ? 0 : this.state.index + 1;
		const prev = this.state?.head ?? Buffer.alloc(32);
		const entry = signChange({room, index, prev, author: author.name, time, ...fields}, author.keys.identity.privateKey);
		this.state = applyChange(this.state, entry);
		this.entries.push(entry);
		return entry;
	}
}

/**
 * A room of `size` members: `owner` made it and added `others` (m0001, …), then `alice` (made an
 * admin) and `bob`, last, so the clients that join cheaply are the last two. `alice` is the admin
 * who writes and changes the room in the benchmarks; `bob` a plain member.
 */
export function benchRoom(size) {
	if (size < 3) throw new RangeError('a benchmark room has at least 3 members');
	const owner = person('owner');
	const others = Array.from({length: size - 3}, (_, index) => person(`m${String(index + 1).padStart(4, '0')}`));
	const alice = person('alice');
	const bob = person('bob');
	const log = new RoomLog();
	log.create(owner);
	for (const other of others) log.add(owner, other);
	log.add(owner, alice);
	log.admin(owner, alice.name);
	log.add(owner, bob);
	return {log, owner, others, alice, bob, people: [owner, ...others, alice, bob]};
}

/**
 * `someone`'s client of `fixture`'s room as it is after the log: a RoomKeeper and the end-to-end
 * layer over one account database in `place`. It fetched the log before its add (applyHistory),
 * then applied its add with the epoch secret its author sent, then what followed: its stream
 * positions are the log's indexes + 1 (every change an item, nothing else in the stream).
 */
export function joinedClient(fixture, someone, place) {
	const db = openAccountDatabase(join(place, someone.name, 'account.db'));
	const keeper = new RoomKeeper(db, someone.name, someone.keys);
	const contacts = new ContactStore(db);
	const {e2e} = endToEndFor({database: db, username: someone.name, keys: someone.keys, contacts});
	const {entries} = fixture.log;
	const added = entries.findIndex(entry => entry.action === 'add' && entry.record.username === someone.name);
	keeper.applyHistory(room, entries.slice(0, added));
	keeper.applyChange(entries[added], added + 1, randomBytes(32));
	for (let index = added + 1; index < entries.length; index++) keeper.applyChange(entries[index], index + 1);
	return {name: someone.name, db, keeper, e2e, seq: entries.length};
}

/**
 * A relay database in `dataDir` (the relay down) holding `fixture`'s room as a relay that took
 * every change would: its members registered with their records, its log, each member's row; the
 * stream read by everyone (positions at the last item, nothing waiting).
 */
export function fillRelay(dataDir, fixture) {
	const store = openSqliteStore(dataDir);
	try {
		const {log, people} = fixture;
		const lastSeq = log.entries.length;
		const b64 = record => ({identity: toBase64Url(record.identity), x25519: toBase64Url(record.x25519), binding: toBase64Url(record.binding)});
		store.batch(() => {
			for (const {name, record} of people) store.registerUser({username: name, ...b64(record), registeredAt: Date.now(), confirmed: true});
			const {state} = log;
			store.saveRoom({room, index: state.index, head: toBase64Url(state.head), creator: state.creator, topic: state.topic, needsRekey: state.needsRekey, lastSeq});
			for (const entry of log.entries) store.appendLog(room, entry.index, asciiJson(roomEntryToJson(entry)));
			for (const [member, {record, admin}] of state.members) store.saveMember(room, {member, admin, position: lastSeq, until: null, ...b64(record)});
		});
	} finally {
		store.close();
	}
}
