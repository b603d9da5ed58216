import {join} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import {describe, expect, it} from 'vitest';
import {generateIdentity, type IdentityKeys} from '../../source/crypto/identity.js';
import {databaseFileName} from '../../source/relay/sqlite-store.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, opaqueSend, type PeerMessage} from '../helpers/logged-in-peer.js';
import {tempDir} from '../helpers/temp-dir.js';

type Peer = Awaited<ReturnType<typeof loggedInPeer>>;

/** Contacts only, from the first user on. */
const contactsOnly = {communityMaxUsers: 0};

const about = (message: PeerMessage): string | undefined =>
	message.type === 'user_joined' ? (message.user as {username: string}).username : message.type === 'user_left' ? (message.username as string) : undefined;

/** The joins and leaves `peer` heard, as "+name" and "-name". */
const presence = (peer: Peer) =>
	peer.messages().flatMap(message => (about(message) === undefined ? [] : [`${message.type === 'user_joined' ? '+' : '-'}${about(message)}`]));

const listed = (peer: Peer) => (peer.messages().find(message => message.type === 'welcome')!.users as Array<{username: string}>).map(user => user.username);

async function lookUp(peer: Peer, id: string, names: string[]): Promise<void> {
	peer.send({type: 'lookup', id, names});
	await peer.until(message => message.type === 'found' && message.id === id);
}

/** Logs `name` in and out again with its keys: it is registered, offline, and used twice (it never lapses). */
async function registered(port: number, name: string, keys: IdentityKeys = generateIdentity()): Promise<IdentityKeys> {
	(await loggedInPeer(port, name, {keys})).close();
	return keys;
}

