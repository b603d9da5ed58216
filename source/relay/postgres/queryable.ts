import type pg from 'pg';

/** What the PostgreSQL store's parts query through: the pool, or the client of an open transaction. */
export type Queryable = Pick<pg.ClientBase, 'query'>;
