import {describe, expect, it} from 'vitest';
import {roomLogOverhead} from '../../source/relay/room-store.js';
import {roomInviteBehaviours} from './room-invite-behaviours.js';
import {roomItemBehaviours} from './room-item-behaviours.js';
import {roomMemberBehaviours} from './room-member-behaviours.js';
import {byCost, inviteRow, itemRow, logEntry, memberRow, namer, roomRow, withStore, type OpenStore} from './room-fixtures.js';

/**
 * What every AsyncRelayStore does with rooms (async-store.ts, room-store.ts), whichever database
 * holds them: registered by the SQLite and the PostgreSQL store tests alike. `open` gives a store
 * for one test (closed at its end); tests write names of their own, so one database may serve all.
 */
export function roomBehaviours(open: OpenStore): void {
	describe('room rows', () => {
		it('a room is saved, read back whole (a topic of any text, numbers beyond 32 bits), and replaced', async () => {
			await withStore(open, async store => {
				const name = namer()('room');
				expect(await store.room(name)).toBeUndefined();
				const row = roomRow(name, {index: 2 ** 40, topic: 'café ☕ 𝄞 a\u0000b', needsRekey: true, lastSeq: 2 ** 50});
				await store.saveRoom(row);
				expect(await store.room(name)).toEqual(row);
				const replaced = roomRow(name, {index: 3, head: 'g'.repeat(43), creator: 'other', topic: '', lastSeq: 9});
				await store.saveRoom(replaced);
				expect(await store.room(name)).toEqual(replaced);
			});
		});

		it('createRoom makes a room once: a second of that name is refused and changes nothing', async () => {
			await withStore(open, async store => {
				const name = namer()('room');
				expect(await store.createRoom(roomRow(name, {creator: 'first'}))).toBe(true);
				expect(await store.createRoom(roomRow(name, {creator: 'second', index: 5}))).toBe(false);
				expect(await store.room(name)).toEqual(roomRow(name, {creator: 'first'}));
			});
		});

		it('moveRoomHead replaces the row only from the index expected; a room that is gone stays gone', async () => {
			await withStore(open, async store => {
				const name = namer()('room');
				await store.saveRoom(roomRow(name, {index: 4}));
				expect(await store.moveRoomHead(roomRow(name, {index: 5, head: 'stale'}), 3)).toBe(false);
				expect(await store.room(name)).toEqual(roomRow(name, {index: 4}));
				const moved = roomRow(name, {index: 5, head: 'next', topic: 'new topic', needsRekey: true, lastSeq: 7});
				expect(await store.moveRoomHead(moved, 4)).toBe(true);
				expect(await store.room(name)).toEqual(moved);
				expect(await store.moveRoomHead(roomRow(name, {index: 6}), 4)).toBe(false);
				const gone = namer()('gone');
				expect(await store.moveRoomHead(roomRow(gone, {index: 1}), 0)).toBe(false);
				expect(await store.room(gone)).toBeUndefined();
			});
		});

		it('takeRoomSeqs hands out the positions after the last, a count at a time; a room that is not there is an error', async () => {
			await withStore(open, async store => {
				const name = namer()('room');
				await store.saveRoom(roomRow(name, {lastSeq: 5}));
				expect(await store.takeRoomSeqs(name, 3)).toBe(6);
				expect(await store.takeRoomSeqs(name, 1)).toBe(9);
				expect((await store.room(name))?.lastSeq).toBe(9);
				await expect(store.takeRoomSeqs(namer()('nowhere'), 1)).rejects.toThrow(/no room/);
			});
		});

		it('positions taken in a batch that fails are given back; in one that commits, they and their items stay', async () => {
			await withStore(open, async store => {
				const name = namer()('room');
				await store.saveRoom(roomRow(name, {lastSeq: 10}));
				const failed = store.batch(async tx => {
					const first = await tx.takeRoomSeqs(name, 2);
					await tx.insertRoomItem(itemRow(name, first));
					throw new Error('the relay failed mid-batch');
				});
				await expect(failed).rejects.toThrow('the relay failed mid-batch');
				expect((await store.room(name))?.lastSeq).toBe(10);
				expect(await store.roomItems(name, 'reader', 0, 10)).toEqual([]);
				const first = await store.batch(async tx => {
					const seq = await tx.takeRoomSeqs(name, 2);
					for (const at of [seq, seq + 1]) await tx.insertRoomItem(itemRow(name, at));
					return seq;
				});
				expect(first).toBe(11);
				expect((await store.roomItems(name, 'reader', 0, 10)).map(item => item.seq)).toEqual([11, 12]);
			});
		});
	});

	describe('room logs', () => {
		it('the log reads from an index, in order, at most a limit; an index is written once', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, other] = [name('room'), name('other')];
				const entries = [0, 1, 2, 3, 4].map(index => logEntry(room, index, 'alice'));
				for (const index of [3, 0, 4, 1, 2]) await store.appendLog(room, index, entries[index]!);
				await store.appendLog(other, 0, logEntry(other, 0, 'bob'));
				expect(await store.roomLog(room, 0, 100)).toEqual(entries);
				expect(await store.roomLog(room, 2, 2)).toEqual(entries.slice(2, 4));
				expect(await store.roomLog(room, 5, 10)).toEqual([]);
				await expect(store.appendLog(room, 1, logEntry(room, 1, 'mallory'))).rejects.toThrow();
				expect(await store.roomLog(room, 1, 1)).toEqual([entries[1]]);
			});
		});

		it('an entry whose topic holds U+0000 is kept as written and still counts against its author', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, author] = [name('room'), name('author')];
				const entry = logEntry(room, 0, author, {topic: 'a\u0000b \\u0000 \u2028'});
				await store.saveRoom(roomRow(room));
				await store.appendLog(room, 0, entry);
				expect(await store.roomLog(room, 0, 1)).toEqual([entry]);
				expect((await store.roomItemTotals()).filter(total => total.sender === author)).toEqual([{sender: author, bytes: entry.length + roomLogOverhead}]);
				expect(await store.deleteRoom(room)).toEqual([{sender: author, bytes: entry.length + roomLogOverhead}]);
			});
		});
	});

	describe('deleting a room', () => {
		it('deleteRoom takes everything of the room and returns what each item and log entry cost whom; other rooms keep theirs', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, other, alice, bob] = [name('room'), name('other'), name('alice'), name('bob')];
				const log = [logEntry(room, 0, alice, {action: 'create'}), logEntry(room, 1, bob, {action: 'topic', topic: 'longer topic'})];
				for (const target of [room, other]) {
					await store.saveRoom(roomRow(target, {index: 1, lastSeq: 3}));
					for (const [index, entry] of log.entries()) await store.appendLog(target, index, entry);
					for (const member of [alice, bob]) await store.saveMember(target, memberRow(member));
					await store.insertRoomItem(itemRow(target, 1, {kind: 'change', sender: alice, id: '', bytes: 500}));
					await store.insertRoomItem(itemRow(target, 2, {sender: bob, bytes: 70}));
					await store.insertRoomItem(itemRow(target, 3, {sender: alice, bytes: 90}));
					await store.insertRoomKeys(target, 1, [{member: bob, json: '{"key":1}'}]);
					await store.saveInvite(inviteRow(target, name('carol'), {inviter: alice}));
				}
				const costs = await store.deleteRoom(room);
				expect(byCost(costs)).toEqual(
					byCost([
						{sender: alice, bytes: 500},
						{sender: bob, bytes: 70},
						{sender: alice, bytes: 90},
						{sender: alice, bytes: log[0]!.length + roomLogOverhead},
						{sender: bob, bytes: log[1]!.length + roomLogOverhead},
					]),
				);
				expect(await store.room(room)).toBeUndefined();
				expect(await store.roomLog(room, 0, 10)).toEqual([]);
				expect(await store.roomMembers(room)).toEqual([]);
				expect(await store.roomItems(room, bob, 0, 10)).toEqual([]);
				expect(await store.invite(room, name('carol'))).toBeUndefined();
				expect(await store.hasReader(room, alice)).toBe(false);
				expect((await store.memberRooms(alice)).map(entry => entry.room)).toEqual([other]);
				expect(await store.roomLog(other, 0, 10)).toEqual(log);
				expect((await store.roomItems(other, bob, 0, 10)).map(item => [item.seq, item.key])).toEqual([[1, '{"key":1}'], [2, null], [3, null]]);
				expect(await store.inviteCounts(other, name('carol'), alice)).toEqual({room: 1, invitee: 1, inviter: 1});
				expect(await store.deleteRoom(room)).toEqual([]);
			});
		});

		it('a room made again of a deleted one’s name starts afresh: no old items, keys, log or readers', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, alice] = [name('room'), name('alice')];
				await store.saveRoom(roomRow(room, {lastSeq: 1}));
				await store.appendLog(room, 0, logEntry(room, 0, alice));
				await store.saveMember(room, memberRow(alice));
				await store.insertRoomItem(itemRow(room, 1, {kind: 'change', sender: alice}));
				await store.insertRoomKeys(room, 1, [{member: alice, json: '{"old":true}'}]);
				await store.deleteRoom(room);
				expect(await store.createRoom(roomRow(room))).toBe(true);
				await store.insertRoomItem(itemRow(room, 1, {kind: 'change', sender: alice, json: '{"new":true}'}));
				expect(await store.roomItems(room, alice, 0, 10)).toEqual([{seq: 1, kind: 'change', sender: alice, json: '{"new":true}', key: null}]);
				expect(await store.roomLog(room, 0, 10)).toEqual([]);
				expect(await store.hasReader(room, alice)).toBe(false);
			});
		});
	});

	roomMemberBehaviours(open);
	roomItemBehaviours(open);
	roomInviteBehaviours(open);
}
