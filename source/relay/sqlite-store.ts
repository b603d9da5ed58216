import {chmodSync} from 'node:fs';
import {join} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import type {DeliveredEnvelope, EnvelopeKind} from '../net/messages.js';
import {storedRowOverhead, type QueueSnapshot} from './queue-ledger.js';
import {prekeyTables} from './sqlite-prekeys.js';
import {roomTables} from './sqlite-rooms.js';
import type {NumberedEnvelope, RelayStore, StoredUser} from './relay-store.js';

export const databaseFileName = 'relay.sqlite';

const schema = `
create table if not exists users (
	username text primary key,
	identity text not null,
	x25519 text not null,
	binding text not null,
	registered_at integer not null
) strict;
create table if not exists queue (
	delivery integer primary key autoincrement,
	recipient text not null,
	sender text not null,
	id text not null,
	kind text not null,
	ephemeral text not null,
	body text not null,
	ratchet text,
	time integer not null,
	unique (sender, id, recipient)
) strict;
create index if not exists queue_by_recipient on queue (recipient, delivery);
create index if not exists queue_by_time on queue (time);
create table if not exists meta (
	key text primary key,
	value integer not null
) strict;
create table if not exists contacts (
	owner text not null,
	contact text not null,
	chosen integer not null default 1,
	added_at integer not null default 0,
	primary key (owner, contact)
) strict, without rowid;
create index if not exists contacts_by_contact on contacts (contact, owner);
`;

/** Contacts from before inbound ones existed count as chosen (the column defaults). */
function migrateContacts(db: Database.Database): void {
	const columns = db.prepare('select name from pragma_table_info(?)').pluck().all('contacts') as string[];
	if (!columns.includes('chosen')) db.exec('alter table contacts add column chosen integer not null default 1');
	if (!columns.includes('added_at')) db.exec('alter table contacts add column added_at integer not null default 0');
	// What counting and evicting an owner's inbound contacts reads: those rows only, oldest first.
	db.exec('create index if not exists contacts_inbound on contacts (owner, added_at) where chosen = 0');
}

/**
 * Keeps the number of registered users in `meta`, counted once on a database that has none yet and
 * then by triggers, so that opening a database of a million users reads one row, not a million.
 */
function countUsers(db: Database.Database): void {
	db.transaction(() => {
		if (db.prepare("select 1 from meta where key = 'user_count'").get() === undefined) {
			db.exec("insert into meta (key, value) select 'user_count', count(*) from users");
		}
		db.exec(`
			create trigger if not exists users_added after insert on users begin
				update meta set value = value + 1 where key = 'user_count';
			end;
			create trigger if not exists users_deleted after delete on users begin
				update meta set value = value - 1 where key = 'user_count';
			end;
		`);
	})();
}

type UserRow = Omit<StoredUser, 'confirmed'> & {confirmed: number};

function storedUser(row: UserRow): StoredUser {
	return {...row, confirmed: row.confirmed === 1};
}

type QueueRow = {
	delivery: number;
	recipient: string;
	sender: string;
	id: string;
	kind: EnvelopeKind;
	/** '' in a row of a ratchet envelope. */
	ephemeral: string;
	body: string;
	time: number;
	/** null in a row of an ephemeral-key envelope (every row from before the column). */
	ratchet: string | null;
};

/**
 * The relay's database: registered users, their contacts and the queue of end-to-end envelopes. WAL with
 * synchronous=NORMAL survives the relay process being killed at any point (a commit is in the WAL
 * before enqueue returns); an operating-system crash can lose the last commits.
 */
