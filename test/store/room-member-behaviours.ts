import {describe, expect, it} from 'vitest';
import {itemRow, memberRow, namer, roomRow, withStore, type OpenStore} from './room-fixtures.js';

/** Who reads a room: members, departures, positions (rooms-behaviours.ts registers these). */
export function roomMemberBehaviours(open: OpenStore): void {
	describe('room members', () => {
		it('members are saved, replaced and read; admin, position and departure are set one at a time', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, alice, bob] = [name('room'), name('alice'), name('bob')];
				expect(await store.roomMembers(room)).toEqual([]);
				await store.saveMember(room, memberRow(alice, {admin: true, position: 2 ** 40}));
				await store.saveMember(room, memberRow(bob));
				await store.saveMember(room, memberRow(bob, {position: 3, identity: 'replaced'}));
				const sorted = async () => (await store.roomMembers(room)).sort((a, b) => a.member.localeCompare(b.member));
				expect(await sorted()).toEqual([memberRow(alice, {admin: true, position: 2 ** 40}), memberRow(bob, {position: 3, identity: 'replaced'})]);
				await store.setAdmin(room, bob);
				await store.setPosition(room, bob, 8);
				await store.departMember(room, alice, 9);
				expect(await sorted()).toEqual([memberRow(alice, {admin: true, position: 2 ** 40, until: 9}), memberRow(bob, {admin: true, position: 8, identity: 'replaced'})]);
				await store.setAdmin(room, name('nobody'));
				expect(await store.roomMembers(room)).toHaveLength(2);
			});
		});

		it('a member’s rooms: counted while a member, listed while reading (departures too) with each room’s last position, by name bytewise', async () => {
			await withStore(open, async store => {
				const name = namer();
				const alice = name('alice');
				// Byte order, as SQLite compares ('-' < '_' < 'a'), not a locale's (which may pass over punctuation).
				const [a, b, c] = [name('a-z'), name('a_b'), name('aa')];
				for (const [room, lastSeq] of [[b, 4], [c, 2], [a, 7]] as const) {
					await store.saveRoom(roomRow(room, {lastSeq}));
					await store.saveMember(room, memberRow(alice, {position: lastSeq - 1}));
				}
				await store.departMember(c, alice, 2);
				expect(await store.memberRoomCount(alice)).toBe(2);
				expect(await store.memberRooms(alice)).toEqual([
					{room: a, admin: false, position: 6, until: null, lastSeq: 7},
					{room: b, admin: false, position: 3, until: null, lastSeq: 4},
					{room: c, admin: false, position: 1, until: 2, lastSeq: 2},
				]);
				expect(await store.memberRoomCount(name('nobody'))).toBe(0);
				expect(await store.memberRooms(name('nobody'))).toEqual([]);
			});
		});

		it('sharesRoom: two members of one room share it, either way round; a departure or separate rooms do not', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, other, alice, bob, carol] = [name('room'), name('other'), name('alice'), name('bob'), name('carol')];
				for (const member of [alice, bob, carol]) await store.saveMember(room, memberRow(member));
				await store.saveMember(other, memberRow(name('dave')));
				expect(await store.sharesRoom(alice, bob)).toBe(true);
				expect(await store.sharesRoom(bob, alice)).toBe(true);
				expect(await store.sharesRoom(alice, name('dave'))).toBe(false);
				await store.departMember(room, carol, 5);
				expect(await store.sharesRoom(alice, carol)).toBe(false);
				expect(await store.sharesRoom(carol, alice)).toBe(false);
			});
		});

		it('hasReader: a member and one still reading its departure are readers; one deleted or never there is not', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, alice, bob] = [name('room'), name('alice'), name('bob')];
				await store.saveMember(room, memberRow(alice));
				await store.saveMember(room, memberRow(bob));
				await store.departMember(room, bob, 3);
				expect(await store.hasReader(room, alice)).toBe(true);
				expect(await store.hasReader(room, bob)).toBe(true);
				await store.deleteMember(room, bob);
				expect(await store.hasReader(room, bob)).toBe(false);
				expect(await store.hasReader(room, name('nobody'))).toBe(false);
				expect(await store.hasReader(name('elsewhere'), alice)).toBe(false);
			});
		});

		it('deleteMember takes the member’s keys of every item with it, and only the member’s', async () => {
			await withStore(open, async store => {
				const name = namer();
				const [room, alice, bob] = [name('room'), name('alice'), name('bob')];
				for (const member of [alice, bob]) await store.saveMember(room, memberRow(member));
				for (const seq of [1, 2]) {
					await store.insertRoomItem(itemRow(room, seq, {kind: 'change', id: ''}));
					await store.insertRoomKeys(room, seq, [
						{member: alice, json: `{"alice":${seq}}`},
						{member: bob, json: `{"bob":${seq}}`},
					]);
				}
				await store.deleteMember(room, alice);
				expect((await store.roomItems(room, alice, 0, 10)).map(item => item.key)).toEqual([null, null]);
				expect((await store.roomItems(room, bob, 0, 10)).map(item => item.key)).toEqual(['{"bob":1}', '{"bob":2}']);
				await store.saveMember(room, memberRow(alice));
				expect((await store.roomItems(room, alice, 0, 10)).map(item => item.key)).toEqual([null, null]);
			});
		});
	});
}
