import {chmodSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {Outbox, outboxKey, type OutboxChanges} from '../../source/client/outbox.js';
import {OutboxStore} from '../../source/client/outbox-store.js';
import type {Envelope} from '../../source/net/messages.js';
import {tempDir} from '../helpers/temp-dir.js';

const ephemeral = 'A'.repeat(43);

function envelope(id: string, to = 'bob', body = `body-of-${id}`): Envelope {
	return {id, to, kind: 'direct', ephemeral, body};
}

const limits = {maxOutboxMessages: 4, maxOutboxBytes: 10_000};

async function turn(): Promise<void> {
	await new Promise(resolve => {
		setImmediate(resolve);
	});
}

describe('Outbox', () => {
	it('sends each envelope once per connection, oldest first, and again after a drop until answered', () => {
		const outbox = new Outbox(limits);
		outbox.add(envelope('m1'));
		outbox.add(envelope('m2'));
		expect(outbox.takeUnsent()).toEqual([envelope('m1'), envelope('m2')]);
		expect(outbox.takeUnsent()).toEqual([]);
		outbox.add(envelope('m3'));
		expect(outbox.settle('m1')).toEqual(envelope('m1'));
		expect(outbox.takeUnsent()).toEqual([envelope('m3')]);

		outbox.unsend();
		// the very same envelopes (same id, same sealed bytes), in the same order
		expect(outbox.takeUnsent()).toEqual([envelope('m2'), envelope('m3')]);
		expect(outbox.settle('m2')).toBeDefined();
		expect(outbox.settle('m2')).toBeUndefined();
		expect(outbox.envelopes()).toEqual([envelope('m3')]);
	});

	it('counts what is in flight, takes at most a limit, and puts a rate-limited envelope back in its place', () => {
		const outbox = new Outbox(limits);
		for (const id of ['m1', 'm2', 'm3']) outbox.add(envelope(id));
		expect(outbox.takeUnsent(undefined, 2)).toEqual([envelope('m1'), envelope('m2')]);
		expect(outbox.inFlight).toBe(2);
		expect(outbox.resend('m1')).toBe(true);
		expect(outbox.resend('m1')).toBe(false);
		expect(outbox.inFlight).toBe(1);
		expect(outbox.takeUnsent()).toEqual([envelope('m1'), envelope('m3')]);
		outbox.settle('m2');
		expect(outbox.inFlight).toBe(2);
		outbox.unsend();
		expect(outbox.inFlight).toBe(0);
	});

	it('an answer settles only what went out on this connection', () => {
		const outbox = new Outbox(limits);
		outbox.add(envelope('m1'));
		expect(outbox.settle('m1')).toBeUndefined();
		outbox.takeUnsent();
		outbox.unsend();
		expect(outbox.settle('m1')).toBeUndefined();
		expect(outbox.size).toBe(1);
	});

	it('copies to everyone share an id: each answer settles the oldest copy sent', () => {
		const outbox = new Outbox(limits);
		outbox.add({...envelope('e1', 'amy'), kind: 'everyone'});
		outbox.add({...envelope('e1', 'bob'), kind: 'everyone'});
		outbox.takeUnsent();
		expect(outbox.settle('e1')?.to).toBe('amy');
		expect(outbox.settle('e1')?.to).toBe('bob');
		expect(outbox.size).toBe(0);
	});

	it('an answer that names the recipient settles that copy, whatever order the copies were answered in', () => {
		const outbox = new Outbox(limits);
		outbox.add({...envelope('e1', 'amy'), kind: 'everyone'});
		outbox.add({...envelope('e1', 'bob'), kind: 'everyone'});
		outbox.takeUnsent();
		expect(outbox.settle('e1', 'bob')?.to).toBe('bob');
		expect(outbox.settle('e1', 'bob')).toBeUndefined();
		expect(outbox.envelopes().map(waiting => waiting.to)).toEqual(['amy']);
	});

	it('holds back what `ready` refuses (a contact whose key changed) without losing its place', () => {
		const outbox = new Outbox(limits);
		outbox.add(envelope('m1', 'cy'));
		outbox.add(envelope('m2', 'bob'));
		expect(outbox.takeUnsent(waiting => waiting.to !== 'cy')).toEqual([envelope('m2', 'bob')]);
		expect(outbox.takeUnsent()).toEqual([envelope('m1', 'cy')]);
		expect(outbox.removeTo('cy')).toEqual([envelope('m1', 'cy')]);
		expect(outbox.envelopes()).toEqual([envelope('m2', 'bob')]);
	});

	it('has room for at most maxOutboxMessages, and none once maxOutboxBytes is reached', () => {
		const outbox = new Outbox(limits);
		for (const id of ['m1', 'm2', 'm3']) outbox.add(envelope(id));
		expect(outbox.hasRoom(1)).toBe(true);
		expect(outbox.hasRoom(2)).toBe(false);
		const small = new Outbox({maxOutboxMessages: 100, maxOutboxBytes: 200});
		expect(small.hasRoom(1)).toBe(true);
		small.add(envelope('big', 'bob', 'x'.repeat(200)));
		expect(small.hasRoom(1)).toBe(false);
		small.takeUnsent();
		small.settle('big');
		expect(small.hasRoom(1)).toBe(true);
	});

	it('reports what changed once per turn of the event loop, leaving out what came and went in it', async () => {
		const changes: OutboxChanges[] = [];
		const outbox = new Outbox(limits, change => changes.push(change), [envelope('old')]);
		outbox.add(envelope('m1'));
		outbox.add(envelope('m2'));
		outbox.takeUnsent();
		outbox.settle('m1');
		outbox.settle('old');
		expect(changes).toEqual([]);
		await turn();
		expect(changes).toEqual([{added: [envelope('m2')], removed: [outboxKey(envelope('old'))]}]);
		outbox.flush();
		expect(changes).toHaveLength(1);
	});

	it('changes that could not be written are handed over again with the next ones', () => {
		const changes: OutboxChanges[] = [];
		let failing = true;
		const outbox = new Outbox(limits, change => {
			if (failing) throw new Error('disk full');
			changes.push(change);
		});
		outbox.add(envelope('m1'));
		expect(outbox.flush()).toBe(false);
		failing = false;
		outbox.add(envelope('m2'));
		expect(outbox.flush()).toBe(true);
		expect(changes).toEqual([{added: [envelope('m1'), envelope('m2')], removed: []}]);
	});
});

describe('OutboxStore', () => {
	function store(maxEnvelopes = 10) {
		const path = join(tempDir(), 'account', 'outbox.json');
		return {path, store: new OutboxStore(path, maxEnvelopes)};
	}

	it('keeps envelopes in a 0600 file, in order, and merges the changes of two instances', () => {
		const {path, store: first} = store();
		const second = new OutboxStore(path, 10);
		expect(first.load()).toEqual([]);
		first.save({added: [envelope('m1'), envelope('m2')], removed: []});
		second.save({added: [envelope('n1', 'amy')], removed: [outboxKey(envelope('m1'))]});
		first.save({added: [envelope('m3'), envelope('m2')], removed: []});
		expect(first.load()).toEqual([envelope('m2'), envelope('n1', 'amy'), envelope('m3')]);
		expect(statSync(path).mode & 0o777).toBe(0o600);
	});

	it('refuses a damaged file or one others can read, rather than dropping what waits in it', () => {
		const {path, store: outbox} = store(1);
		outbox.save({added: [envelope('m1')], removed: []});
		const good = readFileSync(path, 'utf8');
		for (const [text, why] of [
			['not json', /not JSON/],
			['{"version":2,"envelopes":[]}', /not a version 1 outbox/],
			[JSON.stringify({version: 1, envelopes: [envelope('a'), envelope('b'), envelope('c')]}), /too many/],
			[JSON.stringify({version: 1, envelopes: [{...envelope('a'), ephemeral: 'short'}]}), /malformed/],
			[JSON.stringify({version: 1, envelopes: [envelope('a', 'Not A Name')]}), /not addressed to a username/],
			[JSON.stringify({version: 1, envelopes: [null]}), /malformed/],
		] as const) {
			writeFileSync(path, text);
			expect(() => outbox.load(), text).toThrow(why);
		}

		writeFileSync(path, good);
		chmodSync(path, 0o644);
		expect(() => outbox.load()).toThrow(/accessible by other users/);
	});
});
