import {describe, expect, it} from 'vitest';
import type {ChatClient} from '../../source/client/chat-client.js';
import {logIn, newClient, onlineClient, record, relayForTest, type RelayAddress} from '../helpers/chat.js';
import {inject, isMember, join, roomOf, roomWith, tap, textsIn, until} from '../helpers/room-clients.js';
import {withAccount} from '../helpers/account.js';
import {tempDir} from '../helpers/temp-dir.js';

/** The same user again, in the same data directory (a restart). */
async function restarted(relay: RelayAddress, client: ChatClient, dataDir: string): Promise<ChatClient> {
	const name = client.username!;
	await client.close();
	return onlineClient(relay, name, {dataDir});
}

describe('rooms between headless clients, with a real relay (design rooms.md)', () => {
	it('create, invite, accept: a member; messages both ways, in order, with ✓ counts', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const invites = record(bob, 'room-invite');
		alice.rooms.create('Garden', 'plants');
		await until(() => isMember(alice, 'garden'), 'alice made #garden');
		expect(roomOf(alice, 'garden')).toMatchObject({topic: 'plants', creator: 'alice', admins: ['alice'], members: [{username: 'alice', admin: true}]});
		await join('garden', alice, bob);
		expect(invites.map(([invite]) => [invite.room, invite.from])).toEqual([['garden', 'alice']]);
		await until(() => roomOf(alice, 'garden')?.members.length === 2, 'alice sees bob');

		const atBob = record(bob, 'room-message');
		const atAlice = record(alice, 'room-message');
		const delivered = record(alice, 'room-delivered');
		const sent = ['one', 'two', 'three'].map(text => alice.rooms.send('garden', text));
		await until(() => atBob.length === 3, 'bob read them');
		expect(textsIn(atBob, 'garden')).toEqual(['one', 'two', 'three']);
		expect(atBob.map(([message]) => message.id)).toEqual(sent);
		bob.rooms.send('garden', 'hello alice');
		await until(() => atAlice.length === 1, 'alice read it');
		expect(atAlice[0]![0]).toMatchObject({room: 'garden', from: 'bob', text: 'hello alice'});
		await until(() => delivered.some(([delivery]) => delivery.id === sent[2] && delivery.delivered === 1), 'bob read the third');
		expect(delivered.at(-1)![0]).toMatchObject({room: 'garden', delivered: 1, of: 1});
		const history = alice.history('#garden', {limit: 10});
		expect(history.map(entry => [entry.author, entry.text])).toEqual([
			['alice', 'one'],
			['alice', 'two'],
			['alice', 'three'],
			['bob', 'hello alice'],
		]);
		expect(history[2]).toMatchObject({direction: 'out', roomDelivery: {delivered: 1, of: 1}, delivery: {state: 'delivered'}});
	});

	it('an offline member gets what was sent meanwhile in order at login, and the sender sees it read', async () => {
		const relay = await relayForTest();
		const carolDir = tempDir();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		let carol = await onlineClient(relay, 'carol', {dataDir: carolDir});
		await roomWith('dev', alice, [bob, carol]);
		await carol.close();
		const accepted = record(alice, 'room-accepted');
		const delivered = record(alice, 'room-delivered');
		const texts = Array.from({length: 20}, (_, index) => `while carol was away ${index}`);
		for (const text of texts) alice.rooms.send('dev', text);
		await until(() => accepted.length === texts.length, 'the relay took them all');
		carol = newClient(relay, {dataDir: carolDir});
		const atCarol = record(carol, 'room-message');
		await logIn(carol, 'carol');
		await until(() => atCarol.length === texts.length, 'carol read them');
		expect(textsIn(atCarol, 'dev')).toEqual(texts);
		const lastId = accepted.at(-1)![0].id;
		await until(() => delivered.some(([delivery]) => delivery.id === lastId && delivery.delivered === 2 && delivery.of === 2), 'both read the last one');
		// and nothing twice after another restart
		carol = await restarted(relay, carol, carolDir);
		const again = record(carol, 'room-message');
		alice.rooms.send('dev', 'after the restart');
		await until(() => again.length === 1, 'carol read the next one');
		expect(textsIn(again, 'dev')).toEqual(['after the restart']);
	});

	it('a removed member reads nothing sent after; a new member reads nothing sent before', async () => {
		const relay = await relayForTest();
		const bobDir = tempDir();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		const carol = await onlineClient(relay, 'carol');
		const dave = await onlineClient(relay, 'dave');
		await roomWith('dev', alice, [bob, carol]);
		const atCarol = tap(carol);
		const atBob = tap(bob);
		const bobShown = record(bob, 'room-message');
		alice.rooms.send('dev', 'before the kick');
		await until(() => bobShown.length === 1, 'bob read it');
		alice.rooms.kick('dev', 'bob');
		await until(() => roomOf(bob, 'dev')?.status === 'removed', 'bob was removed');
		await until(() => roomOf(carol, 'dev')?.members.length === 2, 'carol saw it');
		const carolShown = record(carol, 'room-message');
		alice.rooms.send('dev', 'after the kick');
		await until(() => carolShown.length === 1, 'carol read it');
		const after = atCarol.filter(frame => frame.type === 'room_message' && frame.seq > 0).slice(-1);
		// the relay sent bob no room message after his removal; and given one anyway, his client shows nothing
		const removedAt = atBob.findIndex(frame => frame.type === 'room_change' && frame.entry.action === 'remove');
		expect(removedAt).toBeGreaterThanOrEqual(0);
		expect(atBob.slice(removedAt + 1).filter(frame => frame.type === 'room_message')).toEqual([]);
		const rejected = record(bob, 'room-rejected');
		inject(bob, after);
		expect(bobShown.map(([message]) => message.text)).toEqual(['before the kick']);
		expect(rejected.length).toBeLessThanOrEqual(after.length);
		await bob.close();
		// no key of the room is left on bob's device
		const keysLeft = withAccount(bobDir, relay.fingerprint, 'bob', account => [
			account.database.prepare("SELECT COUNT(*) FROM room_chains WHERE room = 'dev'").pluck().get(),
			account.database.prepare("SELECT COUNT(*) FROM room_skipped WHERE room = 'dev'").pluck().get(),
		]);
		expect(keysLeft).toEqual([0, 0]);

		// dave joins: what was sent before his add, handed to him, opens nothing
		const before = atCarol.filter(frame => frame.type === 'room_message');
		await join('dev', alice, dave);
		const daveShown = record(dave, 'room-message');
		alice.rooms.send('dev', 'welcome dave');
		await until(() => daveShown.length === 1, 'dave read what came after his add');
		const daveRejected = record(dave, 'room-rejected');
		inject(dave, before.map(frame => ({...frame, seq: frame.seq + 1000})));
		expect(textsIn(daveShown, 'dev')).toEqual(['welcome dave']);
		expect(daveRejected.map(([rejection]) => rejection.code)).toEqual(before.map(() => 'stale_epoch'));
	});

	it('a member added while away, the room changed since, joins at its next login (the log it fetches runs past its add)', async () => {
		const relay = await relayForTest();
		const bobDir = tempDir();
		const alice = await onlineClient(relay, 'alice');
		let bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		alice.rooms.create('dev');
		await until(() => isMember(alice, 'dev'), 'alice made #dev');
		// bob accepts, but never sees his add on this connection
		const atBob = tap(bob, frame => frame.type === 'room_change');
		alice.rooms.invite('dev', 'bob');
		await until(() => bob.rooms.invites().some(invite => invite.room === 'dev'), 'bob was invited');
		bob.rooms.accept('dev');
		await until(() => atBob.some(frame => frame.type === 'room_change'), 'the relay sent bob his add');
		await bob.close();
		alice.rooms.setTopic('dev', 'changed while bob was away');
		await until(() => roomOf(alice, 'dev')?.topic === 'changed while bob was away', 'alice set the topic');
		bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		await until(() => isMember(bob, 'dev'), 'bob is in #dev');
		await until(() => roomOf(bob, 'dev')?.topic === 'changed while bob was away', 'bob applied the topic after his add');
		const shown = record(bob, 'room-message');
		alice.rooms.send('dev', 'welcome bob');
		await until(() => shown.length === 1, 'bob read it');
		expect(textsIn(shown, 'dev')).toEqual(['welcome bob']);
	});

	it('a leave stops sending until an admin client makes a new key by itself; then it goes on', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const carol = await onlineClient(relay, 'carol');
		await roomWith('dev', alice, [bob, carol]);
		const changes = record(bob, 'room-change');
		const atAlice = record(alice, 'room-message');
		carol.rooms.leave('dev');
		await until(() => roomOf(carol, 'dev')?.status === 'left', 'carol left');
		bob.rooms.send('dev', 'after carol left');
		await until(() => changes.some(([change]) => change.action === 'rekey'), 'alice made a new key');
		expect(changes.map(([change]) => [change.action, change.author])).toEqual([
			['leave', 'carol'],
			['rekey', 'alice'],
		]);
		await until(() => atAlice.length === 1, 'alice read it');
		expect(textsIn(atAlice, 'dev')).toEqual(['after carol left']);
		expect(roomOf(bob, 'dev')).toMatchObject({needsRekey: false, status: 'member', members: [{username: 'alice'}, {username: 'bob'}]});
	});

	it('two admins changing at the same moment: one is refused, tried again or dropped, and both end with the same log', async () => {
		const relay = await relayForTest();
		const alice = await onlineClient(relay, 'alice');
		const bob = await onlineClient(relay, 'bob');
		const carol = await onlineClient(relay, 'carol');
		await roomWith('dev', alice, [bob, carol]);
		alice.rooms.makeAdmin('dev', 'bob');
		await until(() => roomOf(bob, 'dev')?.admins.includes('bob') === true, 'bob is an admin');
		const errors = [...record(alice, 'room-error'), ...record(bob, 'room-error')];
		const framesAt = [tap(alice), tap(bob)];
		// both remove carol, and both set the topic, in the same turn
		alice.rooms.kick('dev', 'carol');
		bob.rooms.kick('dev', 'carol');
		alice.rooms.setTopic('dev', 'from alice');
		bob.rooms.setTopic('dev', 'from bob');
		const settled = () => {
			const [a, b] = [roomOf(alice, 'dev'), roomOf(bob, 'dev')];
			// 0 create, 1-2 adds, 3 admin, then 4 remove, 5-6 the topics (the second kick was dropped)
			return a?.index === 6 && b?.index === 6;
		};
		await until(settled, 'both applied the same changes: one removal, two topics');
		const [a, b] = [roomOf(alice, 'dev')!, roomOf(bob, 'dev')!];
		expect(a).toEqual({...b, epochAge: a.epochAge});
		expect(a.members.map(member => member.username)).toEqual(['alice', 'bob']);
		expect(['from alice', 'from bob']).toContain(a.topic);
		expect(roomOf(carol, 'dev')?.status).toBe('removed');
		expect(errors).toEqual([]);
		const refused = framesAt.flat().flatMap(frame => (frame.type === 'error' ? [frame.code] : []));
		expect(refused.length).toBeGreaterThan(0);
		expect(new Set(refused)).toEqual(new Set(['room_conflict']));
		// the room still works both ways
		const atBob = record(bob, 'room-message');
		alice.rooms.send('dev', 'still here');
		await until(() => atBob.length === 1, 'bob read it');
	});

	it('a kill between my change being committed and its item coming back does not stall the room', async () => {
		const relay = await relayForTest();
		const aliceDir = tempDir();
		let alice = await onlineClient(relay, 'alice', {dataDir: aliceDir});
		const bob = await onlineClient(relay, 'bob');
		await roomWith('dev', alice, [bob]);
		// alice's client never sees its rekey come back: it is gone before
		const dropped = tap(alice, frame => frame.type === 'room_change' && frame.entry.action === 'rekey');
		const bobChanges = record(bob, 'room-change');
		alice.rooms.rekey('dev');
		await until(() => bobChanges.some(([change]) => change.action === 'rekey'), 'the relay committed the rekey');
		await until(() => dropped.some(frame => frame.type === 'room_change' && frame.entry.action === 'rekey'), 'its item reached alice');
		alice = await restarted(relay, alice, aliceDir);
		const atAlice = record(alice, 'room-message');
		await until(() => roomOf(alice, 'dev')?.index === 2, 'alice applied the rekey after the restart');
		expect(roomOf(alice, 'dev')).toMatchObject({status: 'member'});
		bob.rooms.send('dev', 'in the new epoch');
		await until(() => atAlice.length === 1, 'alice read it');
		const atBob = record(bob, 'room-message');
		alice.rooms.send('dev', 'and back');
		await until(() => atBob.length === 1, 'bob read it');
	});

	it('the history of #name survives a restart, and search finds room text', async () => {
		const relay = await relayForTest();
		const bobDir = tempDir();
		const alice = await onlineClient(relay, 'alice');
		let bob = await onlineClient(relay, 'bob', {dataDir: bobDir});
		await roomWith('dev', alice, [bob]);
		const atBob = record(bob, 'room-message');
		alice.rooms.send('dev', 'the zucchini are ripe');
		bob.rooms.send('dev', 'bring a basket');
		await until(() => atBob.length === 1, 'bob read it');
		await until(() => bob.history('#dev', {limit: 10}).every(entry => entry.direction === 'in' || entry.delivery?.state !== 'sending'), 'the relay took bob’s');
		bob = await restarted(relay, bob, bobDir);
		expect(bob.history('#dev', {limit: 10}).map(entry => [entry.author, entry.text]).sort()).toEqual([
			['alice', 'the zucchini are ripe'],
			['bob', 'bring a basket'],
		]);
		expect(bob.historyConversations().map(row => row.conversation)).toContain('#dev');
		expect(bob.search('zucchini').map(entry => [entry.conversation, entry.text])).toEqual([['#dev', 'the zucchini are ripe']]);
		expect(alice.search('basket').map(entry => entry.conversation)).toEqual(['#dev']);
	});
});
