import {describe, expect, it} from 'vitest';
import {ForwardedEnvelopes} from '../../source/relay/forwarded-envelopes.js';
import type {NumberedEnvelope} from '../../source/relay/relay-store.js';

const envelope = (delivery: number, to: string, id = `m${delivery}`, from = 'alice'): NumberedEnvelope => ({
	delivery,
	id,
	to,
	from,
	kind: 'direct',
	ephemeral: 'A'.repeat(43),
	body: 'x',
	time: 1,
});

describe('ForwardedEnvelopes', () => {
	it('hands each envelope out once: to its own recipient\'s ack, to its recipient leaving, or when overdue', () => {
		const forwarded = new ForwardedEnvelopes();
		forwarded.add(envelope(1, 'bob'));
		forwarded.add(envelope(2, 'carol'));
		forwarded.add(envelope(3, 'bob'));
		expect(forwarded.take('carol', 1)).toBeUndefined();
		expect(forwarded.take('bob', 1)?.delivery).toBe(1);
		expect(forwarded.take('bob', 1)).toBeUndefined();
		expect(forwarded.takeFor('bob').map(item => item.delivery)).toEqual([3]);
		expect(forwarded.takeFor('bob')).toEqual([]);
		expect(forwarded.takeFor('nobody')).toEqual([]);
		expect(forwarded.size).toBe(1);
	});

	it('is overdue only from the second timer call after an envelope came, so each waits one to two periods', () => {
		const forwarded = new ForwardedEnvelopes();
		forwarded.add(envelope(1, 'bob'));
		expect(forwarded.takeOverdue()).toEqual([]);
		forwarded.add(envelope(2, 'bob'));
		expect(forwarded.takeOverdue().map(item => item.delivery)).toEqual([1]);
		expect(forwarded.takeOverdue().map(item => item.delivery)).toEqual([2]);
		expect(forwarded.size).toBe(0);
	});

	it('knows a resend by sender, id and recipient while the first copy is out', () => {
		const forwarded = new ForwardedEnvelopes();
		forwarded.add(envelope(1, 'bob', 'same'));
		expect(forwarded.holds('alice', 'same', 'bob')).toBe(true);
		expect(forwarded.holds('alice', 'same', 'carol')).toBe(false);
		expect(forwarded.holds('mallory', 'same', 'bob')).toBe(false);
		forwarded.take('bob', 1);
		expect(forwarded.holds('alice', 'same', 'bob')).toBe(false);
	});

	it('counts what waits per recipient, also after envelopes came back from a failed commit', () => {
		const forwarded = new ForwardedEnvelopes();
		forwarded.add(envelope(1, 'bob'));
		forwarded.add(envelope(2, 'bob'));
		const back = forwarded.takeAll();
		for (const item of back) forwarded.add(item);
		const counts = new Map<string, number>();
		forwarded.forEach(item => counts.set(item.to, (counts.get(item.to) ?? 0) + 1));
		expect(counts).toEqual(new Map([['bob', 2]]));
		expect(forwarded.takeFor('bob')).toHaveLength(2);
		expect(forwarded.takeFor('bob')).toEqual([]);
	});

	it('tells apart senders who chose the same id for the same recipient, whichever leaves first', () => {
		const forwarded = new ForwardedEnvelopes();
		forwarded.add(envelope(1, 'bob', 'same', 'alice'));
		forwarded.add(envelope(2, 'bob', 'same', 'carol'));
		forwarded.add(envelope(3, 'bob', 'same', 'dave'));
		forwarded.add(envelope(4, 'erin', 'same', 'alice'));
		expect(forwarded.take('bob', 2)?.from).toBe('carol');
		expect(forwarded.holds('carol', 'same', 'bob')).toBe(false);
		expect(forwarded.holds('alice', 'same', 'bob')).toBe(true);
		expect(forwarded.holds('dave', 'same', 'bob')).toBe(true);
		expect(forwarded.holds('alice', 'same', 'erin')).toBe(true);
		expect(forwarded.takeFor('bob').map(item => item.delivery)).toEqual([1, 3]);
		expect(forwarded.holds('dave', 'same', 'bob')).toBe(false);
		expect(forwarded.takeOverdue()).toEqual([]);
		expect(forwarded.takeOverdue().map(item => item.delivery)).toEqual([4]);
		expect(forwarded.size).toBe(0);
	});
});
