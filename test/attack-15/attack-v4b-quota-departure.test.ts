import {describe, expect, it} from 'vitest';
import {relayForTest} from '../helpers/chat.js';
import {change, create, join, roomUser, send, type RoomUser, type TestRoom} from '../helpers/room-kit.js';

/**
 * Attack: a member's stored bytes fill up (its messages wait for a member who never reads, or the
 * relay is half full for everyone without priority). A room_change was checked against the quota
 * like a message, so an admin could no longer remove a member (whose device was stolen, say) and
 * nobody could leave a room: the departures a full log still takes were refused by a full quota.
 * They are now taken over the quota (still charged): each lets a member go, so they are bounded.
 */
async function fill(user: RoomUser, room: TestRoom): Promise<unknown> {
	for (let index = 0; index < 100; index++) {
		const answer = await send(user, room, `${user.name}-${index}`, {body: `gAAAA${'x'.repeat(500)}`});
		if (answer.type === 'error') return answer.code;
	}
	return undefined;
}

describe('attack: a full quota keeps members in a room', () => {
	it('an admin over its quota still removes a member; a member over it still leaves; a topic is refused', async () => {
		const relay = await relayForTest({limits: {maxStoredBytesPerSender: 8 * 1024}});
		const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map(name => roomUser(relay.port, name)));
		const room = await create(alice!, 'dev');
		await join(alice!, room, bob!);
		await join(alice!, room, carol!);
		expect(await fill(alice!, room)).toBe('quota_exceeded');
		expect(await fill(carol!, room)).toBe('quota_exceeded');
		expect(await change(alice!, room, room.entry(alice!, {action: 'topic', topic: 'more'}))).toMatchObject({type: 'error', code: 'quota_exceeded'});
		expect(await change(alice!, room, room.entry(alice!, {action: 'remove', member: 'bob'}))).toMatchObject({type: 'room_changed'});
		expect(await change(carol!, room, room.entry(carol!, {action: 'leave'}))).toMatchObject({type: 'room_changed'});
		expect([...room.state!.members.keys()]).toEqual(['alice']);
	});
});
