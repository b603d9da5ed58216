import type pg from 'pg';
import {StoreError} from './pg-errors.js';
import {pgRoomSchema} from './pg-rooms.js';
import {inTransaction} from './pg-transaction.js';

/** The schema this code makes and reads. A database of a higher one was made by a newer im-tui. */
export const schemaVersion = 1;

/** The advisory lock every relay takes while it makes or checks the schema: any fixed number, the same in all of them. */
const schemaLock = 0x696d_7475_6953;

/**
 * The tables of sqlite-store.ts and sqlite-prekeys.ts, in PostgreSQL: numbers and times bigint,
 * names in "C" collation so that name order is byte order, as SQLite's (and the same on every
 * server, whatever its locale). Delivery numbers come from delivery_counters, per recipient.
 */
const storeSchema = `
create table if not exists users (
	username text collate "C" primary key,
	identity text not null,
	x25519 text not null,
	binding text not null,
	registered_at bigint not null,
	confirmed boolean not null
);
create index if not exists users_unconfirmed on users (registered_at) where not confirmed;

create table if not exists meta (
	key text collate "C" primary key,
	value bigint not null
);
insert into meta (key, value) select 'user_count', count(*) from users on conflict (key) do nothing;
create or replace function im_tui_count_users() returns trigger language plpgsql as $$
begin
	if tg_op = 'INSERT' then
		update meta set value = value + 1 where key = 'user_count';
	else
		update meta set value = value - 1 where key = 'user_count';
	end if;
	return null;
end
$$;
drop trigger if exists users_counted on users;
create trigger users_counted after insert or delete on users for each row execute function im_tui_count_users();

create table if not exists contacts (
	owner text collate "C" not null,
	contact text collate "C" not null,
	chosen boolean not null,
	added_at bigint not null,
	primary key (owner, contact)
);
create index if not exists contacts_by_contact on contacts (contact, owner);
create index if not exists contacts_inbound on contacts (owner, added_at, contact) where not chosen;

create table if not exists delivery_counters (
	recipient text collate "C" primary key,
	-- Past 2^53 - 1 a number would reach JavaScript rounded: the enqueue that gets there fails whole instead.
	last bigint not null constraint delivery_number_beyond_2_53 check (last between 0 and 9007199254740991)
);
create table if not exists queue (
	recipient text collate "C" not null,
	delivery bigint not null,
	sender text collate "C" not null,
	id text collate "C" not null,
	kind text not null,
	ephemeral text not null,
	ratchet text,
	body text not null,
	time bigint not null,
	primary key (recipient, delivery),
	unique (sender, id, recipient)
);
create index if not exists queue_by_time on queue (time);

create table if not exists signed_prekeys (
	username text collate "C" primary key,
	id bigint not null,
	key text not null,
	signature text not null
);
create table if not exists one_time_prekeys (
	username text collate "C" not null,
	id bigint not null,
	key text not null,
	primary key (username, id)
);
`;

/**
 * Makes the schema if the database has none, under an advisory lock (relays that start together
 * wait for each other instead of racing on the catalog), and records its version; refuses a
 * database made by a newer im-tui, whose tables this code would misread.
 */
export async function createSchema(pool: pg.Pool): Promise<'created' | 'found'> {
	return inTransaction(pool, async db => {
		await db.query('select pg_advisory_xact_lock($1)', [schemaLock]);
		await db.query('create table if not exists schema_version (one boolean primary key default true check (one), version integer not null)');
		const {rows} = await db.query<{version: number}>('select version from schema_version');
		const found = rows[0]?.version ?? 0;
		if (found > schemaVersion) {
			throw new StoreError(
				`this database was made by a newer im-tui (schema ${found}); upgrade this relay (it knows schema ${schemaVersion} and older)`,
				'schema_too_new',
			);
		}
		if (found === schemaVersion) return 'found';
		await db.query(storeSchema);
		await db.query(pgRoomSchema);
		await db.query('insert into schema_version (version) values ($1) on conflict (one) do update set version = excluded.version', [schemaVersion]);
		return 'created';
	});
}
