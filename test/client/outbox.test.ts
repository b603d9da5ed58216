import {afterEach, describe, expect, it} from 'vitest';
import {Outbox, outboxKey, type OutboxChanges} from '../../source/client/outbox.js';
import {OutboxStore} from '../../source/client/outbox-store.js';
import {openAccountDatabase, type SqliteDatabase} from '../../source/client/store/account-database.js';
import {databasePath} from '../../source/client/store/account-paths.js';
import type {Envelope} from '../../source/net/messages.js';
import {tempDir} from '../helpers/temp-dir.js';
import {relayFingerprint} from './store-files.js';

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
	const relay = relayFingerprint();
	const open: SqliteDatabase[] = [];
	afterEach(() => {
		for (const db of open.splice(0)) db.close();
	});

	/** An OutboxStore on a fresh account database, as AccountStore opens it, with the handle for the test. */
	function store() {
		const path = databasePath(tempDir(), relay, 'alice');
		const account = {path, db: openAccountDatabase(path), outbox: undefined as unknown as OutboxStore};
		open.push(account.db);
		account.outbox = new OutboxStore(account.db);
		return {
			...account,
			reopen() {
				account.db.close();
				account.db = openAccountDatabase(path);
				open.push(account.db);
				account.outbox = new OutboxStore(account.db);
				return account;
			},
		};
	}

	it('keeps envelopes in the order they were added; one added again keeps its place', () => {
		const {outbox} = store();
		expect(outbox.load()).toEqual([]);
		outbox.save({added: [envelope('m1'), envelope('m2')], removed: []});
		outbox.save({added: [envelope('n1', 'amy')], removed: [outboxKey(envelope('m1'))]});
		outbox.save({added: [envelope('m3'), envelope('m2', 'bob', 'a copy saved again')], removed: []});
		expect(outbox.load()).toEqual([envelope('m2'), envelope('n1', 'amy'), envelope('m3')]);
		// Removed and added again, it goes last.
		outbox.save({added: [envelope('m2')], removed: [outboxKey(envelope('m2'))]});
		expect(outbox.load()).toEqual([envelope('n1', 'amy'), envelope('m3'), envelope('m2')]);
		// Removing what is not there is nothing.
		outbox.save({added: [], removed: ['nothing bob', outboxKey(envelope('m3', 'amy'))]});
		expect(outbox.load()).toHaveLength(3);
	});

	it('keeps the copies of a message to everyone apart: one per recipient, removed one by one', () => {
		const {outbox} = store();
		const copies = ['amy', 'bob', 'cy'].map(to => ({...envelope('e1', to), kind: 'everyone' as const}));
		outbox.save({added: copies, removed: []});
		outbox.save({added: [], removed: [outboxKey(copies[1]!)]});
		expect(outbox.load()).toEqual([copies[0], copies[2]]);
	});

	it('keeps them across a close and reopen, for the Outbox of the next start', () => {
		const account = store();
		const first = new Outbox(limits, changes => account.outbox.save(changes), account.outbox.load());
		first.add(envelope('m1'));
		first.add(envelope('m2', 'amy'));
		first.add(envelope('m3'));
		first.takeUnsent();
		first.settle('m2');
		expect(first.flush()).toBe(true);
		const {outbox} = account.reopen();
		const next = new Outbox(limits, changes => outbox.save(changes), outbox.load());
		expect(next.takeUnsent()).toEqual([envelope('m1'), envelope('m3')]);
	});

	it('adds and removes in one transaction: a save that fails changes nothing', () => {
		const account = store();
		const {outbox, db} = account;
		outbox.save({added: [envelope('m1'), envelope('m2')], removed: []});
		// A real failure: the database is full (max_page_count, on this connection only) and the
		// new envelope needs pages; the removal before it in the same save is undone.
		db.pragma(`max_page_count = ${db.pragma('page_count', {simple: true}) as number}`);
		const big = envelope('big', 'bob', 'x'.repeat(100_000));
		expect(() => outbox.save({added: [envelope('m3'), big], removed: [outboxKey(envelope('m1'))]})).toThrow(/full/);
		expect(db.inTransaction).toBe(false);
		expect(outbox.load()).toEqual([envelope('m1'), envelope('m2')]);
		db.pragma('max_page_count = 1073741823');
		outbox.save({added: [envelope('m3'), big], removed: [outboxKey(envelope('m1'))]});
		expect(account.reopen().outbox.load()).toEqual([envelope('m2'), envelope('m3'), big]);
	});

	it.each<[string, string, RegExp]>([
		['not JSON', 'not json', /an envelope is not JSON/],
		['null', 'null', /an envelope is malformed/],
		['a short ephemeral key', JSON.stringify({...envelope('a'), ephemeral: 'short'}), /an envelope is malformed/],
		['a body that is not a token', JSON.stringify(envelope('a', 'bob', 'not a token!')), /an envelope is malformed/],
		['no id', JSON.stringify({...envelope('a'), id: undefined}), /an envelope is malformed/],
		['a recipient that is not a username', JSON.stringify(envelope('a', 'Not A Name')), /not addressed to a username/],
	])('refuses a damaged envelope row (%s) with a clear error, rather than dropping what waits', (_, text, why) => {
		const {outbox, db} = store();
		outbox.save({added: [envelope('m1'), envelope('m2')], removed: []});
		db.prepare('UPDATE outbox SET envelope = ? WHERE id = ?').run(text, 'm2');
		expect(() => outbox.load()).toThrow(/the outbox in this account's database is damaged/);
		expect(() => outbox.load()).toThrow(why);
		// The row is left as it was, for whoever restores or repairs it.
		expect(db.prepare('SELECT envelope FROM outbox WHERE id = ?').pluck().get('m2')).toBe(text);
	});
});
