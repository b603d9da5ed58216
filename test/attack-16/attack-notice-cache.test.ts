import {randomBytes} from 'node:crypto';
import {expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {signInvite} from '../../source/crypto/room-log.js';
import {openPostgresStore} from '../../source/relay/postgres/pg-store.js';
import {relayForTest} from '../helpers/chat.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {create, next, roomUser, send} from '../helpers/room-kit.js';
import {countingMembers} from '../helpers/counting-store.js';
import {tempDir} from '../helpers/temp-dir.js';

const pause = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describePostgres('attack 16 (room notices): an invitation notice makes the invitee\'s relay hold the room, and reload it at every message', () => {
	const database = usePostgresDatabase();

	// Severity medium (fixed): the "invited" notice read the room through the room cache (all its
	// members) only for its topic, so the invitee's relay then held the room and, at each wake-up of
	// it (every message, up to one reload per 100 ms), read its whole member list again (1,000
	// members: ~300 KB), for a room nobody on it is a member of: what the earlier fix of attack 16
	// (room-wakeup-fanout.test.ts) took away. One invitation per relay (an admin's room_invite to
	// anyone online there, one token) bought it for as long as the room stayed in that cache.
	it('an invitation to a user on relay B, who is no member, costs B no read of the room\'s members, then or at its messages', async () => {
		const dataDir = tempDir();
		const a = await relayForTest({dataDir, store: await openPostgresStore(database.url), cluster: {url: database.url, relayId: 'nc_a', leaseMs: 10_000}});
		const counted = countingMembers(await openPostgresStore(database.url));
		const b = await relayForTest({dataDir, store: counted.store, cluster: {url: database.url, relayId: 'nc_b', leaseMs: 10_000}});
		const alice = await roomUser(a.port, 'alice1');
		const bob = await roomUser(b.port, 'bob1');
		const room = await create(alice, 'club', 'a topic');
		const nonce = randomBytes(16);
		const signature = signInvite({room: room.name, inviter: alice.name, invitee: bob.name, nonce}, alice.keys.identity.privateKey);
		alice.peer.send({type: 'room_invite', room: room.name, to: bob.name, nonce: toBase64Url(nonce), signature: toBase64Url(signature)});
		// The invitation still reaches bob at once, topic and all.
		expect(await next(bob, message => message.type === 'room_invitation' && message.room === 'club')).toMatchObject({topic: 'a topic'});
		for (let n = 1; n <= 10; n += 1) {
			await send(alice, room, `m${n}`);
			await pause(150);
		}
		expect(counted.reads.get('club') ?? 0).toBe(0);
	});
});
