import pg from 'pg';
import {expect, it} from 'vitest';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';

describePostgres('the PostgreSQL test server', () => {
	const database = usePostgresDatabase();

	it('gives each test file a database of its own, empty', async () => {
		const client = new pg.Client({connectionString: database.url});
		await client.connect();
		try {
			const {rows} = await client.query<{tables: string}>("select count(*) as tables from information_schema.tables where table_schema = 'public'");
			expect(rows[0]!.tables).toBe('0');
		} finally {
			await client.end();
		}
	});
});
