// Part 3 of bench/rooms.mjs, the clients' side of a membership change: alice (an admin) removes a
// member from a room of `size`, a fresh epoch. Her client prepares the change (RoomKeeper.prepare:
// a new secret, the entry signed and checked) and seals the secret for every remaining member in
// the established 1:1 ratchet session with each (EndToEnd.sealRoomKey, one commit each, as
// ChangeSender does); a member's client (bob) applies it with its key (RoomKeeper.applyChange:
// the entry verified, every member's sender chain derived and stored).
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {newMessageId} from '../dist/client/end-to-end.js';
import {roomEntryToJson} from '../dist/crypto/room-entry-codec.js';
import {entryHash} from '../dist/crypto/room-log.js';
import {maxStagedKeysPerMessage} from '../dist/net/messages.js';
import {benchRoom, joinedClient, room} from './rooms-fixture.mjs';
import {establishSessions} from './rooms-sessions.mjs';

/** {result, cpu, wall}: µs of this process's CPU and of wall time `work` took. */
function timed(work) {
	const cpu = process.cpuUsage();
	const start = performance.now();
	const result = work();
	const wall = (performance.now() - start) * 1000;
	const {user, system} = process.cpuUsage(cpu);
	return {result, cpu: user + system, wall};
}

/** The room_stage messages (≤ 200 keys each) and the room_change that carry `entry` with `keys`, as the client sends them. */
export function changeMessages(entry, keys) {
	const messages = [];
	for (let start = 0; start < keys.length; start += maxStagedKeysPerMessage) messages.push({type: 'room_stage', room, keys: keys.slice(start, start + maxStagedKeysPerMessage)});
	messages.push({type: 'room_change', room, entry: roomEntryToJson(entry)});
	return messages;
}

/**
 * `rounds` removals (others[0], others[1], … in turn) in a room of `size`. Returns each phase's
 * samples (µs) and, per round, the keys as staged: the relay side sends those same bytes.
 */
export function clientRemovals(size, rounds) {
	const place = mkdtempSync(join(tmpdir(), 'im-tui-bench-rooms-change-'));
	const fixture = benchRoom(size);
	const alice = joinedClient(fixture, fixture.alice, place);
	const bob = joinedClient(fixture, fixture.bob, place);
	try {
		const setup = timed(() => establishSessions(alice, fixture.alice, fixture.people.filter(someone => someone !== fixture.alice)));
		const phases = {prepare: [], seal: [], member: [], author: []};
		const staged = [];
		const sent = [];
		let seq = alice.seq;
		for (let round = 0; round < rounds; round++) {
			const removed = fixture.others[round].name;
			const prepare = timed(() => alice.keeper.prepare(room, {action: 'remove', member: removed}));
			const {entry, secret, recipients} = prepare.result;
			const head = entryHash(entry);
			const seal = timed(() =>
				recipients.map(to => {
					const envelope = alice.e2e.sealRoomKey(to, newMessageId(), {room, index: entry.index, head, secret});
					if (envelope === undefined) throw new Error(`no session with ${to}`);
					return {to, id: envelope.id, ratchet: envelope.ratchet, body: envelope.body};
				}),
			);
			const keys = seal.result;
			staged.push(changeMessages(entry, keys).reduce((sum, message) => sum + JSON.stringify(message).length, 0));
			sent.push(keys);
			seq += 1;
			// bob's copy first: alice's own apply wipes the secret she kept.
			const member = timed(() => bob.keeper.applyChange(entry, seq, Buffer.from(secret)));
			const author = timed(() => alice.keeper.applyChange(entry, seq));
			phases.prepare.push(prepare);
			phases.seal.push(seal);
			phases.member.push(member);
			phases.author.push(author);
		}
		return {size, rounds, setup, phases, staged, keys: sent, recipients: sent[0].length};
	} finally {
		alice.db.close();
		bob.db.close();
		rmSync(place, {recursive: true, force: true});
	}
}
