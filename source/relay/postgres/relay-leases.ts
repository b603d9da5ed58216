import {performance} from 'node:perf_hooks';
import type pg from 'pg';
import {silentLogger, type Logger} from '../logger.js';
import {checkRelayId, serviceChannel} from './cluster-names.js';
import {ensureClusterSchema, inTransaction} from './cluster-db.js';
import type {Queryable} from './queryable.js';
import {Wakeups} from './wakeups.js';

/**
 * Why a relay no longer holds its lease:
 * - expired: its lease ran out before it renewed (the row is still there, no relay reaped it yet);
 * - reaped: a live relay found it expired and removed it, and its sessions;
 * - replaced: a newer relay holds the same id;
 * - unconfirmed: no renewal reached PostgreSQL for a whole lease, so by the server's clock it has run out too.
 * Whatever the reason, the relay must end its sessions: other relays may take its users over.
 */
export type LeaseLoss = 'expired' | 'reaped' | 'replaced' | 'unconfirmed';

export type LeaseOptions = {
	/** How long a lease lasts unless renewed (renewed every third of it). */
	leaseMs: number;
	log?: Logger;
	/** Told once, when the lease is found lost. */
	onLost?: (reason: LeaseLoss) => void;
};

/** A bounded list: expired() gives at most this many relays at a time. */
const maxExpiredListed = 1000;

/**
 * A relay's row in `relays`: while it renews the row in time, other relays count it alive and
 * leave its sessions alone. Times are the server's (now()), never the relay's clock. A relay
 * that stops renewing (it died, or lost PostgreSQL for longer than a lease) is expired; a live
 * relay reaps it: its row and its sessions deleted in one transaction, its users announced offline.
 */
export class RelayLease {
	/**
	 * Takes the lease of `relayId`. If a relay of that id is alive, refuses (two relays must not
	 * share an id); if an earlier run of it left an expired row, reaps it first: the users it had
	 * are in `previousUsers`, announced offline on the service channel.
	 */
	static async acquire(pool: pg.Pool, relayId: string, options: LeaseOptions): Promise<RelayLease> {
		checkRelayId(relayId);
		if (!Number.isInteger(options.leaseMs) || options.leaseMs < 30 || options.leaseMs > 3_600_000) {
			throw new RangeError(`a lease lasts 30 ms to an hour (got ${String(options.leaseMs)})`);
		}
		await ensureClusterSchema(pool);
		const sentAt = performance.now();
		const {startedAt, previousUsers} = await inTransaction(pool, async tx => {
			const reaped = await reapExpired(tx, relayId);
			const {rows} = await tx.query<{started_at: string}>(
				`insert into relays (id, started_at, expires_at) values ($1, now(), now() + $2 * interval '1 millisecond')
				on conflict (id) do nothing returning started_at::text`,
				[relayId, options.leaseMs],
			);
			if (rows[0] === undefined) {
				const held = await tx.query<{left_ms: number}>(
					'select ceil(extract(epoch from expires_at - now()) * 1000)::float8 as left_ms from relays where id = $1',
					[relayId],
				);
				throw new Error(`relay id "${relayId}" is held by a running relay (its lease ends in ${held.rows[0]?.left_ms ?? 0} ms): give each relay its own id`);
			}
			return {startedAt: rows[0].started_at, previousUsers: reaped ?? []};
		});
		const lease = new RelayLease(pool, relayId, startedAt, previousUsers, options);
		lease.confirmed(sentAt);
		lease.schedule();
		return lease;
	}

	readonly relayId: string;
	readonly leaseMs: number;
	/** Users an earlier run of this relay id left logged in (its row had expired): announced offline already. */
	readonly previousUsers: readonly string[];
	private readonly pool: pg.Pool;
	/** This run's mark: a row of the same id with another start is a newer relay's. */
	private readonly startedAt: string;
	private readonly log: Logger;
	private readonly onLost: ((reason: LeaseLoss) => void) | undefined;
	private renewTimer: NodeJS.Timeout | undefined;
	private deadline: NodeJS.Timeout | undefined;
	private lostReason: LeaseLoss | undefined;
	private stopped = false;

	private constructor(pool: pg.Pool, relayId: string, startedAt: string, previousUsers: string[], options: LeaseOptions) {
		this.pool = pool;
		this.relayId = relayId;
		this.startedAt = startedAt;
		this.previousUsers = previousUsers;
		this.leaseMs = options.leaseMs;
		this.log = options.log ?? silentLogger;
		this.onLost = options.onLost;
	}

	/** Why the lease was lost; undefined while it is held (as far as the last renewal knows). */
	get lost(): LeaseLoss | undefined {
		return this.lostReason;
	}

