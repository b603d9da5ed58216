import type {DeliveredEnvelope, EnvelopeKind} from '../../net/messages.js';
import type {AsyncRelayStore, EnqueuedEnvelope} from '../async-store.js';
import {storedRowOverhead, type QueueSnapshot} from '../queue-ledger.js';
import type {NewEnvelope} from '../relay-store.js';
import {StoreError} from './pg-errors.js';
import {atomic} from './pg-transaction.js';
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

/** An envelope's identity: a resend has the same one. */
const resendKey = (from: string, id: string, to: string): string => JSON.stringify([from, id, to]);

/** The queue of end-to-end envelopes, numbered per recipient by delivery_counters. */
export class PgQueue implements QueueMethods {
	constructor(private readonly db: Queryable) {}

	/**
	 * In one transaction: each recipient's counter bumped by its count of new envelopes (rows
	 * locked in sorted order, so that two relays' enqueues cannot deadlock; held to the commit, so
	 * per recipient numbers commit in order), one insert of them all, and a read of the queued
	 * copy's number for each resend. A resend may leave a gap in the numbers: readers skip gaps.
	 */
	async enqueue(envelopes: ReadonlyArray<NewEnvelope & {delivery?: number}>): Promise<EnqueuedEnvelope[]> {
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

		const answers = await atomic(this.db, async db => {
			const {rows: counters} = await db.query<{recipient: string; last: number}>(
				`insert into delivery_counters (recipient, last)
				select recipient, count from unnest($1::text[], $2::bigint[]) with ordinality as given (recipient, count, n) order by n
				on conflict (recipient) do update set last = delivery_counters.last + excluded.last
				returning recipient, last`,
				[recipients, recipients.map(recipient => counts.get(recipient)!)],
			);
			const next = new Map(counters.map(({recipient, last}) => [recipient, last - counts.get(recipient)! + 1]));
			const numbers = distinct.map(envelope => {
				const delivery = next.get(envelope.to)!;
				next.set(envelope.to, delivery + 1);
				return delivery;
			});
			const {rows: inserted} = await db.query<{recipient: string; delivery: number}>(
				`insert into queue (recipient, delivery, sender, id, kind, ephemeral, ratchet, body, time)
				select * from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])
				on conflict (sender, id, recipient) do nothing
				returning recipient, delivery`,
				[
					distinct.map(envelope => envelope.to),
					numbers,
					distinct.map(envelope => envelope.from),
					distinct.map(envelope => envelope.id),
					distinct.map(envelope => envelope.kind),
					distinct.map(envelope => envelope.ephemeral ?? ''),
					distinct.map(envelope => envelope.ratchet ?? null),
					distinct.map(envelope => envelope.body),
					distinct.map(envelope => envelope.time),
				],
			);
			const stored = new Set(inserted.map(({recipient, delivery}) => `${delivery} ${recipient}`));
			const resent = distinct.filter((envelope, place) => !stored.has(`${numbers[place]} ${envelope.to}`));
			const queuedCopies = await this.queuedCopies(db, resent);
			return distinct.map((envelope, place): EnqueuedEnvelope => {
				const delivery = numbers[place]!;
				if (stored.has(`${delivery} ${envelope.to}`)) return {delivery, stored: true};
				return {delivery: queuedCopies.get(resendKey(envelope.from, envelope.id, envelope.to)) ?? delivery, stored: false};
			});
		});
		return placeOf.map((place, index) => (index === firstIndex[place] ? answers[place]! : {delivery: answers[place]!.delivery, stored: false}));
	}

	/** The delivery numbers of the queued copies of these resends, by resendKey. */
	private async queuedCopies(db: Queryable, resent: readonly NewEnvelope[]): Promise<Map<string, number>> {
		if (resent.length === 0) return new Map();
		const {rows} = await db.query<{sender: string; id: string; recipient: string; delivery: number}>(
			`select sender, id, recipient, delivery from queue
			where (sender, id, recipient) in (select * from unnest($1::text[], $2::text[], $3::text[]))`,
			[resent.map(envelope => envelope.from), resent.map(envelope => envelope.id), resent.map(envelope => envelope.to)],
		);
		return new Map(rows.map(row => [resendKey(row.sender, row.id, row.recipient), row.delivery]));
	}

	async queued(recipient: string, after: number, limit: number): Promise<DeliveredEnvelope[]> {
		const {rows} = await this.db.query<QueueRow>(
			'select * from queue where recipient = $1 and delivery > $2 order by delivery limit $3',
			[recipient, after, limit],
		);
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
		const {rows} = await this.db.query<QueueSnapshot[number]>(
			`select recipient, sender, count(*)::int as count, sum(${storedExpression})::bigint as bytes from queue group by recipient, sender`,
		);
		return rows;
	}

	async ack(recipient: string, deliveries: readonly number[]): Promise<Array<{sender: string; bytes: number}>> {
		if (deliveries.length === 0) return [];
		const {rows} = await this.db.query<{sender: string; bytes: number}>(
			`delete from queue where recipient = $1 and delivery = any($2::bigint[]) returning sender, (${storedExpression})::bigint as bytes`,
			[recipient, deliveries],
		);
		return rows;
	}

	async purgeOlderThan(time: number): Promise<number> {
		const {rowCount} = await this.db.query('delete from queue where time < $1', [time]);
		return rowCount ?? 0;
	}
}
