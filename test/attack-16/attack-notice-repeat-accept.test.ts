import {randomBytes} from 'node:crypto';
import {expect, it} from 'vitest';
import {toBase64Url} from '../../source/crypto/base64url.js';
import {signAccept, signInvite} from '../../source/crypto/room-log.js';
import type {AsyncRelayStore} from '../../source/relay/async-store.js';
import {openPostgresStore} from '../../source/relay/postgres/pg-store.js';
import {relayForTest} from '../helpers/chat.js';
import {describePostgres, usePostgresDatabase} from '../helpers/postgres.js';
import {changed, create, next, roomUser, send} from '../helpers/room-kit.js';
import {tempDir} from '../helpers/temp-dir.js';

const pause = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** A real PostgreSQL store whose calls of one method are counted. */
function counting(store: AsyncRelayStore, method: string): {store: AsyncRelayStore; calls: () => number} {
	let calls = 0;
	const counted = new Proxy(store, {
		get(target, key, receiver) {
			const value = Reflect.get(target, key, receiver) as unknown;
			if (typeof value !== 'function') return value;
			if (key !== method) return (value as (...args: unknown[]) => unknown).bind(target);
			return (...args: unknown[]) => {
				calls += 1;
				return (value as (...args: unknown[]) => unknown).apply(target, args);
			};
		},
	});
	return {store: counted, calls: () => calls};
}

describePostgres('attack 16 (room notices): one acceptance sent again and again', () => {
	const database = usePostgresDatabase();

	// Severity medium (fixed): room_accept for an invitation already accepted was taken again in full,
	// for one token each: a store write (the same acceptance), and a room_join_request to every
	// admin of the room; with room notices that is also a registry read and a NOTIFY per relay
	// holding admins, a read of the invitation and of the invitee on each of those relays, and on
	// every admin's client a signature check of a request it then drops (it took the invitation the
	// first time). An invitee of a room with many admins repeated its acceptance at its full rate.
	// Now an acceptance already stored is answered with nothing: the admins heard it once, and any
	// who did not hear it read it at their next login.
	it('thirty room_accept frames for one invitation: one write, one join request to the admin on the other relay, and the add still works', async () => {
		const dataDir = tempDir();
		const a = await relayForTest({dataDir, store: await openPostgresStore(database.url), cluster: {url: database.url, relayId: 'ra_a', leaseMs: 10_000}});
		const counted = counting(await openPostgresStore(database.url), 'acceptInvite');
		const b = await relayForTest({dataDir, store: counted.store, cluster: {url: database.url, relayId: 'ra_b', leaseMs: 10_000}});
		const alice = await roomUser(a.port, 'alice1');
		const bob = await roomUser(b.port, 'bob1');
		const room = await create(alice, 'club');
		const nonce = randomBytes(16);
		const signature = signInvite({room: room.name, inviter: alice.name, invitee: bob.name, nonce}, alice.keys.identity.privateKey);
		alice.peer.send({type: 'room_invite', room: room.name, to: bob.name, nonce: toBase64Url(nonce), signature: toBase64Url(signature)});
		await next(bob, message => message.type === 'room_invitation' && message.room === 'club');
		const accept = signAccept({room: room.name, member: bob.name, nonce}, bob.keys.identity.privateKey);
		const frame = {type: 'room_accept', room: room.name, nonce: toBase64Url(nonce), accept: toBase64Url(accept)} as const;
		bob.peer.send(frame);
		await next(alice, message => message.type === 'room_join_request' && message.room === 'club');
		for (let n = 0; n < 29; n += 1) bob.peer.send(frame);
		await pause(800);
		expect(alice.peer.messages().filter(message => message.type === 'room_join_request')).toHaveLength(1);
		expect(counted.calls()).toBe(1);
		expect(bob.peer.messages().filter(message => message.type === 'error')).toHaveLength(0);
		await changed(alice, room, {action: 'add', record: bob.record, nonce, accept});
		await send(alice, room, 'hello');
		await next(bob, message => message.type === 'room_message' && message.id === 'hello');
	});
});
