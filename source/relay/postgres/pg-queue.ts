import type {DeliveredEnvelope, EnvelopeKind} from '../../net/messages.js';
import type {AsyncRelayStore, EnqueuedEnvelope} from '../async-store.js';
import {storedRowOverhead, type QueueSnapshot} from '../queue-ledger.js';
import type {NewEnvelope} from '../relay-store.js';
import {StoreError} from './pg-errors.js';
import {prepared} from './pg-statement.js';
import type {Queryable} from './queryable.js';

export const queueMethods = ['enqueue', 'queued', 'queueTotals', 'ack', 'purgeOlderThan'] as const satisfies ReadonlyArray<keyof AsyncRelayStore>;

type QueueMethods = Pick<AsyncRelayStore, (typeof queueMethods)[number]>;

/** The same sum as storedBytes() in queue-ledger.ts (and sqlite-store.ts): every column here is ASCII, so characters are bytes. */
const storedExpression = `char_length(body) + 2 * char_length(id) + char_length(ephemeral) + coalesce(char_length(ratchet), 0) + ${storedRowOverhead}`;

type QueueRow = {
	delivery: number;
	recipient: string;
	sender: string;
	id: string;
	kind: EnvelopeKind;
	/** '' in a row of a ratchet envelope. */
	ephemeral: string;
	ratchet: string | null;
	body: string;
	time: number;
};

const queueColumns = 'delivery, recipient, sender, id, kind, ephemeral, ratchet, body, time';

/**
 * One statement, atomic on its own: each recipient's counter bumped by its count of new envelopes
 * (rows locked in the sorted order given, so that two relays' enqueues cannot deadlock; held to
 * the commit, so per recipient numbers commit in order), each envelope numbered after its
 * recipient's last in the order given, all inserted at once; for each, whether it was stored and
 * the number of a copy queued before this statement began (what a resend is answered with).
 */
const insertEnvelopesText = (woken: string, joinWoken: string): string => `with counted as (
		insert into delivery_counters (recipient, last)
		select recipient, count from unnest($1::text[], $2::bigint[]) with ordinality as wanted (recipient, count, n) order by n
		on conflict (recipient) do update set last = delivery_counters.last + excluded.last
		returning recipient, last
	), given as (
		select * from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[])
			with ordinality as given (recipient, sender, id, kind, ephemeral, ratchet, body, time, n)
	), numbered as (
		select given.*, counted.last - count(*) over mine + row_number() over (mine order by given.n) as delivery
		from given join counted using (recipient)
		window mine as (partition by given.recipient)
	), stored as (
		insert into queue (${queueColumns})
		select ${queueColumns} from numbered order by n
		on conflict (sender, id, recipient) do nothing
		returning recipient, delivery
	)${woken}
	select numbered.delivery, stored.delivery is not null as stored, queued.delivery as "queuedCopy"
	from numbered${joinWoken}
	left join stored using (recipient, delivery)
	left join queue queued on queued.sender = numbered.sender and queued.id = numbered.id and queued.recipient = numbered.recipient
	order by numbered.n`;

const insertEnvelopes = prepared('enqueue', insertEnvelopesText('', ''));

/**
 * The same, for a relay of a cluster ($11: its id): the recipients logged in on other relays
 * (the cluster's `sessions`, a point read of each) are woken in the same statement, so the wake-up
 * goes out exactly when the envelopes commit: a `queued` wake-up (wakeup-payloads.ts) on each
 * such relay's channel, at most 100 names a payload (under NOTIFY's 8000 bytes).
 */
const insertEnvelopesWaking = prepared(
	'enqueue_waking',
	insertEnvelopesText(
		`, woken as (
		select pg_notify('im_tui_relay_' || relay, json_build_object('type', 'queued', 'names', json_agg(username order by username))::text)
		from (
			select relay, username, (row_number() over (partition by relay order by username) - 1) / 100 as chunk
			from sessions where username = any($1::text[]) and relay <> $11
		) elsewhere
		group by relay, chunk
	)`,
		`
	cross join (select count(*) from woken) as notified`,
	),
);

/** The copies of resends whose first copy the enqueue statement could not see yet (another relay's, committed while it waited). */
const selectCopies = prepared(
	'queued_copies',
	`select sender, id, recipient, delivery from queue
	where (sender, id, recipient) in (select * from unnest($1::text[], $2::text[], $3::text[]))`,
);

const selectQueued = prepared('queued', `select ${queueColumns} from queue where recipient = $1 and delivery > $2 order by delivery limit $3`);

const selectTotals = prepared(
	'queue_totals',
	`select recipient, sender, count(*)::int as count, sum(${storedExpression})::bigint as bytes from queue group by recipient, sender`,
);

const deleteAcked = prepared(
	'ack',
	`delete from queue where recipient = $1 and delivery = any($2::bigint[]) returning sender, (${storedExpression})::bigint as bytes`,
);