describe('contacts (PROTOCOL.md section 4.3)', () => {
	it('presence reaches only those who have the user as a contact; a lookup makes one, and the next welcome lists it', async () => {
		const relay = await relayForTest({limits: contactsOnly});
		const bobKeys = generateIdentity();
		const bob = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		const aliceKeys = generateIdentity();
		const alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		expect(listed(alice)).toEqual([]);
		await lookUp(alice, 'q', ['bob']);
		// a stranger comes and goes; then bob, alice's contact, leaves and comes back
		(await loggedInPeer(relay.port, 'stranger')).close();
		await expect.poll(() => relay.onlineUsernames()).toEqual(['alice', 'bob']);
		bob.close();
		await alice.until(message => message.type === 'user_left' && message.username === 'bob');
		const back = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		await alice.until(message => message.type === 'user_joined' && about(message) === 'bob');
		expect(presence(alice)).toEqual(['-bob', '+bob']);
		// bob never looked alice up nor heard from her: nothing about her
		alice.close();
		const again = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		expect(listed(again)).toEqual(['bob']);
		expect(again.messages().find(message => message.type === 'welcome')!.users).toEqual([expect.objectContaining({username: 'bob', online: true})]);
		back.send({type: 'ping', nonce: 1});
		await back.until(message => message.type === 'pong');
		expect(presence(back)).toEqual([]);
	});

	it('a stranger who writes becomes a contact: its record arrives before its message, and each hears of the other from then on', async () => {
		const relay = await relayForTest({limits: contactsOnly});
		const alice = await loggedInPeer(relay.port, 'alice');
		const mallory = await loggedInPeer(relay.port, 'mallory');
		mallory.send(opaqueSend('hello', 'alice'));
		const message = await alice.until(received => received.type === 'message');
		const types = alice.messages().map(received => `${received.type}${about(received) ? ` ${about(received)}` : ''}`);
		expect(types.indexOf('user_joined mallory')).toBeGreaterThan(-1);
		expect(types.indexOf('user_joined mallory')).toBeLessThan(alice.messages().indexOf(message));
		expect(alice.messages().find(received => about(received) === 'mallory')).toMatchObject({user: {username: 'mallory', online: true}});
		// a second message from someone already known brings no second record
		mallory.send(opaqueSend('again', 'alice'));
		await alice.until(received => received.type === 'message' && received.id === 'again');
		expect(presence(alice)).toEqual(['+mallory']);
		// the writer made the recipient its contact as well
		alice.close();
		await mallory.until(received => received.type === 'user_left' && received.username === 'alice');
	});

	it('a stranger whose message is refused becomes no contact', async () => {
		const relay = await relayForTest({limits: {...contactsOnly, maxBodyBytes: 100}});
		const alice = await loggedInPeer(relay.port, 'alice');
		const mallory = await loggedInPeer(relay.port, 'mallory');
		mallory.send({...opaqueSend('big', 'alice'), body: 'x'.repeat(200)});
		await mallory.until(message => message.type === 'error' && message.code === 'message_too_large');
		mallory.send(opaqueSend('fine', 'mallory'));
		await mallory.until(message => message.type === 'accepted');
		alice.send({type: 'ping', nonce: 1});
		await alice.until(message => message.type === 'pong');
		expect(presence(alice)).toEqual([]);
	});

	it('on a community relay everyone hears everyone; once registrations pass communityMaxUsers, only contacts', async () => {
		const relay = await relayForTest({limits: {communityMaxUsers: 3}});
		const alice = await loggedInPeer(relay.port, 'alice');
		const carolKeys = await registered(relay.port, 'carol');
		await alice.until(message => message.type === 'user_left' && message.username === 'carol');
		const bob = await loggedInPeer(relay.port, 'bob');
		expect(listed(bob)).toEqual(['alice', 'carol']);
		await alice.until(message => message.type === 'user_joined' && about(message) === 'bob');
		// a fourth name: the relay is past its community size
		await registered(relay.port, 'dave');
		(await loggedInPeer(relay.port, 'carol', {keys: carolKeys})).close();
		await expect.poll(() => relay.onlineUsernames()).toEqual(['alice', 'bob']);
		bob.close();
		await new Promise(resolve => setTimeout(resolve, 400));
		alice.send({type: 'ping', nonce: 1});
		await alice.until(message => message.type === 'pong');
		expect(presence(alice)).toEqual(['+carol', '-carol', '+bob']);
		const erin = await loggedInPeer(relay.port, 'erin');
		expect(listed(erin)).toEqual([]);
	});

	it('maxContacts bounds an account\'s chosen contacts: a lookup past it is answered but adds nobody; a writer still becomes an inbound contact', async () => {
		const relay = await relayForTest({limits: {...contactsOnly, maxContacts: 2}});
		for (const name of ['bob', 'carol', 'dave']) await registered(relay.port, name);
		const aliceKeys = generateIdentity();
		const alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		alice.send({type: 'lookup', id: 'q', names: ['bob', 'carol', 'dave']});
		expect(await alice.until(message => message.type === 'found')).toMatchObject({missing: []});
		const erin = await loggedInPeer(relay.port, 'erin');
		erin.send(opaqueSend('hi', 'alice'));
		await alice.until(message => message.type === 'message');
		// alice's chosen contacts are full; erin takes one of her inbound places, apart from them
		expect(presence(alice)).toEqual(['+erin']);
		alice.close();
		await erin.until(message => message.type === 'user_left' && message.username === 'alice');
		const again = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		expect(listed(again)).toEqual(['bob', 'carol', 'erin']);
	});

	it('an inbound contact the owner writes to or looks up becomes chosen: strangers who write later never evict it', async () => {
		const dataDir = tempDir();
		const relay = await relayForTest({dataDir, limits: {...contactsOnly, maxInboundContacts: 2}});
		const aliceKeys = generateIdentity();
		const alice = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		for (const name of ['w1', 'w2']) {
			const writer = await loggedInPeer(relay.port, name);
			writer.send(opaqueSend(`from-${name}`, 'alice'));
			await alice.until(message => message.type === 'message' && message.id === `from-${name}`);
		}
		alice.send(opaqueSend('reply', 'w1'));
		await alice.until(message => message.type === 'accepted' && message.id === 'reply');
		await lookUp(alice, 'q', ['w2']);
		for (const name of ['s1', 's2', 's3']) {
			const stranger = await loggedInPeer(relay.port, name);
			stranger.send(opaqueSend(`from-${name}`, 'alice'));
			await alice.until(message => message.type === 'message' && message.id === `from-${name}`);
		}
		expect(presence(alice).filter(change => change.startsWith('+'))).toEqual(['+w1', '+w2', '+s1', '+s2', '+s3']);
		alice.close();
		const again = await loggedInPeer(relay.port, 'alice', {keys: aliceKeys});
		expect(listed(again)).toEqual(['s2', 's3', 'w1', 'w2']);
		again.close();
		await relay.close();
		const db = new Database(join(dataDir, databaseFileName), {readonly: true});
		try {
			expect(db.prepare("select contact, chosen from contacts where owner = 'alice' order by contact").all()).toEqual([
				{contact: 's2', chosen: 0},
				{contact: 's3', chosen: 0},
				{contact: 'w1', chosen: 1},
				{contact: 'w2', chosen: 1},
			]);
		} finally {
			db.close();
		}
	});

	it('a name that lapses is no longer anyone\'s contact', async () => {
		const dataDir = tempDir();
		const clock = {now: Date.parse('2026-12-01T00:00:00Z')};
		const limits = {...contactsOnly, registrationLapseMs: 60_000};
		const first = await relayForTest({dataDir, limits, clock: () => clock.now});
		const aliceKeys = await registered(first.port, 'alice');
		(await loggedInPeer(first.port, 'visitor')).close();
		const alice = await loggedInPeer(first.port, 'alice', {keys: aliceKeys});
		await lookUp(alice, 'q', ['visitor']);
		alice.close();
		await expect.poll(() => first.onlineUsernames()).toEqual([]);
		await first.close();
		const edges = () => {
			const db = new Database(join(dataDir, databaseFileName), {readonly: true});
			try {
				return db.prepare("select count(*) from contacts where contact = 'visitor' or owner = 'visitor'").pluck().get();
			} finally {
				db.close();
			}
		};
		expect(edges()).toBe(1);

		clock.now += 61_000;
		const second = await relayForTest({dataDir, limits, clock: () => clock.now});
		expect(second.stats()).toMatchObject({lapsedRegistrations: 1, registeredUsers: 1});
		expect(edges()).toBe(0);
		const back = await loggedInPeer(second.port, 'alice', {keys: aliceKeys});
		expect(listed(back)).toEqual([]);
		// someone new under the free name is nobody's contact
		(await loggedInPeer(second.port, 'visitor')).close();
		back.send({type: 'ping', nonce: 1});
		await new Promise(resolve => setTimeout(resolve, 400));
		await back.until(message => message.type === 'pong');
		expect(presence(back)).toEqual([]);
	});
});
