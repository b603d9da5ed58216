import {setTimeout as sleep} from 'node:timers/promises';
import pg from 'pg';
import {afterAll, beforeAll, expect, it} from 'vitest';
import {PgRoomStore} from '../../source/relay/postgres/pg-rooms.js';
import {inTransaction} from '../../source/relay/postgres/pg-transaction.js';
import {createRoomTables} from '../helpers/pg-rooms.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {itemRow, namer, roomRow} from './room-fixtures.js';

/** Two relays on one database: each its own pool, as two processes would have. */
describePostgres('two relays racing on one room (postgres/pg-rooms.ts)', () => {
	const database = usePostgresDatabase();
	const pools: pg.Pool[] = [];
	let relays: [PgRoomStore, PgRoomStore];

	beforeAll(async () => {
		await createRoomTables(database.url);
		for (let i = 0; i < 2; i++) pools.push(new pg.Pool({connectionString: database.url, max: 3}));
		relays = [new PgRoomStore(pools[0]!), new PgRoomStore(pools[1]!)];
	});

	afterAll(async () => {
		await Promise.all(pools.map(async pool => pool.end()));
	});

	it('two creates of one name at once: exactly one makes the room, and the row is the winner’s', async () => {
		const name = namer();
		for (let round = 0; round < 40; round++) {
			const room = name(`r${round}`);
			const made = await Promise.all(relays.map(async (relay, index) => relay.createRoom(roomRow(room, {creator: `relay${index}`}))));
			expect(made.filter(Boolean)).toHaveLength(1);
			expect((await relays[0].room(room))?.creator).toBe(`relay${made.indexOf(true)}`);
		}
	});

	it('two changes from the same head at once: exactly one moves it, round after round, and the row is the winner’s', async () => {
		const room = namer()('room');
		await relays[0].createRoom(roomRow(room));
		for (let index = 0; index < 40; index++) {
			const moved = await Promise.all(relays.map(async (relay, which) => relay.moveRoomHead(roomRow(room, {index: index + 1, head: `relay${which}-${index + 1}`}), index)));
			expect(moved.filter(Boolean)).toHaveLength(1);
			expect(await relays[1].room(room)).toMatchObject({index: index + 1, head: `relay${moved.indexOf(true)}-${index + 1}`});
		}
	});

	it('two relays taking positions in transactions while a reader follows: none handed out twice, none skipped by the reader', async () => {
		const room = namer()('room');
		await relays[0].createRoom(roomRow(room));
		const batches = 60;
		const taken: number[] = [];
		let writing = 2;
		const write = async (pool: pg.Pool, sender: string): Promise<void> => {
			try {
				for (let batch = 0; batch < batches; batch++) {
					const count = 1 + (batch % 3);
					await inTransaction(pool, async client => {
						const rooms = new PgRoomStore(client);
						const first = await rooms.takeRoomSeqs(room, count);
						// Other work of the batch: the window in which a later position could commit first.
						await sleep(batch % 4);
						for (let seq = first; seq < first + count; seq++) await rooms.insertRoomItem(itemRow(room, seq, {sender, id: `${sender}-${seq}`}));
						taken.push(...Array.from({length: count}, (_, k) => first + k));
					});
				}
			} finally {
				writing -= 1;
			}
		};
		const reader = new PgRoomStore(pools[0]!);
		const seen: number[] = [];
		let readsWhileWriting = 0;
		const read = async (): Promise<void> => {
			for (;;) {
				const done = writing === 0;
				const page = await reader.roomItems(room, 'reader', seen.at(-1) ?? 0, 7);
				if (page.length > 0 && !done) readsWhileWriting += 1;
				// The reader moves on from the last position it saw: the next it reads must follow it.
				for (const item of page) {
					const last = seen.at(-1) ?? 0;
					expect(item.seq, `the reader, after ${last}`).toBe(last + 1);
					seen.push(item.seq);
				}
				if (done && page.length === 0) return;
				if (page.length === 0) await sleep(1);
			}
		};
		await Promise.all([write(pools[0]!, 'one'), write(pools[1]!, 'two'), read()]);
		const total = 2 * Array.from({length: batches}, (_, batch) => 1 + (batch % 3)).reduce((a, b) => a + b);
		expect(taken.sort((a, b) => a - b)).toEqual(Array.from({length: total}, (_, k) => k + 1));
		expect(seen).toEqual(taken);
		expect((await reader.room(room))?.lastSeq).toBe(total);
		expect(readsWhileWriting).toBeGreaterThan(5);
	});

	it('two relays counting reads of one message at once: every read counts', async () => {
		const room = namer()('room');
		await relays[0].insertRoomItem(itemRow(room, 1, {sender: 'author', of: 40}));
		const counts = await Promise.all(
			Array.from({length: 40}, async (_, reader) => relays[reader % 2]!.markDelivered(room, `reader${reader}`, 0, 1)),
		);
		expect(counts.map(count => count[0]!.delivered).sort((a, b) => a - b)).toEqual(Array.from({length: 40}, (_, k) => k + 1));
	});
});
