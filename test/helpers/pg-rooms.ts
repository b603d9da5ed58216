import pg from 'pg';
import {pgRoomSchema} from '../../source/relay/postgres/pg-rooms.js';

/** Makes the room tables alone in the database at `url` (what the store's migration does with pgRoomSchema among the rest). */
export async function createRoomTables(url: string): Promise<void> {
	const client = new pg.Client({connectionString: url});
	await client.connect();
	try {
		await client.query(pgRoomSchema);
	} finally {
		await client.end();
	}
}
