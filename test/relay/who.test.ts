import {describe, expect, it} from 'vitest';
import {generateIdentity} from '../../source/crypto/identity.js';
import {relayForTest} from '../helpers/chat.js';
import {loggedInPeer, opaqueSend, type PeerMessage} from '../helpers/logged-in-peer.js';

type Peer = Awaited<ReturnType<typeof loggedInPeer>>;

async function who(peer: Peer): Promise<PeerMessage> {
	const from = peer.messages().length;
	peer.send({type: 'who'});
	return peer.until(message => message.type === 'online', from);
}

const welcome = (peer: Peer) => peer.messages().find(message => message.type === 'welcome')!;

describe('who is online (PROTOCOL.md section 4.3)', () => {
	it('lists at most whoLimit users, the most recent login first, never the asker nor a headless client; the welcome shows the same view', async () => {
		const clock = {now: Date.parse('2026-12-01T00:00:00Z')};
		const relay = await relayForTest({limits: {whoLimit: 3}, clock: () => clock.now});
		const annaKeys = generateIdentity();
		let anna = await loggedInPeer(relay.port, 'anna', {keys: annaKeys});
		for (const name of ['ben', 'cleo', 'dan']) await loggedInPeer(relay.port, name);
		const bot = await loggedInPeer(relay.port, 'bot', {roster: false});
		const eve = await loggedInPeer(relay.port, 'eve');
		expect(welcome(eve)).toMatchObject({online: ['dan', 'cleo', 'ben'], onlineCount: 6, waiting: 0});
		expect(await who(eve)).toEqual({type: 'online', users: ['dan', 'cleo', 'ben'], total: 6});
		// anna's view was made at her login, when nobody else was online: she gets it again until whoRefreshMs has passed
		expect(welcome(anna)).toMatchObject({online: []});
		expect(await who(anna)).toEqual({type: 'online', users: [], total: 6});
		clock.now += 30_000;
		expect(await who(anna)).toEqual({type: 'online', users: ['eve', 'dan', 'cleo'], total: 6});
		// a login again comes first (anna's welcome repeats the view she just got)
		anna.close();
		anna = await loggedInPeer(relay.port, 'anna', {keys: annaKeys});
		expect(welcome(anna)).toMatchObject({online: ['eve', 'dan', 'cleo'], onlineCount: 6});
		expect(await who(eve)).toEqual({type: 'online', users: ['anna', 'dan', 'cleo'], total: 6});
		// a headless client is told how many, and nobody's name
		expect(welcome(bot)).toMatchObject({online: [], onlineCount: 5});
		expect(await who(bot)).toEqual({type: 'online', users: [], total: 6});
	});

	it('a view is made fresh at most once per whoRefreshMs per account: in between, the same names and the current total', async () => {
		const clock = {now: Date.parse('2026-12-01T00:00:00Z')};
		const relay = await relayForTest({limits: {whoLimit: 2, whoRefreshMs: 10_000}, clock: () => clock.now});
		const anna = await loggedInPeer(relay.port, 'anna');
		await loggedInPeer(relay.port, 'ben');
		clock.now += 10_000;
		expect(await who(anna)).toEqual({type: 'online', users: ['ben'], total: 2});
		await loggedInPeer(relay.port, 'cleo');
		clock.now += 9_999;
		expect(await who(anna)).toEqual({type: 'online', users: ['ben'], total: 3});
		clock.now += 1;
		expect(await who(anna)).toEqual({type: 'online', users: ['cleo', 'ben'], total: 3});
		// the view is per account: dan, who just logged in, gets his own, fresh
		expect(await who(await loggedInPeer(relay.port, 'dan'))).toEqual({type: 'online', users: ['cleo', 'ben'], total: 4});
		expect(await who(anna)).toEqual({type: 'online', users: ['cleo', 'ben'], total: 4});
	});

	it('whoLimit 0 lists nobody', async () => {
		const relay = await relayForTest({limits: {whoLimit: 0}});
		await loggedInPeer(relay.port, 'anna');
		const ben = await loggedInPeer(relay.port, 'ben');
		expect(welcome(ben)).toMatchObject({online: [], onlineCount: 2});
		expect(await who(ben)).toEqual({type: 'online', users: [], total: 2});
	});

	it('a welcome says how many envelopes wait for the user; they follow it', async () => {
		const relay = await relayForTest();
		const bobKeys = generateIdentity();
		(await loggedInPeer(relay.port, 'bob', {keys: bobKeys})).close();
		const alice = await loggedInPeer(relay.port, 'alice');
		alice.send(opaqueSend('one', 'bob'), opaqueSend('two', 'bob'));
		await expect.poll(() => alice.messages().filter(message => message.type === 'accepted')).toHaveLength(2);
		const bob = await loggedInPeer(relay.port, 'bob', {keys: bobKeys});
		expect(welcome(bob)).toMatchObject({waiting: 2});
		await expect.poll(() => bob.messages().filter(message => message.type === 'message')).toHaveLength(2);
		expect(Object.keys(welcome(bob))).toEqual(['type', 'username', 'users', 'motd', 'online', 'onlineCount', 'waiting', 'prekeys']);
	});
});