export function openSqliteStore(dataDir: string): RelayStore {
	const path = join(dataDir, databaseFileName);
	const db = new Database(path);
	// The -wal and -shm files take their mode from the database file.
	chmodSync(path, 0o600);
	db.pragma('journal_mode = WAL');
	db.pragma('synchronous = NORMAL');
	db.pragma('secure_delete = ON');
	db.exec(schema);
	const userColumns = db.prepare('select name from pragma_table_info(?)').pluck().all('users') as string[];
	// Names registered before registrations could lapse are all kept: they count as used.
	if (!userColumns.includes('confirmed')) db.exec('alter table users add column confirmed integer not null default 1');
	// What lapsedUsers reads: the few unconfirmed names, not every registered one.
	db.exec('create index if not exists users_unconfirmed on users (registered_at) where confirmed = 0');
	countUsers(db);
	migrateContacts(db);
	// Envelopes queued before ratchet headers existed keep their ephemeral key and a null here.
	const queueColumns = db.prepare('select name from pragma_table_info(?)').pluck().all('queue') as string[];
	if (!queueColumns.includes('ratchet')) db.exec('alter table queue add column ratchet text');
	const prekeys = prekeyTables(db);
	const {deleteUserInvites, ...rooms} = roomTables(db);

	const insertUser = db.prepare(
		'insert into users (username, identity, x25519, binding, registered_at, confirmed) values (@username, @identity, @x25519, @binding, @registeredAt, @confirmed)',
	);
	const userFields = 'username, identity, x25519, binding, registered_at as registeredAt, confirmed';
	const selectUser = db.prepare(`select ${userFields} from users where username = ?`);
	const selectUsersNamed = db.prepare(`select ${userFields} from users where username in (select value from json_each(?)) order by username`);
	const selectFirstNames = db.prepare('select username from users order by username limit ?').pluck();
	// Read, not kept in memory: a count kept here would not roll back with a failed batch's registrations.
	const selectUserCount = db.prepare("select value from meta where key = 'user_count'").pluck();
	const updateConfirmed = db.prepare('update users set confirmed = 1 where username = ?');
	const selectLapsed = db.prepare('select username from users where confirmed = 0 and registered_at < ? order by registered_at').pluck();
	const deleteUserRow = db.prepare('delete from users where username = ?');
	const deleteQueueFor = db.prepare('delete from queue where recipient = ?');
	const deleteContactsOf = db.prepare('delete from contacts where owner = ?');
	const deleteContactsTo = db.prepare('delete from contacts where contact = ?');
	const deleteUserEverywhere = db.transaction((username: string) => {
		deleteQueueFor.run(username);
		deleteContactsOf.run(username);
		deleteContactsTo.run(username);
		prekeys.deleteFor(username);
		deleteUserInvites(username);
		deleteUserRow.run(username);
	});
	const selectContactNames = db
		.prepare('select contact from contacts join users on username = contact where owner = ? order by contact limit ?')
		.pluck();
	const countContacts = db.prepare('select count(*) as total, coalesce(sum(chosen), 0) as chosen from contacts where owner = ?');
	const selectContactKind = db.prepare('select chosen from contacts where owner = ? and contact = ?').pluck();
	const insertContact = db.prepare('insert into contacts (owner, contact, chosen, added_at) values (?, ?, ?, ?) on conflict do nothing');
	const updateChosen = db.prepare('update contacts set chosen = 1 where owner = ? and contact = ? and chosen = 0');
	const selectOldestInbound = db.prepare('select contact from contacts where owner = ? and chosen = 0 order by added_at, contact limit 1').pluck();
	const deleteContact = db.prepare('delete from contacts where owner = ? and contact = ?');
	const evictOldest = db.transaction((owner: string): string | undefined => {
		const oldest = selectOldestInbound.get(owner) as string | undefined;
		if (oldest !== undefined) deleteContact.run(owner, oldest);
		return oldest;
	});
	const selectWatchers = db.prepare('select owner from contacts where contact = ? limit ?').pluck();
	const insertEnvelope = db.prepare(
		// Only a resend (same sender, id and recipient) is skipped; a clash of delivery numbers is an error.
		'insert into queue (delivery, recipient, sender, id, kind, ephemeral, ratchet, body, time) values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (sender, id, recipient) do nothing',
	);
	const selectQueued = db.prepare('select * from queue where recipient = ? and delivery > ? order by delivery limit ?');
	// The same sum as storedBytes() in queue-ledger.ts; every column here is ASCII, so length() counts bytes.
	const storedExpression = `length(body) + 2 * length(id) + length(ephemeral) + coalesce(length(ratchet), 0) + ${storedRowOverhead}`;
	const selectTotals = db.prepare(
		`select recipient, sender, count(*) as count, sum(${storedExpression}) as bytes from queue group by recipient, sender`,
	);
	const deleteDelivery = db.prepare(`delete from queue where delivery = ? and recipient = ? returning sender, ${storedExpression} as bytes`);
	const deleteOlder = db.prepare('delete from queue where time < ?');
	const selectQueuedDelivery = db.prepare('select delivery from queue where sender = ? and id = ? and recipient = ?').pluck();

	const enqueueAll = db.transaction((envelopes: readonly NumberedEnvelope[]): boolean[] =>
		envelopes.map(
			envelope =>
				insertEnvelope.run(
					envelope.delivery,
					envelope.to,
					envelope.from,
					envelope.id,
					envelope.kind,
					envelope.ephemeral ?? '',
					envelope.ratchet ?? null,
					envelope.body,
					envelope.time,
				).changes === 1,
		),
	);
	// Databases from before delivery numbers were reserved start above every number autoincrement gave out.
	const selectReserved = db.prepare("select value from meta where key = 'delivery_reserved'").pluck();
	const selectSequence = db.prepare("select coalesce(max(seq), 0) from sqlite_sequence where name = 'queue'").pluck();
	const upsertReserved = db.prepare(
		"insert into meta (key, value) values ('delivery_reserved', ?) on conflict (key) do update set value = excluded.value",
	);
	const reserve = db.transaction((count: number): number => {
		const reserved = (selectReserved.get() as number | undefined) ?? (selectSequence.get() as number);
		upsertReserved.run(reserved + count);
		return reserved + 1;
	});
	const ackAll = db.transaction((recipient: string, deliveries: readonly number[]) => {
		const deleted: Array<{sender: string; bytes: number}> = [];
		for (const delivery of deliveries) {
			const row = deleteDelivery.get(delivery, recipient) as {sender: string; bytes: number} | undefined;
			if (row !== undefined) deleted.push(row);
		}
		return deleted;
	});

	return {
		...rooms,
		user(username) {
			const row = selectUser.get(username) as UserRow | undefined;
			return row === undefined ? undefined : storedUser(row);
		},
		usersNamed: usernames => (selectUsersNamed.all(JSON.stringify(usernames)) as UserRow[]).map(storedUser),
		userCount: () => selectUserCount.get() as number,
		firstUsernames: limit => selectFirstNames.all(limit) as string[],
		registerUser(user) {
			insertUser.run({...user, confirmed: user.confirmed ? 1 : 0});
		},
		confirmUser(username) {
			updateConfirmed.run(username);
		},
		lapsedUsers: time => selectLapsed.all(time) as string[],
		deleteUser(username) {
			deleteUserEverywhere(username);
		},
		contactNames: (owner, limit) => selectContactNames.all(owner, limit) as string[],
		contactCounts(owner) {
			const {total, chosen} = countContacts.get(owner) as {total: number; chosen: number};
			return {chosen, inbound: total - chosen};
		},
		contactKind(owner, contact) {
			const chosen = selectContactKind.get(owner, contact) as number | undefined;
			return chosen === undefined ? undefined : chosen === 1 ? 'chosen' : 'inbound';
		},
		addContact: (owner, contact, kind, time) => insertContact.run(owner, contact, kind === 'chosen' ? 1 : 0, time).changes === 1,
		batch: work => db.transaction(work)(),
		chooseContact: (owner, contact) => updateChosen.run(owner, contact).changes === 1,
		evictOldestInbound: owner => evictOldest(owner),
		watchers: (contact, limit) => selectWatchers.all(contact, limit) as string[],
		enqueue: envelopes => enqueueAll(envelopes),
		reserveDeliveries: count => reserve(count),
		queued: (recipient, after, limit) =>
			(selectQueued.all(recipient, after, limit) as QueueRow[]).map(row => ({
				delivery: row.delivery,
				from: row.sender,
				to: row.recipient,
				id: row.id,
				kind: row.kind,
				...(row.ratchet === null ? {ephemeral: row.ephemeral} : {ratchet: row.ratchet}),
				body: row.body,
				time: row.time,
			})) satisfies DeliveredEnvelope[],
		queueTotals: () => selectTotals.all() as QueueSnapshot,
		ack: (recipient, deliveries) => ackAll(recipient, deliveries),
		prekeyCount: username => prekeys.count(username),
		savePrekeys: (username, signed, oneTime, maxOneTime) => prekeys.save(username, signed, oneTime, maxOneTime),
		claimBundle: (username, oneTime) => prekeys.claim(username, oneTime),
		purgeOlderThan: time => deleteOlder.run(time).changes,
		queuedDelivery: (from, id, to) => selectQueuedDelivery.get(from, id, to) as number | undefined,
		begin() {
			db.exec('begin immediate');
		},
		commit() {
			db.exec('commit');
		},
		rollback() {
			if (db.inTransaction) db.exec('rollback');
		},
		close() {
			db.close();
		},
	};
}
