import {describe, expect, it} from 'vitest';
import {relayForTest} from '../helpers/chat.js';
import {change, create, readDatabase, roomUser, TestRoom} from '../helpers/room-kit.js';
import {tempDir} from '../helpers/temp-dir.js';

/**
 * Attack: an admin of its own room makes topic changes at the message rate. Each one is a log
 * entry kept as long as the room lives (up to maxRoomLog per room, maxRoomsPerUser rooms): with
 * nothing counting them, one account could make the relay keep 100 rooms × 100,000 entries of
 * some 600 bytes, gigabytes past maxStoredBytesPerSender and maxStoredBytes. Now a room's log
 * counts against its authors' stored bytes until the room is deleted.
 */
const quota = 24 * 1024;
const topic = 'x'.repeat(256);

async function topics(user: Awaited<ReturnType<typeof roomUser>>, room: TestRoom, count: number): Promise<{taken: number; code?: string}> {
	for (let index = 0; index < count; index++) {
		const answer = await change(user, room, room.entry(user, {action: 'topic', topic: `${index}${topic}`.slice(0, 256)}));
		if (answer.type !== 'room_changed') return {taken: index, code: answer.code as string};
		// read at once: nothing waits in the stream, only the log stays
		user.peer.send({type: 'room_ack', room: room.name, seq: answer.seq});
	}
	return {taken: count};
}

describe('attack: a room log that grows the relay\'s disk for free', () => {
	it('topic changes count against the author\'s stored bytes; deleting the room gives them back; a restart counts them again', async () => {
		const dataDir = tempDir();
		let relay = await relayForTest({dataDir, limits: {maxStoredBytesPerSender: quota}});
		let mallory = await roomUser(relay.port, 'mallory');
		const room = await create(mallory, 'spam');
		const first = await topics(mallory, room, 60);
		expect(first.code).toBe('quota_exceeded');
		const db = readDatabase(dataDir);
		const logBytes = db.prepare("select sum(length(entry)) from room_log where room = 'spam'").pluck().get() as number;
		db.close();
		expect(logBytes).toBeLessThanOrEqual(quota);
		// a restart counts the log again: still refused
		mallory.peer.close();
		await relay.close();
		relay = await relayForTest({dataDir, limits: {maxStoredBytesPerSender: quota}});
		mallory = await roomUser(relay.port, 'mallory', {keys: mallory.keys});
		expect((await topics(mallory, room, 1)).code).toBe('quota_exceeded');
		// the last member leaves: the room and its log go, and so does their weight
		const left = await change(mallory, room, room.entry(mallory, {action: 'leave'}));
		expect(left.type).toBe('room_changed');
		const again = await create(mallory, 'spam');
		expect((await topics(mallory, again, 5)).taken).toBe(5);
	});
});
