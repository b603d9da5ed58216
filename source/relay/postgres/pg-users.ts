import type {AsyncRelayStore} from '../async-store.js';
import type {ContactKind, StoredUser} from '../relay-store.js';
import {deletePrekeysOf} from './pg-prekeys.js';
import {prepared} from './pg-statement.js';
import {atomic} from './pg-transaction.js';
import type {Queryable} from './queryable.js';

export const userMethods = [
	'user', 'usersNamed', 'userCount', 'firstUsernames', 'registerUser', 'confirmUser', 'lapsedUsers', 'deleteUser',
	'contactNames', 'contactCounts', 'contactKind', 'addContact', 'chooseContact', 'evictOldestInbound', 'watchers',
] as const satisfies ReadonlyArray<keyof AsyncRelayStore>;

type UserMethods = Pick<AsyncRelayStore, (typeof userMethods)[number]>;

/** Deletes the room invitations to and from a user, in the transaction of `db` (the rooms part's). */
export type InviteDeleter = (db: Queryable, username: string) => Promise<void>;

const userFields = 'username, identity, x25519, binding, registered_at as "registeredAt", confirmed';

const selectUser = prepared('user', `select ${userFields} from users where username = $1`);
const selectUsersNamed = prepared('users_named', `select ${userFields} from users where username = any($1::text[]) order by username`);
const selectUserCount = prepared('user_count', "select value from meta where key = 'user_count'");
const selectFirstNames = prepared('first_usernames', 'select username from users order by username limit $1');
const insertUser = prepared(
	'register_user',
	'insert into users (username, identity, x25519, binding, registered_at, confirmed) values ($1, $2, $3, $4, $5, $6) on conflict (username) do nothing',
);
const updateConfirmed = prepared('confirm_user', 'update users set confirmed = true where username = $1 and not confirmed');
const selectLapsed = prepared('lapsed_users', 'select username from users where not confirmed and registered_at < $1 order by registered_at, username');
const selectContactNames = prepared(
	'contact_names',
	'select contact from contacts join users on username = contact where owner = $1 order by contact limit $2',
);
const countContacts = prepared(
	'contact_counts',
	'select (count(*) filter (where chosen))::int as chosen, (count(*) filter (where not chosen))::int as inbound from contacts where owner = $1',
);
const selectContactKind = prepared('contact_kind', 'select chosen from contacts where owner = $1 and contact = $2');
const insertContact = prepared('add_contact', 'insert into contacts (owner, contact, chosen, added_at) values ($1, $2, $3, $4) on conflict do nothing');
const updateChosen = prepared('choose_contact', 'update contacts set chosen = true where owner = $1 and contact = $2 and not chosen');
/** Of two evictions at once, each takes a different edge (skip locked). */
const deleteOldestInbound = prepared(
	'evict_oldest_inbound',
	`delete from contacts where (owner, contact) = (
		select owner, contact from contacts where owner = $1 and not chosen order by added_at, contact limit 1 for update skip locked
	) returning contact`,
);
const selectWatchers = prepared('watchers', 'select owner from contacts where contact = $1 limit $2');
const deleteCounter = prepared('delete_delivery_counter', 'delete from delivery_counters where recipient = $1');
const deleteQueueOf = prepared('delete_queue_of', 'delete from queue where recipient = $1');
const deleteContactsOf = prepared('delete_contacts_of', 'delete from contacts where owner = $1');
const deleteContactsTo = prepared('delete_contacts_to', 'delete from contacts where contact = $1');
const deleteUserRow = prepared('delete_user', 'delete from users where username = $1');

/** Registered users and their contacts (sqlite-store.ts's tables): every read a point read or a bounded range of an index. */
export class PgUsers implements UserMethods {
	constructor(
		private readonly db: Queryable,
		private readonly deleteInvites: InviteDeleter,
	) {}

	async user(username: string): Promise<StoredUser | undefined> {
		const {rows} = await this.db.query<StoredUser>(selectUser([username]));
		return rows[0];
	}

	async usersNamed(usernames: readonly string[]): Promise<StoredUser[]> {
		if (usernames.length === 0) return [];
		const {rows} = await this.db.query<StoredUser>(selectUsersNamed([usernames]));
		return rows;
	}

	/** One row, kept by a trigger on users (pg-schema.ts). */
	async userCount(): Promise<number> {
		const {rows} = await this.db.query<{value: number}>(selectUserCount());
		return rows[0]?.value ?? 0;
	}

	async firstUsernames(limit: number): Promise<string[]> {
		const {rows} = await this.db.query<{username: string}>(selectFirstNames([limit]));
		return rows.map(row => row.username);
	}

	/** One statement: of two relays registering one name at once, exactly one gets true. */
	async registerUser(user: StoredUser): Promise<boolean> {
		const {rowCount} = await this.db.query(insertUser([user.username, user.identity, user.x25519, user.binding, user.registeredAt, user.confirmed]));
		return rowCount === 1;
	}

	async confirmUser(username: string): Promise<void> {
		await this.db.query(updateConfirmed([username]));
	}

	async lapsedUsers(time: number): Promise<string[]> {
		const {rows} = await this.db.query<{username: string}>(selectLapsed([time]));
		return rows.map(row => row.username);
	}

	/**
	 * Its delivery counter goes first: that waits for an enqueue to it in flight on another relay to
	 * commit, so the queue's delete after it sees that enqueue's envelopes.
	 */
	async deleteUser(username: string): Promise<void> {
		await atomic(this.db, async db => {
			await db.query(deleteCounter([username]));
			await db.query(deleteQueueOf([username]));
			await db.query(deleteContactsOf([username]));
			await db.query(deleteContactsTo([username]));
			await deletePrekeysOf(db, username);
			await this.deleteInvites(db, username);
			await db.query(deleteUserRow([username]));
		});
	}

	async contactNames(owner: string, limit: number): Promise<string[]> {
		const {rows} = await this.db.query<{contact: string}>(selectContactNames([owner, limit]));
		return rows.map(row => row.contact);
	}

	async contactCounts(owner: string): Promise<{chosen: number; inbound: number}> {
		const {rows} = await this.db.query<{chosen: number; inbound: number}>(countContacts([owner]));
		return rows[0] ?? {chosen: 0, inbound: 0};
	}

	async contactKind(owner: string, contact: string): Promise<ContactKind | undefined> {
		const {rows} = await this.db.query<{chosen: boolean}>(selectContactKind([owner, contact]));
		const row = rows[0];
		return row === undefined ? undefined : row.chosen ? 'chosen' : 'inbound';
	}

	async addContact(owner: string, contact: string, kind: ContactKind, time: number): Promise<boolean> {
		const {rowCount} = await this.db.query(insertContact([owner, contact, kind === 'chosen', time]));
		return rowCount === 1;
	}

	async chooseContact(owner: string, contact: string): Promise<boolean> {
		const {rowCount} = await this.db.query(updateChosen([owner, contact]));
		return rowCount === 1;
	}

	async evictOldestInbound(owner: string): Promise<string | undefined> {
		const {rows} = await this.db.query<{contact: string}>(deleteOldestInbound([owner]));
		return rows[0]?.contact;
	}

	async watchers(contact: string, limit: number): Promise<string[]> {
		const {rows} = await this.db.query<{owner: string}>(selectWatchers([contact, limit]));
		return rows.map(row => row.owner);
	}
}
