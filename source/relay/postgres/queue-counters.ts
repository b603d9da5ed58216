import type pg from 'pg';
import {inTransaction} from './pg-transaction.js';
import {storedExpression} from './pg-queue.js';

/**
 * What waits for each recipient, for the whole service: `queued` and `bytes` in its
 * delivery_counters row, kept by a trigger on every insert into and delete from `queue` (enqueue,
 * ack, expiry, a deleted user: whichever relay does it). The enqueue of a relay of a cluster reads
 * them as it locks the row and refuses what would pass the caps (pg-queue.ts), so the caps hold
 * across relays exactly. Made once, under an advisory lock; the first time, counted from the queue.
 */
const countersSchema = `
alter table delivery_counters add column queued bigint not null default 0, add column bytes bigint not null default 0;
create or replace function im_tui_queue_counted() returns trigger language plpgsql as $$
begin
	if tg_op = 'INSERT' then
		update delivery_counters set queued = queued + 1, bytes = bytes + (${storedExpression.replaceAll(/\b(body|id|ephemeral|ratchet)\b/g, 'new.$1')})
		where recipient = new.recipient;
		return new;
	end if;
	update delivery_counters set queued = queued - 1, bytes = bytes - (${storedExpression.replaceAll(/\b(body|id|ephemeral|ratchet)\b/g, 'old.$1')})
	where recipient = old.recipient;
	return old;
end $$;
create trigger queue_counted after insert or delete on queue for each row execute function im_tui_queue_counted();
update delivery_counters set queued = waiting.queued, bytes = waiting.bytes
from (select recipient, count(*) as queued, sum(${storedExpression}) as bytes from queue group by recipient) as waiting
where delivery_counters.recipient = waiting.recipient;
`;

export async function ensureQueueCounters(pool: pg.Pool): Promise<void> {
	await inTransaction(pool, async db => {
		await db.query("select pg_advisory_xact_lock(hashtext('im-tui queue counters'))");
		const {rows} = await db.query(
			"select 1 from information_schema.columns where table_schema = current_schema() and table_name = 'delivery_counters' and column_name = 'queued'",
		);
		if (rows.length > 0) return;
		// No enqueue or ack may slip between the count and the trigger.
		await db.query('lock table queue in share row exclusive mode');
		await db.query(countersSchema);
	});
}