	/**
	 * Extends the lease by leaseMs from the server's now; what the timer calls every third of a
	 * lease. True if held; false once lost (onLost told the reason). A failure to reach PostgreSQL
	 * rejects and changes nothing: the local deadline decides when that becomes a loss.
	 */
	async renew(): Promise<boolean> {
		if (this.lostReason !== undefined) return false;
		const sentAt = performance.now();
		const {rows} = await this.pool.query(
			`update relays set expires_at = now() + $3 * interval '1 millisecond'
			where id = $1 and started_at = $2::timestamptz and expires_at > now() returning 1`,
			[this.relayId, this.startedAt, this.leaseMs],
		);
		if (this.lostReason !== undefined) return false;
		if (rows.length === 1) {
			this.confirmed(sentAt);
			return true;
		}
		const found = await this.pool.query<{mine: boolean}>('select started_at = $2::timestamptz as mine from relays where id = $1', [this.relayId, this.startedAt]);
		const row = found.rows[0];
		this.lose(row === undefined ? 'reaped' : row.mine ? 'expired' : 'replaced');
		return false;
	}

	/** Relays whose lease ran out (by the server's clock), longest expired first; at most `limit`. */
	async expired(limit = 100): Promise<string[]> {
		const bounded = Math.max(1, Math.min(maxExpiredListed, Math.floor(limit)));
		const {rows} = await this.pool.query<{id: string}>('select id from relays where expires_at <= now() order by expires_at limit $1', [bounded]);
		return rows.map(row => row.id);
	}

	/**
	 * Reaps a relay whose lease ran out: deletes its row and its sessions in one transaction,
	 * announces its users offline on the service channel in the same transaction, and returns them.
	 * Undefined if this relay did not reap it: another relay did first, it renewed meanwhile, or
	 * this relay's own lease is not live (a relay that may be cut off reaps no one).
	 */
	async reap(relayId: string): Promise<string[] | undefined> {
		checkRelayId(relayId);
		if (relayId === this.relayId || this.lostReason !== undefined) return undefined;
		return inTransaction(this.pool, async tx => {
			const own = await tx.query(
				'select 1 from relays where id = $1 and started_at = $2::timestamptz and expires_at > now() for key share',
				[this.relayId, this.startedAt],
			);
			if (own.rows.length === 0) return undefined;
			const usernames = await reapExpired(tx, relayId);
			if (usernames !== undefined) this.log('relay_reaped', {relay: relayId, users: usernames.length});
			return usernames;
		});
	}

	/** Stops the timers and writes nothing: what a relay that dies looks like to the others (and what close does before release). */
	stopRenewing(): void {
		this.stopped = true;
		clearTimeout(this.renewTimer);
		clearTimeout(this.deadline);
	}

	/**
	 * A relay shutting down, or one that lost its lease and will take a new one: deletes this run's
	 * row and sessions (if they are still this run's) and announces its users offline; returns them.
	 */
	async release(): Promise<string[]> {
		this.stopRenewing();
		return inTransaction(this.pool, async tx => {
			const {rows} = await tx.query('delete from relays where id = $1 and started_at = $2::timestamptz returning 1', [this.relayId, this.startedAt]);
			if (rows.length === 0) return [];
			return deleteSessions(tx, this.relayId);
		});
	}

	private schedule(): void {
		if (this.stopped || this.lostReason !== undefined) return;
		this.renewTimer = setTimeout(() => {
			this.renew().then(
				() => this.schedule(),
				(error: Error & {code?: string}) => {
					this.log('lease_renew_failed', {relay: this.relayId, error: error.message, code: error.code});
					this.schedule();
				},
			);
		}, Math.max(1, Math.floor(this.leaseMs / 3)));
		this.renewTimer.unref();
	}

	/** A renewal sent at `sentAt` (this process's clock) succeeded: the server's lease runs at least until sentAt + leaseMs. */
	private confirmed(sentAt: number): void {
		clearTimeout(this.deadline);
		if (this.stopped) return;
		this.deadline = setTimeout(() => this.lose('unconfirmed'), Math.max(0, sentAt + this.leaseMs - performance.now()));
		this.deadline.unref();
	}

	private lose(reason: LeaseLoss): void {
		if (this.lostReason !== undefined) return;
		this.lostReason = reason;
		clearTimeout(this.renewTimer);
		clearTimeout(this.deadline);
		this.log('lease_lost', {relay: this.relayId, reason});
		try {
			this.onLost?.(reason);
		} catch (error) {
			this.log('lease_lost_handler_failed', {relay: this.relayId, error: error instanceof Error ? error.message : String(error)});
		}
	}
}

/**
 * Deletes `relayId`'s row if its lease ran out, then its sessions, announcing their users offline.
 * `delete ... returning` decides between relays reaping at once: one gets the row, the other
 * waits for its commit and finds none. Undefined if there was no expired row.
 */
async function reapExpired(tx: Queryable, relayId: string): Promise<string[] | undefined> {
	const {rows} = await tx.query('delete from relays where id = $1 and expires_at <= now() returning 1', [relayId]);
	if (rows.length === 0) return undefined;
	return deleteSessions(tx, relayId);
}

/** All of a relay's sessions: as many as it had connections, which its connection limit bounds. */
async function deleteSessions(tx: Queryable, relayId: string): Promise<string[]> {
	const {rows} = await tx.query<{username: string}>('delete from sessions where relay = $1 returning username', [relayId]);
	const usernames = rows.map(row => row.username).sort();
	await Wakeups.notify(tx, serviceChannel, {type: 'offline', names: usernames});
	return usernames;
}
