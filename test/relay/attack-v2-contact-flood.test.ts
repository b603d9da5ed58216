import {join} from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import {describe, expect, it} from 'vitest';
import {generateIdentity} from '../../source/crypto/identity.js';
import {databaseFileName} from '../../source/relay/sqlite-store.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, opaqueSend, type PeerMessage} from '../helpers/logged-in-peer.js';
import {tempDir} from '../helpers/temp-dir.js';

/**
 * Attack: every account that writes to a victim becomes one of the victim's contacts, for good
 * (an account that wrote is confirmed, so it never lapses, and nothing removes a contact). With
 * maxContacts writers the victim's list is full: a friend it looks up afterwards is answered but
 * never becomes its contact, so the victim never hears the friend come or go, and the friend is
 * missing from each of its welcomes. Shown here at maxContacts 5 (the default is 5,000).
 *
 * The fix: writers become inbound contacts, at most maxInboundContacts of them (the oldest makes
 * room for the next), apart from the maxContacts the victim chose.
 */
describe('attack: filling a victim\'s contacts by writing to it', () => {
	it('a friend the victim looks up after strangers filled its contacts is still announced to it', async () => {
		const relay = await relayForTest({limits: {communityMaxUsers: 0, maxContacts: 5}});
		const friendKeys = generateIdentity();
		(await loggedInPeer(relay.port, 'friend', {keys: friendKeys})).close();
		const victim = await loggedInPeer(relay.port, 'victim');
		for (let index = 0; index < 5; index++) {
			const spammer = await loggedInPeer(relay.port, `spammer${index}`);
			spammer.send(opaqueSend(`spam${index}`, 'victim'));
			await spammer.until(message => message.type === 'accepted');
			spammer.close();
		}
		const from = victim.messages().length;
		victim.send({type: 'lookup', id: 'q', names: ['friend']});
		expect(await victim.until(message => message.type === 'found', from)).toMatchObject({missing: []});

		const friend = await loggedInPeer(relay.port, 'friend', {keys: friendKeys});
		const joined = (message: PeerMessage) => message.type === 'user_joined' && (message.user as {username: string}).username === 'friend';
		await new Promise(resolve => setTimeout(resolve, 500));
		victim.send({type: 'ping', nonce: 1});
		await victim.until(message => message.type === 'pong', from);
		friend.close();
		expect(victim.messages().slice(from).some(joined)).toBe(true);
	});

	it('more strangers than maxInboundContacts write: each is introduced, the oldest are evicted, the chosen contacts and a friend looked up after them stay', async () => {
		const dataDir = tempDir();
		const relay = await relayForTest({dataDir, limits: {communityMaxUsers: 0, maxContacts: 3, maxInboundContacts: 4}});
		const friendKeys = generateIdentity();
		for (const name of ['chosen1', 'chosen2']) (await loggedInPeer(relay.port, name)).close();
		(await loggedInPeer(relay.port, 'friend', {keys: friendKeys})).close();
		const victimKeys = generateIdentity();
		const victim = await loggedInPeer(relay.port, 'victim', {keys: victimKeys});
		victim.send({type: 'lookup', id: 'mine', names: ['chosen1', 'chosen2']});
		await victim.until(message => message.type === 'found' && message.id === 'mine');
		// names in the order they write, also when two write within one millisecond
		const strangers = Array.from({length: 10}, (_, index) => `stranger${String(index).padStart(2, '0')}`);
		for (const name of strangers) {
			const stranger = await loggedInPeer(relay.port, name);
			stranger.send(opaqueSend(`spam-${name}`, 'victim'));
			await stranger.until(message => message.type === 'accepted');
			stranger.close();
		}
		const introduced = victim.messages().filter(message => message.type === 'user_joined').map(message => (message.user as {username: string}).username);
		expect(introduced).toEqual(strangers);
		const from = victim.messages().length;
		victim.send({type: 'lookup', id: 'q', names: ['friend']});
		expect(await victim.until(message => message.type === 'found', from)).toMatchObject({missing: []});

		const friend = await loggedInPeer(relay.port, 'friend', {keys: friendKeys});
		await victim.until(message => message.type === 'user_joined' && (message.user as {username: string}).username === 'friend', from);
		victim.close();
		const again = await loggedInPeer(relay.port, 'victim', {keys: victimKeys});
		const listed = (again.messages().find(message => message.type === 'welcome')!.users as Array<{username: string}>).map(user => user.username);
		expect(listed).toEqual(['chosen1', 'chosen2', 'friend', ...strangers.slice(-4)]);
		friend.close();
		await again.until(message => message.type === 'user_left' && message.username === 'friend');

		again.close();
		await relay.close();
		const db = new Database(join(dataDir, databaseFileName), {readonly: true});
		try {
			const rows = db.prepare("select chosen, count(*) as edges from contacts where owner = 'victim' group by chosen order by chosen").all();
			expect(rows).toEqual([{chosen: 0, edges: 4}, {chosen: 1, edges: 3}]);
		} finally {
			db.close();
		}
	});
});
