// Part 3 of bench/rooms.mjs, the relay's side of a membership change: alice removes a member from
// a room of `size` filled into a relay process's database: room_stage messages of ≤ 200 sealed
// keys (the very envelopes the client side sealed for the same names), then the room_change. With
// lifted limits every other member is logged in (two child processes) and reads and acks it; with
// the relay's default limits only alice is, and the change's item and keys are then read back from
// the relay's database (nobody has read them yet) for the bytes it stores.
import {join} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import {databaseFileName} from '../dist/relay/sqlite-store.js';
import {liftedLimits} from './relay-process.mjs';
import {changeMessages} from './rooms-change-client.mjs';
import {benchRoom, room} from './rooms-fixture.mjs';
import {now, RoomPeer} from './rooms-peer.mjs';
import {filledRelay, memberGroups, pause} from './rooms-relay.mjs';

/** How the relay's flood guard charges a room_stage (flood-guard.ts): one token per 16 keys, one per 4,096 bytes of sealed keys; a room_change one token. */
function tokensOf(messages, bytesPerToken = 4096) {
	let tokens = 0;
	for (const message of messages) {
		if (message.type !== 'room_stage') {
			tokens += 1;
			continue;
		}
		const bytes = message.keys.reduce((sum, key) => sum + key.body.length + key.ratchet.length, 0);
		tokens += Math.ceil(message.keys.length / 16) + Math.floor(bytes / bytesPerToken);
	}
	return tokens;
}

/** The change item's bytes as the relay counts them against its sender, and its keys' rows. */
function storedBytes(dataDir, seq) {
	const db = new Database(join(dataDir, databaseFileName), {readonly: true});
	try {
		const item = db.prepare('select bytes, length(json) as json from room_items where room = ? and seq = ?').get(room, seq);
		const keys = db.prepare('select count(*) as count, coalesce(sum(length(json)), 0) as json from room_keys where room = ? and seq = ?').get(room, seq);
		return {item: item?.bytes ?? 0, entry: item?.json ?? 0, keys: keys.count, keyBytes: keys.json};
	} finally {
		db.close();
	}
}

/**
 * `keysByRound[r]`: the keys sealed for round r's removal (others[r]) by clientRemovals at the same
 * size. `online`: the members logged in, reading. Each round: the relay's CPU from the first
 * room_stage to room_changed and until the members' acks have settled, wall time to room_changed and to the last
 * member's copy, tokens as charged, and the answer.
 */
export async function relayRemovals(size, keysByRound, {limits = liftedLimits, online = true} = {}) {
	const fixture = benchRoom(size);
	const relay = await filledRelay(fixture, limits);
	let groups;
	let alice;
	try {
		alice = await RoomPeer.connect(relay.port, fixture.alice);
		if (online) groups = await memberGroups(relay.port, fixture.people.filter(someone => someone !== fixture.alice));
		await pause(500);
		const rounds = [];
		const departed = [];
		for (const [round, keys] of keysByRound.entries()) {
			const removed = fixture.others[round].name;
			const entry = fixture.log.remove(fixture.alice, removed);
			const expected = [...fixture.log.state.members.keys()].filter(name => name !== fixture.alice.name).sort();
			if (keys.map(key => key.to).sort().join() !== expected.join()) throw new Error('the client side sealed keys for other members');
			const messages = changeMessages(entry, keys);
			await groups?.mark();
			const answered = new Promise(resolve => {
				alice.onOther = message => {
					if (message.type === 'room_changed' || (message.type === 'error' && message.ref === room)) resolve(message);
				};
			});
			const cpu = await relay.cpu();
			const start = now();
			for (const message of messages) alice.send(message);
			const answer = await answered;
			const changed = now();
			// The relay sends each member its copy before it answers the author: delivery queued, not yet read.
			const changedCpu = (await relay.cpu()) - cpu;
			const last = groups === undefined || answer.type !== 'room_changed' ? changed : await groups.expect({changes: 1, skip: departed});
			departed.push(removed);
			// The members' acks of it (and the deletions they allow) land in the relay's CPU too.
			await pause(300);
			const relayCpu = (await relay.cpu()) - cpu;
			const stored = answer.type === 'room_changed' && !online ? storedBytes(relay.dataDir, answer.seq) : undefined;
			rounds.push({answer, tokens: tokensOf(messages), keys: keys.length, relayCpu, changedCpu, changedMs: changed - start, lastMs: last - start, stored, messages: messages.length});
			if (answer.type !== 'room_changed') break;
		}
		const status = await groups?.status();
		return {size, rounds, memberErrors: status?.errors ?? 0, closed: status?.closed ?? 0};
	} finally {
		alice?.close();
		await groups?.stop();
		await relay.stop();
	}
}
