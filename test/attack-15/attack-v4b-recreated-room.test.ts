import {describe, expect, it} from 'vitest';
import {relayForTest} from '../helpers/chat.js';
import {changed, create, join, next, roomUser, send} from '../helpers/room-kit.js';

/**
 * Attack: a room is deleted (its last member left) and made again under the same name while a
 * former member stays connected. Its session kept its place in the old room's stream (seq 12,
 * say), and the new room counts from 1 again: every item up to the old place was skipped as
 * "already sent", so the member missed its own room's messages until it logged in again.
 */
describe('attack: a room deleted and made again under its name', () => {
	it('its creator, still connected, reads the new room from its first item', async () => {
		const relay = await relayForTest();
		const [alice, bob] = await Promise.all(['alice', 'bob'].map(name => roomUser(relay.port, name)));
		const old = await create(alice!, 'dev');
		for (let index = 0; index < 6; index++) expect(await send(alice!, old, `old-${index}`)).toMatchObject({type: 'room_accepted'});
		await changed(alice!, old, {action: 'leave'});
		const room = await create(alice!, 'dev');
		await join(alice!, room, bob!);
		const from = alice!.peer.messages().length;
		expect(await send(bob!, room, 'new-1')).toMatchObject({type: 'room_accepted'});
		const got = await next(alice!, message => message.type === 'room_message' && message.id === 'new-1', from, 2000).catch(() => undefined);
		expect(got).toBeDefined();
	});

	it('a member who left the old room, still connected, reads the new room once added', async () => {
		const relay = await relayForTest();
		const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map(name => roomUser(relay.port, name)));
		const old = await create(alice!, 'dev');
		await join(alice!, old, bob!);
		for (let index = 0; index < 6; index++) expect(await send(alice!, old, `old-${index}`)).toMatchObject({type: 'room_accepted'});
		await changed(bob!, old, {action: 'leave'});
		await changed(alice!, old, {action: 'leave'});
		const room = await create(carol!, 'dev');
		await join(carol!, room, bob!);
		const from = bob!.peer.messages().length;
		expect(await send(carol!, room, 'new-1')).toMatchObject({type: 'room_accepted'});
		const got = await next(bob!, message => message.type === 'room_message' && message.id === 'new-1', from, 2000).catch(() => undefined);
		expect(got).toBeDefined();
	});
});
