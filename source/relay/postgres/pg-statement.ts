import type pg from 'pg';

/**
 * A statement PostgreSQL parses and plans once per connection (a named prepared statement), then
 * only binds and runs: on the store's hot paths that halves each statement's time. Names are
 * unique in the process (pg refuses one name for two texts); the text names its columns, never
 * `*`, so that a column added later cannot change a prepared statement's result.
 */
export function prepared(name: string, text: string): (values?: unknown[]) => pg.QueryConfig {
	const config = {name: `im_tui_${name}`, text};
	return values => ({...config, values});
}