const deleteOlder = prepared('purge_queue', 'delete from queue where time < $1');

/** An envelope's identity: a resend has the same one. */
const resendKey = (from: string, id: string, to: string): string => JSON.stringify([from, id, to]);

/** The queue of end-to-end envelopes, numbered per recipient by delivery_counters. */
export class PgQueue implements QueueMethods {
	constructor(private readonly db: Queryable) {}

	/** One statement (insertEnvelopes); a resend may leave a gap in its recipient's numbers: readers skip gaps. */
	async enqueue(envelopes: ReadonlyArray<NewEnvelope & {delivery?: number}>, wake?: {relayId: string}): Promise<EnqueuedEnvelope[]> {
		for (const envelope of envelopes) {
			if (envelope.delivery !== undefined) {
				throw new StoreError(
					`enqueue: an envelope came with delivery number ${envelope.delivery}, but a PostgreSQL store numbers envelopes itself (relays share it: takeDelivery is SQLite's only)`,
					'delivery_given',
				);
			}
		}
		if (envelopes.length === 0) return [];
		// Each envelope's place among the distinct ones: a resend within the call is answered as the first.
		const places = new Map<string, number>();
		const distinct: NewEnvelope[] = [];
		const firstIndex: number[] = [];
		const placeOf = envelopes.map((envelope, index) => {
			const key = resendKey(envelope.from, envelope.id, envelope.to);
			let place = places.get(key);
			if (place === undefined) {
				place = distinct.push(envelope) - 1;
				firstIndex.push(index);
				places.set(key, place);
			}
			return place;
		});
		const counts = new Map<string, number>();
		for (const envelope of distinct) counts.set(envelope.to, (counts.get(envelope.to) ?? 0) + 1);
		const recipients = [...counts.keys()].sort();
		const statement = wake === undefined ? insertEnvelopes : insertEnvelopesWaking;
		const {rows} = await this.db.query<{delivery: number; stored: boolean; queuedCopy: number | null}>(
			statement([
				recipients,
				recipients.map(recipient => counts.get(recipient)!),
				distinct.map(envelope => envelope.to),
				distinct.map(envelope => envelope.from),
				distinct.map(envelope => envelope.id),
				distinct.map(envelope => envelope.kind),
				distinct.map(envelope => envelope.ephemeral ?? ''),
				distinct.map(envelope => envelope.ratchet ?? null),
				distinct.map(envelope => envelope.body),
				distinct.map(envelope => envelope.time),
				...(wake === undefined ? [] : [wake.relayId]),
			]),
		);
		const unseen = distinct.filter((_, place) => !rows[place]!.stored && rows[place]!.queuedCopy === null);
		const copies = await this.queuedCopies(unseen);
		const answers = rows.map(({delivery, stored, queuedCopy}, place): EnqueuedEnvelope => {
			if (stored) return {delivery, stored};
			const envelope = distinct[place]!;
			return {delivery: queuedCopy ?? copies.get(resendKey(envelope.from, envelope.id, envelope.to)) ?? delivery, stored};
		});
		return placeOf.map((place, index) => (index === firstIndex[place] ? answers[place]! : {delivery: answers[place]!.delivery, stored: false}));
	}

	private async queuedCopies(resent: readonly NewEnvelope[]): Promise<Map<string, number>> {
		if (resent.length === 0) return new Map();
		const {rows} = await this.db.query<{sender: string; id: string; recipient: string; delivery: number}>(
			selectCopies([resent.map(envelope => envelope.from), resent.map(envelope => envelope.id), resent.map(envelope => envelope.to)]),
		);
		return new Map(rows.map(row => [resendKey(row.sender, row.id, row.recipient), row.delivery]));
	}

	async queued(recipient: string, after: number, limit: number): Promise<DeliveredEnvelope[]> {
		const {rows} = await this.db.query<QueueRow>(selectQueued([recipient, after, limit]));
		return rows.map(row => ({
			delivery: row.delivery,
			from: row.sender,
			to: row.recipient,
			id: row.id,
			kind: row.kind,
			...(row.ratchet === null ? {ephemeral: row.ephemeral} : {ratchet: row.ratchet}),
			body: row.body,
			time: row.time,
		}));
	}

	/** Reads the whole queue, grouped: for the ledger at start and after a bulk delete, as SQLite's. */
	async queueTotals(): Promise<QueueSnapshot> {
		const {rows} = await this.db.query<QueueSnapshot[number]>(selectTotals());
		return rows;
	}

	async ack(recipient: string, deliveries: readonly number[]): Promise<Array<{sender: string; bytes: number}>> {
		if (deliveries.length === 0) return [];
		const {rows} = await this.db.query<{sender: string; bytes: number}>(deleteAcked([recipient, deliveries]));
		return rows;
	}

	async purgeOlderThan(time: number): Promise<number> {
		const {rowCount} = await this.db.query(deleteOlder([time]));
		return rowCount ?? 0;
	}
}
