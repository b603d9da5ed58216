import {describe, expect, it} from 'vitest';
import {roomLogOverhead} from '../../source/relay/room-store.js';
import {inviteRow, itemRow, logEntry, memberRow, namer, roomRow, withStore, type OpenStore} from './room-fixtures.js';

const bySeq = <T extends {seq: number}>(rows: readonly T[]): T[] => [...rows].sort((a, b) => a.seq - b.seq);

/** A room's stream: items, keys, counts, deliveries, totals, purges (rooms-behaviours.ts registers these). */
export function roomItemBehaviours(open: OpenStore): void {
	describe('room items', () => {
		it('roomItems reads after a position, oldest first, at most a limit, each change with the reader’s own key only', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, alice, bob, carol] = [name('room'), name('alice'), name('bob'), name('carol')];
				for (const seq of [5, 1, 3, 2, 4]) await store.insertRoomItem(itemRow(room, seq, seq === 2 ? {kind: 'change', sender: alice, id: ''} : {sender: bob}));
				await store.insertRoomKeys(room, 2, [
					{member: alice, json: '{"to":"alice"}'},
					{member: bob, json: '{"to":"bob"}'},
				]);
				await store.insertRoomItem(itemRow(name('other'), 3));
				const read = await store.roomItems(room, bob, 0, 10);
				expect(read.map(item => item.seq)).toEqual([1, 2, 3, 4, 5]);
				expect(read[1]).toEqual({seq: 2, kind: 'change', sender: alice, json: itemRow(room, 2).json, key: '{"to":"bob"}'});
				expect(read[0]).toEqual({seq: 1, kind: 'message', sender: bob, json: itemRow(room, 1).json, key: null});
				expect((await store.roomItems(room, alice, 1, 1))[0]?.key).toBe('{"to":"alice"}');
				expect((await store.roomItems(room, carol, 1, 1))[0]?.key).toBeNull();
				expect((await store.roomItems(room, bob, 2, 2)).map(item => item.seq)).toEqual([3, 4]);
				expect(await store.roomItems(room, bob, 5, 10)).toEqual([]);
				await expect(store.insertRoomItem(itemRow(room, 3, {id: 'again'}))).rejects.toThrow();
			});
		});

		it('roomMessageById finds a message still waiting, never a change, and nothing once it is read by all', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, alice] = [name('room'), name('alice')];
				await store.insertRoomItem(itemRow(room, 1, {sender: alice, id: 'msg-1', time: 2 ** 41}));
				await store.insertRoomItem(itemRow(room, 2, {sender: alice, id: 'chg-1', kind: 'change'}));
				expect(await store.roomMessageById(room, alice, 'msg-1')).toEqual({seq: 1, time: 2 ** 41});
				expect(await store.roomMessageById(room, alice, 'chg-1')).toBeUndefined();
				expect(await store.roomMessageById(room, name('bob'), 'msg-1')).toBeUndefined();
				expect(await store.roomMessageById(name('other'), alice, 'msg-1')).toBeUndefined();
				await store.deleteReadItems(room, 1);
				expect(await store.roomMessageById(room, alice, 'msg-1')).toBeUndefined();
			});
		});

		it('deleteRoomKeys takes one member’s keys up to a position, no others', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, alice, bob] = [name('room'), name('alice'), name('bob')];
				for (const seq of [1, 2, 3]) {
					await store.insertRoomItem(itemRow(room, seq, {kind: 'change', id: ''}));
					await store.insertRoomKeys(room, seq, [alice, bob].map(member => ({member, json: `{"${member}":${seq}}`})));
				}
				await store.insertRoomKeys(room, 3, []);
				await store.deleteRoomKeys(room, alice, 2);
				expect((await store.roomItems(room, alice, 0, 10)).map(item => item.key)).toEqual([null, null, `{"${alice}":3}`]);
				expect((await store.roomItems(room, bob, 0, 10)).map(item => item.key)).toEqual([1, 2, 3].map(seq => `{"${bob}":${seq}}`));
			});
		});

		it('roomItemCounts counts the items waiting per sender and kind', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, alice, bob] = [name('room'), name('alice'), name('bob')];
				const kinds = [[alice, 'message'], [alice, 'message'], [alice, 'change'], [bob, 'message']] as const;
				for (const [index, [sender, kind]] of kinds.entries()) await store.insertRoomItem(itemRow(room, index + 1, {sender, kind, id: `i${index}`}));
				const counts = await store.roomItemCounts(room);
				expect([...counts].sort((a, b) => `${a.sender} ${a.kind}`.localeCompare(`${b.sender} ${b.kind}`))).toEqual([
					{sender: alice, kind: 'change', count: 1},
					{sender: alice, kind: 'message', count: 2},
					{sender: bob, kind: 'message', count: 1},
				]);
				expect(await store.roomItemCounts(name('empty'))).toEqual([]);
			});
		});

		it('markDelivered counts one more read of each message in (after, upTo] not the reader’s own, and says how far each got', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, alice, bob, carol] = [name('room'), name('alice'), name('bob'), name('carol')];
				await store.insertRoomItem(itemRow(room, 1, {sender: alice, id: 'a1', of: 2}));
				await store.insertRoomItem(itemRow(room, 2, {sender: alice, kind: 'change', id: '', of: 2}));
				await store.insertRoomItem(itemRow(room, 3, {sender: bob, id: 'b3', of: 2}));
				await store.insertRoomItem(itemRow(room, 4, {sender: carol, id: 'c4', of: 2}));
				await store.insertRoomItem(itemRow(room, 5, {sender: alice, id: 'a5', of: 2}));
				expect(bySeq(await store.markDelivered(room, bob, 0, 4))).toEqual([
					{seq: 1, id: 'a1', sender: alice, delivered: 1, of: 2},
					{seq: 4, id: 'c4', sender: carol, delivered: 1, of: 2},
				]);
				expect(bySeq(await store.markDelivered(room, carol, 0, 5))).toEqual([
					{seq: 1, id: 'a1', sender: alice, delivered: 2, of: 2},
					{seq: 3, id: 'b3', sender: bob, delivered: 1, of: 2},
					{seq: 5, id: 'a5', sender: alice, delivered: 1, of: 2},
				]);
				expect(await store.markDelivered(room, bob, 5, 9)).toEqual([]);
			});
		});

		it('deleteReadItems takes the items up to a position with their keys and says what each cost; later ones stay', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, alice, bob] = [name('room'), name('alice'), name('bob')];
				await store.insertRoomItem(itemRow(room, 1, {sender: alice, bytes: 11}));
				await store.insertRoomItem(itemRow(room, 2, {sender: bob, kind: 'change', id: '', bytes: 2 ** 33}));
				await store.insertRoomItem(itemRow(room, 3, {sender: alice, kind: 'change', id: '', bytes: 33}));
				for (const seq of [2, 3]) await store.insertRoomKeys(room, seq, [{member: alice, json: `{"k":${seq}}`}]);
				const deleted = await store.deleteReadItems(room, 2);
				expect([...deleted].sort((a, b) => a.bytes - b.bytes)).toEqual([
					{sender: alice, kind: 'message', bytes: 11},
					{sender: bob, kind: 'change', bytes: 2 ** 33},
				]);
				expect(await store.roomItems(room, alice, 0, 10)).toEqual([{seq: 3, kind: 'change', sender: alice, json: itemRow(room, 3).json, key: '{"k":3}'}]);
				// A key deleted with its item does not come back with a new item at that position.
				await store.insertRoomItem(itemRow(room, 2, {kind: 'change', id: ''}));
				expect((await store.roomItems(room, alice, 1, 1))[0]?.key).toBeNull();
				expect(await store.deleteReadItems(room, 0)).toEqual([]);
			});
		});

		it('roomItemTotals adds up, per sender, the items waiting and the log entries it wrote (each with roomLogOverhead)', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, other, alice, bob] = [name('room'), name('other'), name('alice'), name('bob')];
				await store.insertRoomItem(itemRow(room, 1, {sender: alice, bytes: 2 ** 40}));
				await store.insertRoomItem(itemRow(other, 1, {sender: alice, bytes: 5}));
				await store.insertRoomItem(itemRow(room, 2, {sender: bob, bytes: 7}));
				const entries = [logEntry(room, 0, alice), logEntry(room, 1, alice, {topic: 'a longer topic'})];
				for (const [index, entry] of entries.entries()) await store.appendLog(room, index, entry);
				const mine = (await store.roomItemTotals()).filter(total => total.sender === alice || total.sender === bob);
				expect([...mine].sort((a, b) => a.sender.localeCompare(b.sender))).toEqual([
					{sender: alice, bytes: 2 ** 40 + 5 + entries[0]!.length + entries[1]!.length + 2 * roomLogOverhead},
					{sender: bob, bytes: 7},
				]);
			});
		});

		it('purgeRooms takes items older than a time with their keys, readers left nothing to read, and invitations older than another', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, alice, dave, erin] = [name('room'), name('alice'), name('dave'), name('erin')];
				// Times below every other test's, and a purge first of what an earlier run of this test left.
				const old = 1_000_000;
				const fresh = 2_000_000;
				await store.purgeRooms(old, old);
				await store.saveRoom(roomRow(room, {lastSeq: 3}));
				await store.insertRoomItem(itemRow(room, 1, {time: old + 1, kind: 'change', id: ''}));
				await store.insertRoomItem(itemRow(room, 2, {time: old + 2}));
				await store.insertRoomItem(itemRow(room, 3, {time: fresh}));
				await store.insertRoomKeys(room, 1, [{member: alice, json: '{"old":1}'}]);
				await store.saveMember(room, memberRow(alice));
				await store.saveMember(room, memberRow(dave, {until: 2}));
				await store.saveMember(room, memberRow(erin, {until: 3}));
				await store.saveInvite(inviteRow(room, name('old'), {time: old}));
				await store.saveInvite(inviteRow(room, name('new'), {time: fresh}));
				expect(await store.purgeRooms(fresh - 1, fresh - 1)).toEqual({items: 2, invites: 1});
				expect((await store.roomItems(room, alice, 0, 10)).map(item => item.seq)).toEqual([3]);
				expect((await store.roomMembers(room)).map(member => member.member).sort()).toEqual([alice, erin].sort());
				expect(await store.invite(room, name('old'))).toBeUndefined();
				expect(await store.invite(room, name('new'))).toBeDefined();
				await store.insertRoomItem(itemRow(room, 1, {time: fresh, kind: 'change', id: ''}));
				expect((await store.roomItems(room, alice, 0, 1))[0]?.key).toBeNull();
				expect(await store.purgeRooms(old, old)).toEqual({items: 0, invites: 0});
				expect((await store.roomMembers(room)).map(member => member.member).sort()).toEqual([alice, erin].sort());
			});
		});
	});
}
