import type {AsyncRelayStore} from '../async-store.js';
import type {ContactKind, StoredUser} from '../relay-store.js';
import {deletePrekeysOf} from './pg-prekeys.js';
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

/** Registered users and their contacts (sqlite-store.ts's tables): every read a point read or a bounded range of an index. */
export class PgUsers implements UserMethods {
	constructor(
		private readonly db: Queryable,
		private readonly deleteInvites: InviteDeleter,
	) {}

	async user(username: string): Promise<StoredUser | undefined> {
		const {rows} = await this.db.query<StoredUser>(`select ${userFields} from users where username = $1`, [username]);
		return rows[0];
	}

	async usersNamed(usernames: readonly string[]): Promise<StoredUser[]> {
		if (usernames.length === 0) return [];
		const {rows} = await this.db.query<StoredUser>(`select ${userFields} from users where username = any($1::text[]) order by username`, [usernames]);
		return rows;
	}

	/** One row, kept by a trigger on users (pg-schema.ts). */
	async userCount(): Promise<number> {
		const {rows} = await this.db.query<{value: number}>("select value from meta where key = 'user_count'");
		return rows[0]?.value ?? 0;
	}

	async firstUsernames(limit: number): Promise<string[]> {
		const {rows} = await this.db.query<{username: string}>('select username from users order by username limit $1', [limit]);
		return rows.map(row => row.username);
	}

	/** One statement: of two relays registering one name at once, exactly one gets true. */
	async registerUser(user: StoredUser): Promise<boolean> {
		const {rowCount} = await this.db.query(
			'insert into users (username, identity, x25519, binding, registered_at, confirmed) values ($1, $2, $3, $4, $5, $6) on conflict (username) do nothing',
			[user.username, user.identity, user.x25519, user.binding, user.registeredAt, user.confirmed],
		);
		return rowCount === 1;
	}

	async confirmUser(username: string): Promise<void> {
		await this.db.query('update users set confirmed = true where username = $1 and not confirmed', [username]);
	}

	async lapsedUsers(time: number): Promise<string[]> {
		const {rows} = await this.db.query<{username: string}>(
			'select username from users where not confirmed and registered_at < $1 order by registered_at, username',
			[time],
		);
		return rows.map(row => row.username);
	}

	/**
	 * Its delivery counter goes first: that waits for an enqueue to it in flight on another relay to
	 * commit, so the queue's delete after it sees that enqueue's envelopes.
	 */
	async deleteUser(username: string): Promise<void> {
		await atomic(this.db, async db => {
			await db.query('delete from delivery_counters where recipient = $1', [username]);
			await db.query('delete from queue where recipient = $1', [username]);
			await db.query('delete from contacts where owner = $1', [username]);
			await db.query('delete from contacts where contact = $1', [username]);
			await deletePrekeysOf(db, username);
			await this.deleteInvites(db, username);
			await db.query('delete from users where username = $1', [username]);
		});
	}

	async contactNames(owner: string, limit: number): Promise<string[]> {
		const {rows} = await this.db.query<{contact: string}>(
			'select contact from contacts join users on username = contact where owner = $1 order by contact limit $2',
			[owner, limit],
		);
		return rows.map(row => row.contact);
	}

	async contactCounts(owner: string): Promise<{chosen: number; inbound: number}> {
		const {rows} = await this.db.query<{chosen: number; inbound: number}>(
			'select (count(*) filter (where chosen))::int as chosen, (count(*) filter (where not chosen))::int as inbound from contacts where owner = $1',
			[owner],
		);
		return rows[0] ?? {chosen: 0, inbound: 0};
	}

	async contactKind(owner: string, contact: string): Promise<ContactKind | undefined> {
		const {rows} = await this.db.query<{chosen: boolean}>('select chosen from contacts where owner = $1 and contact = $2', [owner, contact]);
		const row = rows[0];
		return row === undefined ? undefined : row.chosen ? 'chosen' : 'inbound';
	}

	async addContact(owner: string, contact: string, kind: ContactKind, time: number): Promise<boolean> {
		const {rowCount} = await this.db.query(
			'insert into contacts (owner, contact, chosen, added_at) values ($1, $2, $3, $4) on conflict do nothing',
			[owner, contact, kind === 'chosen', time],
		);
		return rowCount === 1;
	}

	async chooseContact(owner: string, contact: string): Promise<boolean> {
		const {rowCount} = await this.db.query('update contacts set chosen = true where owner = $1 and contact = $2 and not chosen', [owner, contact]);
		return rowCount === 1;
	}

	/** One statement; of two evictions at once, each takes a different edge (skip locked). */
	async evictOldestInbound(owner: string): Promise<string | undefined> {
		const {rows} = await this.db.query<{contact: string}>(
			`delete from contacts where (owner, contact) = (
				select owner, contact from contacts where owner = $1 and not chosen order by added_at, contact limit 1 for update skip locked
			) returning contact`,
			[owner],
		);
		return rows[0]?.contact;
	}

	async watchers(contact: string, limit: number): Promise<string[]> {
		const {rows} = await this.db.query<{owner: string}>('select owner from contacts where contact = $1 limit $2', [contact, limit]);
		return rows.map(row => row.owner);
	}
}
