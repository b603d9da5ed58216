import {join} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import {describe, expect, it} from 'vitest';
import {generateIdentity} from '../../source/crypto/identity.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, type PeerMessage} from '../helpers/logged-in-peer.js';
import {answerBeforeLogin} from '../helpers/raw-peer.js';
import {tempDir} from '../helpers/temp-dir.js';
import {databaseFileName} from '../../source/relay/sqlite-store.js';

type Peer = Awaited<ReturnType<typeof loggedInPeer>>;

/** Sends a lookup and returns its answer: a `found`, or the error whose ref is its id. */
async function lookup(peer: Peer, id: string, names: string[]): Promise<PeerMessage> {
	const from = peer.messages().length;
	peer.send({type: 'lookup', id, names});
	return peer.until(message => (message.type === 'found' && message.id === id) || (message.type === 'error' && message.ref === id), from);
}

const names = (answer: PeerMessage) => (answer.users as Array<{username: string}>).map(user => user.username);

describe('lookup (PROTOCOL.md section 4.3)', () => {
	it('answers every name once, in the order first asked: found with its record, or missing; case folded, reserved missing, self allowed', async () => {
		const relay = await relayForTest();
		await loggedInPeer(relay.port, 'bob');
		(await loggedInPeer(relay.port, 'Carol')).close();
		const alice = await loggedInPeer(relay.port, 'alice');
		const answer = await lookup(alice, 'q1', ['Bob', 'carol', 'system', 'nobody', 'BOB', 'alice', 'nobody']);
		expect(answer).toMatchObject({type: 'found', id: 'q1', missing: ['system', 'nobody']});
		expect(names(answer)).toEqual(['bob', 'carol', 'alice']);
		const bob = (answer.users as Array<Record<string, unknown>>)[0]!;
		expect(Object.keys(bob)).toEqual(['username', 'online', 'identity', 'x25519', 'binding']);
		expect((answer.users as Array<{online: boolean}>).map(user => user.online)).toEqual([true, false, true]);
	});

	it('one name that is not a username refuses the whole lookup with invalid_username, not fatal', async () => {
		const relay = await relayForTest();
		const alice = await loggedInPeer(relay.port, 'alice');
		for (const bad of ['has space', 'x'.repeat(33), '', 'émile']) {
			expect(await lookup(alice, 'bad', ['alice', bad])).toMatchObject({type: 'error', code: 'invalid_username', fatal: false, ref: 'bad'});
		}
		expect(names(await lookup(alice, 'good', ['alice']))).toEqual(['alice']);
	});

	it('before a login, lookup and who are a fatal not_logged_in', async () => {
		const relay = await relayForTest();
		for (const message of [{type: 'lookup', id: 'early', names: ['bob']}, {type: 'who'}]) {
			expect(await answerBeforeLogin(relay.port, message)).toEqual([expect.objectContaining({type: 'error', code: 'not_logged_in', fatal: true})]);
		}
	});

	it('costs one token per name asked, found or missing, repeated or not; past the account burst lookup_throttled, kept across reconnects, refilled in time', async () => {
		const clock = {now: 1_000_000};
		// 3,600 an hour: a token a second
		const relay = await relayForTest({clock: () => clock.now, limits: {lookupBurst: 6, lookupsPerHour: 3600}});
		(await loggedInPeer(relay.port, 'bob')).close();
		const keys = generateIdentity();
		let alice = await loggedInPeer(relay.port, 'alice', {keys});
		expect((await lookup(alice, 'a', ['bob', 'bob', 'nobody'])).type).toBe('found');
		expect((await lookup(alice, 'b', ['ghost', 'phantom', 'nobody'])).type).toBe('found');
		// the bucket is empty: a name that exists and one that does not are refused alike
		for (const name of ['bob', 'ghost']) {
			const refused = await lookup(alice, `c-${name}`, [name]);
			expect(refused).toMatchObject({type: 'error', code: 'lookup_throttled', fatal: false, ref: `c-${name}`});
			expect(refused.message).toMatch(/try again in 1 s/);
		}
		alice.close();
		alice = await loggedInPeer(relay.port, 'alice', {keys});
		expect(await lookup(alice, 'd', ['bob'])).toMatchObject({code: 'lookup_throttled'});
		clock.now += 2000;
		expect(await lookup(alice, 'e', ['bob', 'ghost'])).toMatchObject({type: 'found', missing: ['ghost']});
		expect(await lookup(alice, 'f', ['bob'])).toMatchObject({code: 'lookup_throttled'});
	});

	it('the address pays too, whatever the account: past its burst lookup_throttled; another address of the same /24 still looks up', async () => {
		const relay = await relayForTest({limits: {lookupBurst: 100, lookupBurstPerAddress: 5, lookupsPerHourPerAddress: 1}});
		const first = await loggedInPeer(relay.port, 'first', {localAddress: '127.0.0.2'});
		const second = await loggedInPeer(relay.port, 'second', {localAddress: '127.0.0.2'});
		expect((await lookup(first, 'a', ['x1', 'x2', 'x3'])).type).toBe('found');
		expect(await lookup(second, 'b', ['x1', 'x2', 'x3'])).toMatchObject({code: 'lookup_throttled', ref: 'b'});
		expect((await lookup(second, 'c', ['x1', 'x2'])).type).toBe('found');
		const elsewhere = await loggedInPeer(relay.port, 'elsewhere', {localAddress: '127.0.0.3'});
		expect((await lookup(elsewhere, 'd', ['x1', 'x2', 'x3', 'x4', 'x5'])).type).toBe('found');
	});

	it('a lookup takes one message token per 16 names from the rate limit: refused with rate_limited, ref its id', async () => {
		const relay = await relayForTest({limits: {rateBurst: 10, ratePerSecond: 0.001}});
		const alice = await loggedInPeer(relay.port, 'alice');
		const hundred = Array.from({length: 100}, (_, index) => `n${index}`);
		// the login took one token; 100 names take 7
		expect((await lookup(alice, 'big', hundred)).type).toBe('found');
		expect(await lookup(alice, 'again', hundred)).toMatchObject({type: 'error', code: 'rate_limited', ref: 'again'});
		expect((await lookup(alice, 'small', ['n1'])).type).toBe('found');
	});
});

describe('a lookup while the database cannot be written', () => {
	it('is answered, makes no contact, and the next lookup makes them', {timeout: 30_000}, async () => {
		const dataDir = tempDir();
		const relay = await relayForTest({dataDir, limits: {communityMaxUsers: 0}});
		for (const name of ['bob', 'carol']) (await loggedInPeer(relay.port, name)).close();
		const keys = generateIdentity();
		const alice = await loggedInPeer(relay.port, 'alice', {keys});
		// Another process holds the database: reads go on (WAL), the contacts' commit gives up.
		const locker = new Database(join(dataDir, databaseFileName));
		locker.exec('begin exclusive');
		try {
			expect(names(await lookup(alice, 'stuck', ['bob', 'carol']))).toEqual(['bob', 'carol']);
		} finally {
			locker.exec('rollback');
			locker.close();
		}
		alice.close();
		const again = await loggedInPeer(relay.port, 'alice', {keys});
		expect((again.messages().find(message => message.type === 'welcome')!.users as unknown[])).toEqual([]);
		expect(names(await lookup(again, 'fine', ['bob', 'carol']))).toEqual(['bob', 'carol']);
		again.close();
		const third = await loggedInPeer(relay.port, 'alice', {keys});
		expect((third.messages().find(message => message.type === 'welcome')!.users as Array<{username: string}>).map(user => user.username)).toEqual(['bob', 'carol']);
	});
});
