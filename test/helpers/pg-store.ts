import type pg from 'pg';

/**
 * Empties every table of the store's database but schema_version, and sets the user count back
 * to 0 (truncate fires no delete trigger): a fresh store for the next test, in milliseconds,
 * where dropping and making a database takes a second.
 */
export async function emptyStoreTables(pool: pg.Pool): Promise<void> {
	const {rows} = await pool.query<{name: string}>(
		"select quote_ident(tablename) as name from pg_tables where schemaname = current_schema() and tablename <> 'schema_version'",
	);
	await pool.query(`truncate ${rows.map(row => row.name).join(', ')}`);
	await pool.query("insert into meta (key, value) values ('user_count', 0)");
}
