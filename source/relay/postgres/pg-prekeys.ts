import type {OneTimePrekey, PrekeyCount, SignedPrekey} from '../../net/messages.js';
import type {AsyncRelayStore} from '../async-store.js';
import type {ClaimedBundle} from '../relay-store.js';
import {prepared} from './pg-statement.js';
import {atomic} from './pg-transaction.js';
import type {Queryable} from './queryable.js';

export const prekeyMethods = ['prekeyCount', 'savePrekeys', 'claimBundle'] as const satisfies ReadonlyArray<keyof AsyncRelayStore>;

type PrekeyMethods = Pick<AsyncRelayStore, (typeof prekeyMethods)[number]>;

/** The first key of the two-number advisory locks that serialize one user's prekey saves (the second: the name's hash). */
const prekeyLockClass = 0x696d_7450;

const lockUserPrekeys = prepared('lock_prekeys', `select pg_advisory_xact_lock(${prekeyLockClass}, hashtext($1))`);
const upsertSigned = prepared(
	'save_signed_prekey',
	`insert into signed_prekeys (username, id, key, signature) values ($1, $2, $3, $4)
	on conflict (username) do update set id = excluded.id, key = excluded.key, signature = excluded.signature`,
);
/** The ones given whose id is not held, in the order given, while the pool holds fewer than $4. */
const insertOneTime = prepared(
	'save_one_time_prekeys',
	`insert into one_time_prekeys (username, id, key)
	select $1, given.id, given.key from unnest($2::bigint[], $3::text[]) with ordinality as given (id, key, n)
	where not exists (select 1 from one_time_prekeys held where held.username = $1 and held.id = given.id)
	order by given.n
	limit greatest(0, $4::bigint - (select count(*) from one_time_prekeys where username = $1))`,
);
const countPrekeys = prepared(
	'prekey_count',
	`select (select count(*) from one_time_prekeys where username = $1)::int as "oneTime",
		(select id from signed_prekeys where username = $1) as signed`,
);
/**
 * The signed prekey and, if $2 and the user has a signed one, the one-time prekey of the lowest id
 * not being claimed by another transaction, deleted (skip locked: of claims from several relays at
 * once, each gets a different key or none, never one twice). `remaining` counts from the
 * statement's snapshot, less the one taken.
 */
const claim = prepared(
	'claim_bundle',
	`with signed as (
		select id, key, signature from signed_prekeys where username = $1
	), taken as (
		delete from one_time_prekeys where $2::boolean and exists (select 1 from signed) and (username, id) = (
			select username, id from one_time_prekeys where username = $1 order by id limit 1 for update skip locked
		) returning id, key
	)
	select signed.id, signed.key, signed.signature, taken.id as "oneTimeId", taken.key as "oneTimeKey",
		((select count(*) from one_time_prekeys where username = $1) - (select count(*) from taken))::int as remaining
	from signed left join taken on true`,
);
const deleteSigned = prepared('delete_signed_prekey', 'delete from signed_prekeys where username = $1');
const deleteOneTime = prepared('delete_one_time_prekeys', 'delete from one_time_prekeys where username = $1');

/** Inside the caller's transaction (deleteUser). */
export async function deletePrekeysOf(db: Queryable, username: string): Promise<void> {
	await db.query(deleteSigned([username]));
	await db.query(deleteOneTime([username]));
}

type ClaimRow = {id: number; key: string; signature: string; oneTimeId: number | null; oneTimeKey: string | null; remaining: number};

/** The prekey tables (PROTOCOL.md section 4.4): every read a point read or a range of at most one user's pool. */
export class PgPrekeys implements PrekeyMethods {
	constructor(private readonly db: Queryable) {}

	async prekeyCount(username: string): Promise<PrekeyCount> {
		return count(this.db, username);
	}

	/**
	 * In one transaction, under a lock of the user's (two relays saving for one user at once still
	 * keep the pool under `maxOneTime`): the signed prekey replaced, then the one-time prekeys whose
	 * id is not held, in the order given, while the pool holds fewer than `maxOneTime`.
	 */
	async savePrekeys(username: string, signed: SignedPrekey | undefined, oneTime: readonly OneTimePrekey[], maxOneTime: number): Promise<PrekeyCount> {
		return atomic(this.db, async db => {
			await db.query(lockUserPrekeys([username]));
			if (signed !== undefined) await db.query(upsertSigned([username, signed.id, signed.key, signed.signature]));
			const fresh = firstOfEachId(oneTime);
			if (fresh.length > 0) await db.query(insertOneTime([username, fresh.map(prekey => prekey.id), fresh.map(prekey => prekey.key), maxOneTime]));
			return count(db, username);
		});
	}

	/** One statement (claim): atomic on its own, and never hands one key to two claims. */
	async claimBundle(username: string, oneTime: boolean): Promise<ClaimedBundle | undefined> {
		const {rows} = await this.db.query<ClaimRow>(claim([username, oneTime]));
		const row = rows[0];
		if (row === undefined) return undefined;
		return {
			signed: {id: row.id, key: row.key, signature: row.signature},
			oneTime: row.oneTimeId === null || row.oneTimeKey === null ? null : {id: row.oneTimeId, key: row.oneTimeKey},
			remaining: row.remaining,
		};
	}
}

async function count(db: Queryable, username: string): Promise<PrekeyCount> {
	const {rows} = await db.query<PrekeyCount>(countPrekeys([username]));
	return rows[0] ?? {oneTime: 0, signed: null};
}

/** SQLite adds the first of two prekeys of one id and skips the second; so does the one insert here. */
function firstOfEachId(prekeys: readonly OneTimePrekey[]): OneTimePrekey[] {
	const seen = new Set<number>();
	return prekeys.filter(prekey => {
		if (seen.has(prekey.id)) return false;
		seen.add(prekey.id);
		return true;
	});
}
