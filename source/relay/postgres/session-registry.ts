import type pg from 'pg';
import {checkConnectionId, checkName, checkRelayId, relayChannel} from './cluster-names.js';
import {ensureClusterSchema, inTransaction} from './cluster-db.js';
import type {Queryable} from './queryable.js';
import {Wakeups} from './wakeups.js';

/** A username's one session: the relay and the connection on it that hold the name, and how many claims the row has seen. */
export type ClusterSession = {relay: string; connection: string; generation: number};

/** relayOf and onRelay answer at most this many names at a time. */
export const maxNamesAsked = 1000;

/** Claims retried this many times when a release slips between the insert and the update (each retry means another relay changed the row). */
const claimAttempts = 5;

/**
 * Which relay and connection hold each logged-in username, for the whole service: a login on one
 * relay ends the session on another. Every read is a point read or a bounded range of an index.
 */
export class SessionRegistry {
	static async open(pool: pg.Pool): Promise<SessionRegistry> {
		await ensureClusterSchema(pool);
		return new SessionRegistry(pool);
	}

	private constructor(private readonly pool: pg.Pool) {}

	/**
	 * Makes this connection `username`'s one session and returns the session it replaced, if any,
	 * after telling that session's relay (a `replaced` wake-up to its channel, in the same
	 * transaction: sent only if the claim commits, also when it is this relay). Two claims racing
	 * for one name both succeed, one after the other: the first is the one replaced. The claiming
	 * relay must hold a live lease (RelayLease): a relay whose lease ran out claims nothing, so a
	 * reaped relay leaves no session behind. `also` runs in the claiming transaction, last (an announcement).
	 */
	async claim(username: string, relayId: string, connectionId: string, also?: (tx: Queryable) => Promise<void>): Promise<ClusterSession | undefined> {
		checkName(username);
		checkRelayId(relayId);
		checkConnectionId(connectionId);
		return inTransaction(this.pool, async tx => {
			// Key share: the lease can still be renewed, but not deleted (reaped) until this commits.
			const lease = await tx.query('select 1 from relays where id = $1 and expires_at > now() for key share', [relayId]);
			if (lease.rows.length === 0) throw new Error(`relay "${relayId}" holds no live lease: it may not claim sessions`);
			for (let attempt = 0; attempt < claimAttempts; attempt++) {
				const inserted = await tx.query(
					'insert into sessions (username, relay, connection, generation) values ($1, $2, $3, 1) on conflict (username) do nothing returning 1',
					[username, relayId, connectionId],
				);
				if (inserted.rows.length === 1) {
					await also?.(tx);
					return undefined;
				}
				const replaced = await replace(tx, username, relayId, connectionId);
				if (replaced === 'gone') continue;
				if (replaced !== undefined) {
					await Wakeups.notify(tx, relayChannel(replaced.relay), {type: 'replaced', username, connection: replaced.connection});
				}
				await also?.(tx);
				return replaced;
			}
			throw new Error(`the session of "${username}" changed ${claimAttempts} times during one claim`);
		});
	}

	/**
	 * Ends `username`'s session if it is still this one (a replaced session's release leaves its
	 * successor alone). True if it was; then `also` runs in the same transaction (an announcement).
	 */
	async release(username: string, relayId: string, connectionId: string, also?: (tx: Queryable) => Promise<void>): Promise<boolean> {
		checkName(username);
		checkRelayId(relayId);
		checkConnectionId(connectionId);
		return inTransaction(this.pool, async tx => {
			const {rows} = await tx.query('delete from sessions where username = $1 and relay = $2 and connection = $3 returning 1', [
				username,
				relayId,
				connectionId,
			]);
			if (rows.length === 1) await also?.(tx);
			return rows.length === 1;
		});
	}

	/** The session of `username`, if it has one. */
	async session(username: string): Promise<ClusterSession | undefined> {
		checkName(username);
		const {rows} = await this.pool.query<{relay: string; connection: string; generation: string}>(
			'select relay, connection, generation from sessions where username = $1',
			[username],
		);
		const row = rows[0];
		return row === undefined ? undefined : {relay: row.relay, connection: row.connection, generation: Number(row.generation)};
	}

	/** For routing: which relay each of these users is logged in on (those logged in nowhere are absent). At most maxNamesAsked names. */
	async relayOf(usernames: readonly string[]): Promise<Map<string, string>> {
		if (usernames.length > maxNamesAsked) throw new RangeError(`relayOf takes at most ${maxNamesAsked} names at a time (got ${usernames.length})`);
		const names = [...new Set(usernames.map(checkName))];
		if (names.length === 0) return new Map();
		const {rows} = await this.pool.query<{username: string; relay: string}>('select username, relay from sessions where username = any($1::text[])', [names]);
		return new Map(rows.map(row => [row.username, row.relay]));
	}

	/** The users logged in on `relayId`, in name order after `after`, at most `limit` (≤ maxNamesAsked) at a time. */
	async onRelay(relayId: string, {after = '', limit = maxNamesAsked}: {after?: string; limit?: number} = {}): Promise<string[]> {
		checkRelayId(relayId);
		if (after !== '') checkName(after);
		const bounded = Math.max(1, Math.min(maxNamesAsked, Math.floor(limit)));
		const {rows} = await this.pool.query<{username: string}>(
			'select username from sessions where relay = $1 and username > $2 order by username limit $3',
			[relayId, after, bounded],
		);
		return rows.map(row => row.username);
	}
}

/**
 * Moves the existing row to this connection and returns what it held; undefined if it was this
 * connection already, 'gone' if it was released meanwhile (the caller inserts again). The row
 * lock (`for update`) makes a racing claim wait for this one's commit and then replace it.
 */
async function replace(tx: Queryable, username: string, relayId: string, connectionId: string): Promise<ClusterSession | undefined | 'gone'> {
	const {rows} = await tx.query<{relay: string; connection: string; generation: string}>(
		'select relay, connection, generation from sessions where username = $1 for update',
		[username],
	);
	const old = rows[0];
	if (old === undefined) return 'gone';
	if (old.relay === relayId && old.connection === connectionId) return undefined;
	await tx.query('update sessions set relay = $2, connection = $3, generation = generation + 1 where username = $1', [username, relayId, connectionId]);
	return {relay: old.relay, connection: old.connection, generation: Number(old.generation)};
}
