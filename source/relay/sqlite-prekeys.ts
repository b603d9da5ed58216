import type Database from 'better-sqlite3-multiple-ciphers';
import type {OneTimePrekey, PrekeyCount, SignedPrekey} from '../net/messages.js';
import type {ClaimedBundle} from './relay-store.js';

const schema = `
create table if not exists signed_prekeys (
	username text primary key,
	id integer not null,
	key text not null,
	signature text not null
) strict;
create table if not exists one_time_prekeys (
	username text not null,
	id integer not null,
	key text not null,
	primary key (username, id)
) strict, without rowid;
`;

/** The relay's prekey tables (PROTOCOL.md section 4.4): every read a point read or a range of at most one user's pool. */
export type PrekeyTables = {
	count(username: string): PrekeyCount;
	save(username: string, signed: SignedPrekey | undefined, oneTime: readonly OneTimePrekey[], maxOneTime: number): PrekeyCount;
	claim(username: string, oneTime: boolean): ClaimedBundle | undefined;
	/** Inside the caller's transaction (deleteUser). */
	deleteFor(username: string): void;
};

export function prekeyTables(db: Database.Database): PrekeyTables {
	db.exec(schema);
	const selectSigned = db.prepare('select id, key, signature from signed_prekeys where username = ?');
	const selectSignedId = db.prepare('select id from signed_prekeys where username = ?').pluck();
	const countOneTime = db.prepare('select count(*) from one_time_prekeys where username = ?').pluck();
	const upsertSigned = db.prepare(
		'insert into signed_prekeys (username, id, key, signature) values (?, ?, ?, ?) on conflict (username) do update set id = excluded.id, key = excluded.key, signature = excluded.signature',
	);
	const insertOneTime = db.prepare('insert into one_time_prekeys (username, id, key) values (?, ?, ?) on conflict do nothing');
	const deleteFirstOneTime = db.prepare(
		'delete from one_time_prekeys where username = ? and id = (select min(id) from one_time_prekeys where username = ?) returning id, key',
	);
	const deleteSigned = db.prepare('delete from signed_prekeys where username = ?');
	const deleteOneTime = db.prepare('delete from one_time_prekeys where username = ?');

	const count = (username: string): PrekeyCount => ({
		oneTime: countOneTime.get(username) as number,
		signed: (selectSignedId.get(username) as number | undefined) ?? null,
	});
	const save = db.transaction((username: string, signed: SignedPrekey | undefined, oneTime: readonly OneTimePrekey[], maxOneTime: number) => {
		if (signed !== undefined) upsertSigned.run(username, signed.id, signed.key, signed.signature);
		let held = countOneTime.get(username) as number;
		for (const prekey of oneTime) {
			if (held >= maxOneTime) break;
			held += insertOneTime.run(username, prekey.id, prekey.key).changes;
		}
		return count(username);
	});
	const claim = db.transaction((username: string, oneTime: boolean): ClaimedBundle | undefined => {
		const signed = selectSigned.get(username) as SignedPrekey | undefined;
		if (signed === undefined) return undefined;
		const taken = oneTime ? ((deleteFirstOneTime.get(username, username) as OneTimePrekey | undefined) ?? null) : null;
		return {signed: {id: signed.id, key: signed.key, signature: signed.signature}, oneTime: taken && {id: taken.id, key: taken.key}, remaining: countOneTime.get(username) as number};
	});
	return {
		count,
		save: (username, signed, oneTime, maxOneTime) => save(username, signed, oneTime, maxOneTime),
		claim: (username, oneTime) => claim(username, oneTime),
		deleteFor(username) {
			deleteSigned.run(username);
			deleteOneTime.run(username);
		},
	};
}
