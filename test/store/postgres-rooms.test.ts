import {randomBytes} from 'node:crypto';
import pg from 'pg';
import {afterAll, beforeAll, expect, it} from 'vitest';
import {PgRoomStore} from '../../source/relay/postgres/pg-rooms.js';
import type {RoomItemKind} from '../../source/relay/room-store.js';
import {createRoomTables} from '../helpers/pg-rooms.js';
import {describePostgres, postgresUrl, usePostgresDatabase} from '../helpers/postgres.js';
import {inviteRow, itemRow, logEntry, memberRow, namer, roomRow} from './room-fixtures.js';

/** What only the PostgreSQL rooms store has to get right: bad input, numbers at the edge, collation, deleteUserInvites. */
describePostgres('the PostgreSQL rooms store (postgres/pg-rooms.ts)', () => {
	const database = usePostgresDatabase();
	let pool: pg.Pool;
	let rooms: PgRoomStore;

	beforeAll(async () => {
		await createRoomTables(database.url);
		pool = new pg.Pool({connectionString: database.url, max: 2});
		rooms = new PgRoomStore(pool);
	});

	afterAll(async () => {
		await pool.end();
	});

	it('bad input is refused with a clear error, and the store goes on answering', async () => {
		const name = namer();
		const room = name('room');
		await rooms.saveRoom(roomRow(room, {lastSeq: 3}));
		for (const count of [0, -1, 1.5, Number.NaN]) await expect(rooms.takeRoomSeqs(room, count)).rejects.toThrow(/not a positive count/);
		await expect(rooms.appendLog(room, 0, 'not json')).rejects.toThrow(/is JSON/);
		await expect(rooms.appendLog(room, 0, '{"room":"x"}')).rejects.toThrow(/names its author/);
		await expect(rooms.appendLog(room, 0, 'null')).rejects.toThrow(/names its author/);
		await expect(rooms.saveRoom(roomRow(`${room}\u0000`))).rejects.toThrow(/0x00/);
		await expect(rooms.roomItems(room, 'reader', 0, -1)).rejects.toThrow(/LIMIT must not be negative/);
		await expect(rooms.setPosition(room, 'reader', 1.5)).rejects.toThrow(/bigint/);
		await expect(rooms.insertRoomItem(itemRow(room, 1, {kind: 'other' as RoomItemKind}))).rejects.toThrow(/check constraint/);
		expect(await rooms.takeRoomSeqs(room, 1)).toBe(4);
		expect(await rooms.roomLog(room, 0, 10)).toEqual([]);
	});

	it('a position beyond 2^53 is an error, not a number rounded to a position already used', async () => {
		const room = namer()('room');
		await rooms.saveRoom(roomRow(room, {lastSeq: Number.MAX_SAFE_INTEGER}));
		await expect(rooms.takeRoomSeqs(room, 2)).rejects.toThrow(/not a safe integer/);
		await expect(rooms.room(room)).rejects.toThrow(/not a safe integer/);
	});

	it('deleteUserInvites takes the invitations to the user and from it, no others', async () => {
		const name = namer();
		const [room, other, alice, bob, carol] = [name('room'), name('other'), name('alice'), name('bob'), name('carol')];
		await rooms.saveInvite(inviteRow(room, alice, {inviter: carol}));
		await rooms.saveInvite(inviteRow(other, bob, {inviter: alice}));
		await rooms.saveInvite(inviteRow(room, bob, {inviter: carol}));
		await rooms.deleteUserInvites(alice);
		expect(await rooms.invite(room, alice)).toBeUndefined();
		expect(await rooms.invite(other, bob)).toBeUndefined();
		expect(await rooms.invite(room, bob)).toEqual(inviteRow(room, bob, {inviter: carol}));
	});

	it('on a database whose default collation is a locale’s (ICU en-US), names still compare bytewise, as on SQLite', async () => {
		const url = new URL(postgresUrl!);
		url.pathname = `/im_tui_test_icu_${randomBytes(6).toString('hex')}`;
		const admin = new pg.Client({connectionString: postgresUrl});
		await admin.connect();
		await admin.query(`create database ${url.pathname.slice(1)} locale_provider icu icu_locale 'en-US' template template0`);
		const icuPool = new pg.Pool({connectionString: url.toString(), max: 1});
		try {
			await createRoomTables(url.toString());
			const {rows} = await icuPool.query<{names: string[]}>("select array_agg(name order by name) as names from unnest(array['aa', 'a_b', 'a-z']) as name");
			expect(rows[0]!.names, 'the locale sorts differently from bytes, or this test shows nothing').not.toEqual(['a-z', 'a_b', 'aa']);
			const icuRooms = new PgRoomStore(icuPool);
			for (const room of ['aa', 'a_b', 'a-z']) {
				await icuRooms.saveRoom(roomRow(room));
				await icuRooms.saveMember(room, memberRow('alice'));
			}
			expect((await icuRooms.memberRooms('alice')).map(room => room.room)).toEqual(['a-z', 'a_b', 'aa']);
			await icuRooms.appendLog('aa', 0, logEntry('aa', 0, 'alice'));
			expect((await icuRooms.roomItemTotals()).map(total => total.sender)).toEqual(['alice']);
		} finally {
			await icuPool.end();
			await admin.query(`drop database if exists ${url.pathname.slice(1)} with (force)`);
			await admin.end();
		}
	});
});
