import {expect, it} from 'vitest';
import {openPostgresStore} from '../../source/relay/postgres/pg-store.js';
import {relayForTest} from '../helpers/chat.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {again, create, next, send, roomUser} from '../helpers/room-kit.js';
import {tempDir} from '../helpers/temp-dir.js';

/**
 * PostgreSQL's text refuses U+0000. The one free text a client may send is a room topic (signed
 * by an admin): it must go through PostgreSQL unchanged, and a NUL anywhere else must be refused
 * as a bad frame for that request only, the relay serving on.
 */
describePostgres('attack 16: a NUL byte and odd Unicode in fields that reach PostgreSQL', () => {
	const database = usePostgresDatabase();

	it('a topic with U+0000 and astral characters is stored and read back from the other relay unchanged', async () => {
		const dataDir = tempDir();
		const a = await relayForTest({dataDir, store: await openPostgresStore(database.url), cluster: {url: database.url, relayId: 'nul_a', leaseMs: 10_000}});
		const b = await relayForTest({dataDir, store: await openPostgresStore(database.url), cluster: {url: database.url, relayId: 'nul_b', leaseMs: 10_000}});
		const topic = 'a\u0000b \u{1F600} \u202E\u200B end';
		const alice = await roomUser(a.port, 'alice1');
		const room = await create(alice, 'nul', topic);
		expect(await send(alice, room, 'm1')).toMatchObject({type: 'room_accepted'});
		const onB = await again(b.port, alice);
		const from = onB.peer.messages().length;
		onB.peer.send({type: 'room_log', room: 'nul', from: 0});
		const log = await next(onB, message => message.type === 'room_log' && message.room === 'nul', from);
		expect((log.entries as Array<{topic?: string}>)[0]!.topic).toBe(topic);
		// NUL in fields that are not free text: a bad message, that connection only (each on its own).
		const frames = [
			{type: 'room_send', room: 'nul\u0000', id: 'x', epoch: 'A', n: 0, body: 'gAAAA', signature: 'A'.repeat(86)},
			{type: 'lookup', id: 'l\u00001', names: ['bob\u0000']},
			{type: 'send', id: 'i\u0000', to: 'alice1', kind: 'direct', ephemeral: 'A'.repeat(43), body: 'x\u0000'},
			{type: 'room_invite', room: 'nul', to: 'alice1', nonce: 'A\u0000', signature: 'A'.repeat(86)},
		];
		for (const [index, frame] of frames.entries()) {
			const mallory = await roomUser(b.port, `mallory${index}`);
			const from = mallory.peer.messages().length;
			mallory.peer.send(frame);
			expect(await next(mallory, message => message.type === 'error', from)).toMatchObject({code: 'bad_message'});
		}
		// Both relays still serve.
		const carol = await roomUser(a.port, 'carol1');
		const dave = await roomUser(b.port, 'dave1');
		expect(carol.peer.messages().some(message => message.type === 'welcome')).toBe(true);
		expect(dave.peer.messages().some(message => message.type === 'welcome')).toBe(true);
	});
});
