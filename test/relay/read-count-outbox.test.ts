import {describe, expect, it} from 'vitest';
import type {RoomReadCount} from '../../source/relay/cluster.js';
import {maxWaitingCounts, readCountGapMs, ReadCountOutbox} from '../../source/relay/read-count-outbox.js';

function manualTimer() {
	const pending: Array<{callback: () => void; delayMs: number}> = [];
	return {
		pending,
		timer: (callback: () => void, delayMs: number) => {
			pending.push({callback, delayMs});
			return () => {};
		},
		fire() {
			const due = pending.splice(0);
			for (const {callback} of due) callback();
		},
	};
}

const count = (seq: number, delivered: number): RoomReadCount => ({room: 'dev', seq, id: `m${seq}`, sender: 'alice', delivered, of: 1000});

describe('read counts for senders on other relays, gathered (read-count-outbox.ts)', () => {
	it('a thousand acks of ten messages within the gap go as one send of ten counts, each the latest', async () => {
		const sent: RoomReadCount[][] = [];
		const clock = manualTimer();
		const outbox = new ReadCountOutbox(async counts => void sent.push(counts), () => {}, clock.timer);
		for (let delivered = 1; delivered <= 100; delivered++) for (let seq = 1; seq <= 10; seq++) outbox.add(count(seq, delivered));
		expect(clock.pending.map(timer => timer.delayMs)).toEqual([readCountGapMs]);
		clock.fire();
		expect(sent).toHaveLength(1);
		expect(sent[0]!.map(one => [one.seq, one.delivered])).toEqual(Array.from({length: 10}, (_, index) => [index + 1, 100]));
		// The next ack starts the next gap.
		outbox.add(count(1, 101));
		clock.fire();
		expect(sent.at(-1)).toEqual([count(1, 101)]);
	});

	it(`past ${maxWaitingCounts} messages waiting, new ones are dropped (logged once), those waiting still move; a failed send is logged, never thrown`, async () => {
		const logged: string[] = [];
		const sent: RoomReadCount[][] = [];
		const clock = manualTimer();
		let fail = false;
		const outbox = new ReadCountOutbox(
			async counts => {
				if (fail) throw Object.assign(new Error('down'), {code: '57P01'});
				sent.push(counts);
			},
			event => void logged.push(event),
			clock.timer,
		);
		for (let seq = 1; seq <= maxWaitingCounts + 500; seq++) outbox.add(count(seq, 1));
		outbox.add(count(1, 2));
		expect(logged).toEqual(['read_counts_full']);
		clock.fire();
		expect(sent[0]).toHaveLength(maxWaitingCounts);
		expect(sent[0]![0]).toEqual(count(1, 2));
		fail = true;
		outbox.add(count(7, 3));
		clock.fire();
		await new Promise(resolve => setImmediate(resolve));
		expect(logged).toEqual(['read_counts_full', 'storage_error']);
	});
});
